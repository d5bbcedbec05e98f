"""The second factor on the web: the code step of sign-in, and its page in the account.

The code step (``/login/code``) follows a right password for an account with TOTP: the person is
not signed in until the code is right (see :mod:`maillage.auth.twofactor.pending`).  When the
instance requires a second factor for local accounts (``AUTH_REQUIRE_TOTP_FOR_LOCAL``), a session
opened with a password by an account without one reaches nothing but its set-up.
"""

from __future__ import annotations

import segno
from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from maillage.auth.identities.operations import (
    SESSION_PROVIDER_KEY,
    complete_login,
    record_failure,
)
from maillage.auth.local.limits import count_attempt, limited, login_limits, signed_in_user
from maillage.auth.twofactor import operations, pending
from maillage.auth.twofactor.blueprint import blueprint
from maillage.auth.twofactor.forms import CodeForm, DisableForm, RegenerateForm, SetupForm
from maillage.platform.errors import OperationError, render_error
from maillage.platform.extensions import db

#: what a session that must set up its second factor may still reach
OPEN_ENDPOINTS = frozenset(
    {"static", "auth.logout", "portal.theme_css", "portal.set_language", "health.health"}
)


SET_UP_FIRST = _l("Configurez d'abord la double authentification de votre compte.")


def _no_store(page: str, status: int = 200):
    """Pages with a secret (key, recovery codes) stay out of caches and history."""
    response = current_app.make_response((page, status))
    response.headers["Cache-Control"] = "no-store"
    return response


def _home() -> str:
    return url_for("portal.home")


# -- a second factor required ------------------------------------------------------------------


def _signed_in_with_password() -> bool:
    provider = session.get(SESSION_PROVIDER_KEY)
    # A session without the key (opened before it existed) is a password one if anything.
    return provider == "local" or (provider is None and bool(current_user.password_hash))


def _must_set_up_second_factor() -> bool:
    """A session opened with a password, by an account without a second factor, on an
    instance that requires one, asking for more than the set-up or the way out."""
    if not current_app.config["AUTH_REQUIRE_TOTP_FOR_LOCAL"]:
        return False
    if request.endpoint is None or request.endpoint in OPEN_ENDPOINTS:
        return False
    if request.blueprint == blueprint.name or not current_user.is_authenticated:
        return False
    return current_user.totp_enabled_at is None and _signed_in_with_password()


@blueprint.before_app_request
def require_second_factor():
    if not _must_set_up_second_factor():
        return None
    if request.path.startswith("/api/"):
        return render_error(403, SET_UP_FIRST)
    return redirect(url_for("twofactor.setup"))


# -- sign-in: the code step --------------------------------------------------------------------


def _pending_account() -> str:
    return f"pending:{pending.pending_user_id()}"


@blueprint.route("/login/code", methods=["GET", "POST"])
@limited(login_limits)
@limited(login_limits, key_func=_pending_account)
def code():
    if current_user.is_authenticated:
        return redirect(_home())
    waiting = pending.current()
    if waiting is None:
        pending.clear()
        flash(
            _("Votre connexion a expiré : saisissez de nouveau votre identifiant et mot de passe."),
            "error",
        )
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        user = waiting.user
        kind = operations.check_second_factor(user, form.code.data)
        if kind is not None:
            complete_login(user, "local", remember=waiting.remember)  # a new session; commits
            flash(_("Vous êtes connecté."), "success")
            if kind == "recovery":
                _warn_recovery_codes_left(user)
            return redirect(waiting.next_url or _home())
        count_attempt()
        record_failure("local", "bad_code", user)
        form.code.errors.append(str(operations.WRONG_CODE))
    status = 400 if form.is_submitted() else 200
    return _no_store(render_template("auth/twofactor/code.html", form=form), status)


def _warn_recovery_codes_left(user) -> None:
    left = operations.remaining_recovery_codes(user)
    flash(
        _(
            "Vous avez utilisé un code de secours ; il vous en reste %(n)d. Générez-en de "
            "nouveaux depuis votre compte si besoin.",
            n=left,
        ),
        "info",
    )


