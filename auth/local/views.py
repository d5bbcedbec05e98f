"""Local accounts on the web: sign-up, sign-in and out, password reset, the account page.

Attempts are rate-limited with Flask-Limiter (``RATELIMIT_LOGIN`` and friends) per IP address and
per account or address; only attempts that could be abused count (a failed sign-in, a sign-up
or reset request that sends an e-mail), so a busy office behind one address is not locked out by
its colleagues' successful sign-ins.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError

from maillage.auth.identities.operations import complete_login
from maillage.auth.local import operations
from maillage.auth.local.blueprint import blueprint
from maillage.auth.local.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
    TokenForm,
)
from maillage.auth.passwords import MIN_LENGTH
from maillage.auth.session import end_session, start_session
from maillage.communities.users.operations import end_other_sessions, normalise_email, set_locale
from maillage.communities.users.queries import organisations
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db, limiter
from maillage.platform.views_util import safe_next_url


@blueprint.context_processor
def _password_rules() -> dict:
    return {"min_password_length": MIN_LENGTH}


# -- rate limits -------------------------------------------------------------------------------


def _login_limits() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _signup_limits() -> str:
    return current_app.config.get("RATELIMIT_SIGNUP") or _login_limits()


def _reset_limits() -> str:
    return current_app.config.get("RATELIMIT_PASSWORD_RESET") or _login_limits()


def _reset_limits_per_address() -> str:
    return current_app.config.get("RATELIMIT_PASSWORD_RESET_PER_ADDRESS") or "5 per hour"


def _count_attempt() -> None:
    """Mark this request as one that counts against the rate limits of its view."""
    g.counted_attempt = True


def _attempt_counted(_response) -> bool:
    return g.get("counted_attempt", False)


def _submitted_account() -> str:
    """The account a sign-in names, so a username and its e-mail address share one budget."""
    login = (request.form.get("login") or "").strip()[:254]
    user = operations.find_local_account(login) if login else None
    return f"user:{user.id}" if user is not None else f"login:{login.lower()}"


def _submitted_address() -> str:
    return "address:" + _normalised_or_blank((request.form.get("email") or "")[:254])


def _normalised_or_blank(email: str) -> str:
    try:
        return normalise_email(email)
    except OperationError:
        return ""


def _signed_in_user() -> str:
    return f"user:{getattr(current_user, 'id', '')}"


def _limited(limits, key_func=None):
    """A limit on POST requests of a view, counting only the attempts it marks."""
    return limiter.limit(limits, key_func=key_func, methods=["POST"], deduct_when=_attempt_counted)


# -- helpers -----------------------------------------------------------------------------------


def _next_url() -> str | None:
    return safe_next_url(request.values.get("next"))


def _home() -> str:
    return url_for("portal.home")


def _signup_enabled() -> None:
    if not current_app.config["SIGNUP_ENABLED"]:
        abort(404)


def _no_store(page: str, status: int = 200):
    """Pages carrying a secret (reset token, new API token) stay out of caches and history."""
    response = current_app.make_response((page, status))
    response.headers["Cache-Control"] = "no-store"
    return response


# -- sign-up -----------------------------------------------------------------------------------


@blueprint.route("/signup", methods=["GET", "POST"])
@_limited(_signup_limits)
def signup():
    _signup_enabled()
    if current_user.is_authenticated:
        return redirect(_next_url() or _home())
    form = SignupForm(next=_next_url())
    form.organisation.load(organisations())
    if form.validate_on_submit() and _sign_up(form):
        _count_attempt()
        return redirect(url_for(".signup_sent", next=_next_url()))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/signup.html", form=form, next_url=_next_url()), status


def _sign_up(form: SignupForm) -> bool:
    """Run the sign-up; a concurrent one with the same name or address is retried once, when
    the operation's checks see it."""
    for attempt in range(2):
        try:
            operations.sign_up(
                form.username.data,
                form.display_name.data,
                form.email.data,
                form.password.data,
                form.organisation.organisation,
                next_url=_next_url(),
            )
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            if attempt:
                raise
        except OperationError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            return False
        else:
            return True
    return False


@blueprint.route("/signup/sent")
def signup_sent():
    """The one outcome of a sign-up, whether the address was new or already had an account."""
    _signup_enabled()
    return render_template("auth/signup_sent.html", next_url=_next_url())


# -- sign-in and out ---------------------------------------------------------------------------


