"""Local accounts on the web: sign-up, sign-in and out, password reset, invited accounts, the
account page.

Attempts are rate-limited (see :mod:`maillage.auth.local.limits`).  An account with a second
factor is not signed in by its password: the password step hands over to the code step
(``twofactor.code``), and so does a password reset.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, user_logged_in
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError

from maillage.auth.identities.operations import SESSION_PROVIDER_KEY, complete_login
from maillage.auth.local import operations
from maillage.auth.local.blueprint import blueprint
from maillage.auth.local.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    InvitedAccountForm,
    LanguageForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
    TokenForm,
)
from maillage.auth.local.limits import (
    count_attempt,
    limited,
    login_limits,
    reset_limits,
    reset_limits_per_address,
    signed_in_user,
    signup_limits,
    submitted_account,
    submitted_address,
)
from maillage.auth.passwords import MIN_LENGTH
from maillage.auth.providers.registry import providers
from maillage.auth.session import end_session, start_session
from maillage.auth.twofactor import pending
from maillage.communities.community.labels import ROLES
from maillage.communities.community.operations import lookup_invitation
from maillage.communities.organisations import signup as signup_organisations
from maillage.communities.users.operations import EmailTaken, end_other_sessions, set_locale
from maillage.communities.users.queries import organisations
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, safe_next_url

#: session key: when this session was opened by a sign-in (a POSIX timestamp)
SIGNED_IN_AT_KEY = "auth_signed_in_at"


@blueprint.context_processor
def _password_rules() -> dict:
    return {"min_password_length": MIN_LENGTH}


@user_logged_in.connect
def _note_sign_in_time(_app, **_extra) -> None:
    """Every sign-in, whatever the provider, goes through Flask-Login's ``login_user``."""
    session[SIGNED_IN_AT_KEY] = int(dt.datetime.now(dt.UTC).timestamp())


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
@limited(signup_limits)
def signup():
    _signup_enabled()
    if current_user.is_authenticated:
        return redirect(_next_url() or _home())
    form = SignupForm(next=_next_url())
    form.organisation.load(organisations())
    if form.validate_on_submit() and _sign_up(form):
        count_attempt()
        return redirect(url_for(".signup_sent", next=_next_url()))
    status = 400 if form.is_submitted() else 200
    page = render_template(
        "auth/signup.html", form=form, next_url=_next_url(), charter_url=_charter_url()
    )
    return page, status


def _charter_url() -> str | None:
    """The platform charter sign-up asks to accept (the legal pages may be switched off)."""
    if "legal.page" in current_app.view_functions:
        return url_for("legal.page", slug="charte")
    return None


def _proposal(form: SignupForm) -> signup_organisations.Proposal | None:
    if form.organisation.organisation is not None or not form.proposes_organisation:
        return None
    return signup_organisations.Proposal(
        form.new_organisation_name.data,
        form.new_organisation_kind.data,
        form.new_organisation_siret.data,
    )


def _sign_up(form: SignupForm) -> bool:
    """Run the sign-up; a concurrent one with the same name or address is retried once, when
    the operation's checks see it.  A proposed organisation whose SIRET is known is that one
    (said on the next page); a new one is created pending only once the account exists."""
    proposal = _proposal(form)
    known = signup_organisations.known_organisation(proposal)
    for attempt in range(2):
        try:
            user = operations.sign_up(
                form.username.data,
                form.display_name.data,
                form.email.data,
                form.password.data,
                known or form.organisation.organisation,
                next_url=_next_url(),
            )
            if user is not None:
                signup_organisations.settle_new_account(
                    user, proposal, bool(form.accept_platform_charter.data)
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
            if known is not None:
                flash(
                    _(
                        "Ce SIRET est celui de « %(name)s » : vous y êtes rattaché.",
                        name=known.name,
                    ),
                    "info",
                )
            return True
    return False


@blueprint.route("/signup/sent")
def signup_sent():
    """The one outcome of a sign-up, whether the address was new or already had an account."""
    _signup_enabled()
    return render_template("auth/signup_sent.html", next_url=_next_url())


# -- sign-in and out ---------------------------------------------------------------------------


@blueprint.route("/login", methods=["GET", "POST"])
@limited(login_limits)
@limited(login_limits, key_func=submitted_account)
def login():
    next_url = _next_url()
    if current_user.is_authenticated:
        return redirect(next_url or _home())
    form = LoginForm(next=next_url)
    if request.method == "POST" and not current_app.config["AUTH_LOCAL_ENABLED"]:
        abort(404)
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.login.data, form.password.data)
        except operations.AccountSuspended as exc:
            user = None
            form.form_errors.append(str(exc))
        if user is not None and pending.needs_second_factor(user):
            db.session.commit()  # a rehashed password
            pending.begin(user, remember=form.remember.data, next_url=next_url)
            return redirect(url_for("twofactor.code"))
        if user is not None:
            complete_login(user, "local", remember=form.remember.data)
            flash(_("Vous êtes connecté."), "success")
            return redirect(next_url or _home())
        count_attempt()
        # The same words whether the account exists or not.
        if not form.form_errors:
            form.form_errors.append(_("Identifiant ou mot de passe incorrect."))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form, next_url=next_url), status


@blueprint.route("/logout", methods=["POST"])
def logout():
    # A provider's own sign-out (OIDC end-session): read from the session before it ends.
    hooks = current_app.extensions.get("maillage.auth.logout_hooks", ())
    follow_ups = [follow_up for follow_up in (hook() for hook in hooks) if follow_up]
    end_session()
    if follow_ups:
        return follow_ups[0]()
    flash(_("Vous êtes déconnecté."), "success")
    return redirect(_home())