# -- account: status, set-up, removal ----------------------------------------------------------


def _user():
    return current_user._get_current_object()


def _render_manage(status: int = 200, **forms):
    user = _user()
    context = {
        "disable_form": DisableForm(prefix="disable"),
        "regenerate_form": RegenerateForm(prefix="regenerate"),
    } | forms
    page = render_template(
        "auth/twofactor/manage.html",
        has_password=bool(user.local and user.password_hash),
        remaining=operations.remaining_recovery_codes(user) if user.totp_enabled_at else 0,
        **context,
    )
    return _no_store(page, status)


@blueprint.route("/account/two-factor")
@login_required
def manage():
    return _render_manage()


def _qr_code(uri: str) -> str:
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _grouped(secret: str) -> str:
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def _render_setup(form: SetupForm, status: int = 200):
    user = _user()
    secret = operations.pending_secret(user)
    db.session.commit()
    page = render_template(
        "auth/twofactor/setup.html",
        form=form,
        qr_code=_qr_code(operations.provisioning_uri(user, secret)),
        key=_grouped(secret),
        required=current_app.config["AUTH_REQUIRE_TOTP_FOR_LOCAL"],
    )
    return _no_store(page, status)


def _setup_refused(exc: OperationError):
    db.session.rollback()
    flash(str(exc), "error")
    return redirect(url_for(".manage"))


@blueprint.route("/account/two-factor/setup", methods=["GET", "POST"])
@login_required
@limited(login_limits, key_func=signed_in_user)
def setup():
    user = _user()
    form = SetupForm()
    try:
        if not form.validate_on_submit():
            return _render_setup(form, 400 if form.is_submitted() else 200)
        codes = operations.enable(user, form.code.data)
    except operations.WrongCode as exc:
        db.session.rollback()
        count_attempt()
        form.code.errors.append(str(exc))
        return _render_setup(form, 400)
    except OperationError as exc:
        return _setup_refused(exc)
    db.session.commit()
    return _show_recovery_codes(codes, enabled=True)


def _show_recovery_codes(codes: list[str], enabled: bool):
    page = render_template("auth/twofactor/recovery_codes.html", codes=codes, enabled=enabled)
    return _no_store(page, 201 if enabled else 200)


@blueprint.route("/account/two-factor/setup/new-key", methods=["POST"])
@login_required
def new_key():
    try:
        operations.restart_setup(_user())
    except OperationError as exc:
        return _setup_refused(exc)
    db.session.commit()
    flash(_("Une nouvelle clé a été créée : l'ancienne ne servira pas."), "success")
    return redirect(url_for(".setup"))


@blueprint.route("/account/two-factor/disable", methods=["POST"])
@login_required
@limited(login_limits, key_func=signed_in_user)
def disable():
    form = DisableForm(prefix="disable")
    if not form.validate_on_submit():
        return _render_manage(400, disable_form=form)
    try:
        operations.disable(_user(), form.password.data, form.code.data)
    except OperationError as exc:
        db.session.rollback()
        count_attempt()
        form.form_errors.append(str(exc))
        return _render_manage(400, disable_form=form)
    db.session.commit()
    flash(_("La double authentification est désactivée."), "success")
    return redirect(url_for(".manage"))


@blueprint.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
@limited(login_limits, key_func=signed_in_user)
def regenerate():
    form = RegenerateForm(prefix="regenerate")
    if not form.validate_on_submit():
        return _render_manage(400, regenerate_form=form)
    try:
        codes = operations.regenerate_recovery_codes(_user(), form.code.data)
    except OperationError as exc:
        db.session.rollback()
        count_attempt()
        form.code.errors.append(str(exc))
        return _render_manage(400, regenerate_form=form)
    db.session.commit()
    return _show_recovery_codes(codes, enabled=False)