@blueprint.route("/login", methods=["GET", "POST"])
@_limited(_login_limits)
@_limited(_login_limits, key_func=_submitted_account)
def login():
    next_url = _next_url()
    if current_user.is_authenticated:
        return redirect(next_url or _home())
    form = LoginForm(next=next_url)
    if request.method == "POST" and not current_app.config["AUTH_LOCAL_ENABLED"]:
        abort(404)
    if form.validate_on_submit():
        user = operations.authenticate(form.login.data, form.password.data)
        if user is not None:
            complete_login(user, "local", remember=form.remember.data)
            flash(_("Vous êtes connecté."), "success")
            return redirect(next_url or _home())
        _count_attempt()
        # The same words whether the account exists or not.
        form.form_errors.append(_("Identifiant ou mot de passe incorrect."))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form, next_url=next_url), status


@blueprint.route("/logout", methods=["POST"])
def logout():
    end_session()
    flash(_("Vous êtes déconnecté."), "success")
    return redirect(_home())


# -- password reset ----------------------------------------------------------------------------


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@_limited(_reset_limits)
@_limited(_reset_limits_per_address, key_func=_submitted_address)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        _count_attempt()
        operations.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("auth/forgot_password_sent.html", email=form.email.data)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = operations.user_for_reset_token(token)
    if user is None:
        return _no_store(render_template("auth/reset_password_invalid.html"), 400)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            operations.reset_password(user, form.password.data)
        except OperationError as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
        else:
            complete_login(user, "local")  # commits the new password and its notice e-mail
            flash(_("Votre mot de passe a été changé. Vous êtes connecté."), "success")
            return redirect(_home())
    status = 400 if form.is_submitted() else 200
    page = render_template("auth/reset_password.html", form=form, user=user, token=token)
    return _no_store(page, status)


# -- account -----------------------------------------------------------------------------------


def _token_operations():
    """Imported on use: personal API tokens belong to ``auth.tokens``."""
    from maillage.auth.tokens import operations as token_operations

    return token_operations


def _account_forms(user) -> dict[str, FlaskForm]:
    return {
        "password_form": ChangePasswordForm(prefix="password"),
        "language_form": LanguageForm(prefix="language", data={"locale": user.locale or ""}),
        "token_form": TokenForm(prefix="token"),
    }


def _render_account(status: int = 200, new_secret: str | None = None, **forms):
    user = current_user._get_current_object()
    context = _account_forms(user) | forms
    page = render_template(
        "auth/account.html",
        tokens=_token_operations().tokens_of(user),
        new_secret=new_secret,
        **context,
    )
    return _no_store(page, status)


@blueprint.route("/account")
@login_required
def account():
    return _render_account()


@blueprint.route("/account/password", methods=["POST"])
@login_required
@_limited(_login_limits, key_func=_signed_in_user)
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(prefix="password")
    if not form.validate_on_submit():
        return _render_account(400, password_form=form)
    try:
        operations.change_password(user, form.current.data, form.password.data)
    except OperationError as exc:
        _count_attempt()
        db.session.rollback()
        form.current.errors.append(str(exc))
        return _render_account(400, password_form=form)
    start_session(user)  # the password change ended every session, this one included
    flash(_("Votre mot de passe a été changé. Vos autres sessions sont fermées."), "success")
    return redirect(url_for(".account"))


@blueprint.route("/account/language", methods=["POST"])
@login_required
def account_language():
    user = current_user._get_current_object()
    form = LanguageForm(prefix="language")
    if not form.validate_on_submit():
        return _render_account(400, language_form=form)
    set_locale(user, form.locale.data or None)
    db.session.commit()
    flash(_("Votre préférence de langue est enregistrée."), "success")
    return redirect(url_for(".account"))


@blueprint.route("/account/sessions/end", methods=["POST"], endpoint="end_other_sessions")
@login_required
def sign_out_elsewhere():
    user = current_user._get_current_object()
    end_other_sessions(user)
    start_session(user)
    flash(_("Vos autres sessions sont fermées ; celle-ci reste ouverte."), "success")
    return redirect(url_for(".account"))


@blueprint.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    user = current_user._get_current_object()
    form = TokenForm(prefix="token")
    if not form.validate_on_submit():
        return _render_account(400, token_form=form)
    try:
        _token, secret = _token_operations().create_token(user, form.name.data)
    except OperationError as exc:
        db.session.rollback()
        form.name.errors.append(str(exc))
        return _render_account(400, token_form=form)
    db.session.commit()
    # Shown on this response only, never stored in the session or anywhere readable later.
    return _render_account(201, new_secret=secret)


@blueprint.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    user = current_user._get_current_object()
    tokens = _token_operations()
    token = tokens.token_of(user, token_id)  # only the person's own tokens are found
    if token is None:
        abort(404)
    tokens.revoke_token(token, user)
    db.session.commit()
    flash(_("Le jeton « %(name)s » est révoqué.", name=token.name), "success")
    return redirect(url_for(".account"))