# -- password reset ----------------------------------------------------------------------------


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@limited(reset_limits)
@limited(reset_limits_per_address, key_func=submitted_address)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        count_attempt()
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
            return _signed_in_after_reset(user)
    status = 400 if form.is_submitted() else 200
    page = render_template("auth/reset_password.html", form=form, user=user, token=token)
    return _no_store(page, status)


def _signed_in_after_reset(user):
    """A reset proves the mailbox, not the second factor: the code is still asked."""
    if pending.needs_second_factor(user):
        db.session.commit()  # the new password and its notice e-mail
        pending.begin(user)
        flash(_("Votre mot de passe a été changé. Saisissez maintenant votre code."), "success")
        return redirect(url_for("twofactor.code"))
    complete_login(user, "local")  # commits the new password and its notice e-mail
    flash(_("Votre mot de passe a été changé. Vous êtes connecté."), "success")
    return redirect(_home())


# -- invited accounts --------------------------------------------------------------------------


@blueprint.route("/invitations/<token>/account", methods=["GET", "POST"])
@limited(signup_limits)
def invited_account(token: str):
    """Create a local account from an invitation sent to an address that has none, then join.

    Open even when sign-up is closed: an invitation is how partners come in.  Whatever is not
    this case (signed in, link no longer valid, address with an account) goes back to the
    invitation page, which explains it or offers to sign in.
    """
    if not current_app.config["AUTH_LOCAL_ENABLED"]:
        abort(404)
    invitation, state = lookup_invitation(token)
    if (
        current_user.is_authenticated
        or state != "valid"
        or operations.address_has_account(invitation.email)
    ):
        return _back_to_invitation(token)
    form = InvitedAccountForm()
    form.organisation.load(organisations())
    if form.validate_on_submit():
        count_attempt()
        created = _create_invited_account(form, token, invitation.community)
        if created is not None:
            return created
    page = render_template(
        "auth/invited_account.html",
        form=form,
        invitation=invitation,
        token=token,
        role_label=ROLES.get(invitation.role, invitation.role),
    )
    return _no_store(page, 400 if form.is_submitted() else 200)


def _back_to_invitation(token: str):
    response = redirect(url_for("community.accept_invitation", token=token), 303)
    response.headers["Cache-Control"] = "no-store"
    return response


def _create_invited_account(form: InvitedAccountForm, token: str, community):
    """The response once the account exists and has joined, or ``None`` with the form's errors
    set; a concurrent creation with the same name is retried once, when the checks see it."""
    for attempt in range(2):
        try:
            user = operations.create_invited_account(
                token,
                form.username.data,
                form.display_name.data,
                form.password.data,
                form.organisation.organisation,
                accept_charter=bool(form.accept_charter.data) if community.charter else None,
            )
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            if attempt:
                raise
        except (EmailTaken, operations.InvitationGone):
            db.session.rollback()
            return _back_to_invitation(token)  # it offers to sign in, or says what happened
        except OperationError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            return None
        else:
            complete_login(user, "local")
            flash(
                _("Votre compte est créé. Bienvenue dans « %(name)s » !", name=community.name),
                "success",
            )
            return redirect(url_for("community.show", slug=community.slug), 303)
    return None


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


def _this_session() -> dict:
    """How and when the current session was opened (for the account page)."""
    provider = session.get(SESSION_PROVIDER_KEY)
    if provider == "local":
        title = _("mot de passe")
    else:
        configured = providers().get(provider) if provider else None
        title = configured.title if configured is not None else provider
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    return {
        "provider_title": title,
        "signed_in_at": dt.datetime.fromtimestamp(signed_in_at, dt.UTC)
        if isinstance(signed_in_at, int)
        else None,
    }


def _restart_session(user) -> None:
    """A new session for this browser after every session of ``user`` was ended; it keeps
    how and when the person signed in."""
    kept = {key: session[key] for key in (SESSION_PROVIDER_KEY, SIGNED_IN_AT_KEY) if key in session}
    start_session(user)
    session.update(kept)


def _render_account(status: int = 200, new_secret: str | None = None, **forms):
    user = current_user._get_current_object()
    context = _account_forms(user) | forms
    page = render_template(
        "auth/account.html",
        tokens=_token_operations().tokens_of(user),
        new_secret=new_secret,
        this_session=_this_session(),
        **context,
    )
    return _no_store(page, status)


@blueprint.route("/account")
@login_required
def account():
    return _render_account()


@blueprint.route("/account/password", methods=["POST"])
@login_required
@limited(login_limits, key_func=signed_in_user)
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(prefix="password")
    if not form.validate_on_submit():
        return _render_account(400, password_form=form)
    try:
        operations.change_password(user, form.current.data, form.password.data)
    except OperationError as exc:
        count_attempt()
        db.session.rollback()
        form.current.errors.append(str(exc))
        return _render_account(400, password_form=form)
    _restart_session(user)  # the password change ended every session, this one included
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
    question = _("Fermer toutes vos autres sessions ?")
    details = _("Les autres appareils connectés à votre compte seront déconnectés.")
    if (asked := confirmation_page(question, details, _("Fermer les sessions"))) is not None:
        return asked
    end_other_sessions(user)
    _restart_session(user)
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
    question = _("Révoquer le jeton « %(name)s » ?", name=token.name)
    details = _("Les programmes qui l'utilisent n'auront plus accès à l'API.")
    if (asked := confirmation_page(question, details, _("Révoquer"))) is not None:
        return asked
    tokens.revoke_token(token, user)
    db.session.commit()
    flash(_("Le jeton « %(name)s » est révoqué.", name=token.name), "success")
    return redirect(url_for(".account"))
