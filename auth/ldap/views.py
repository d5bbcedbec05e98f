"""Signing in (and linking an account) with a directory's login and password.

Attempts are rate-limited like the local sign-in (``RATELIMIT_LOGIN``, per IP address and per
login submitted to that directory); only failed attempts count.  An unknown login and a wrong
password get the same words; a directory that cannot be reached gets its own clear message
(status 503), and the error is recorded for the admin status page.
"""

from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from maillage.auth.directory.errors import DirectoryError
from maillage.auth.identities import flow
from maillage.auth.identities.operations import find_identity, record_failure
from maillage.auth.ldap.blueprint import blueprint
from maillage.auth.ldap.forms import DirectoryLoginForm, login_form
from maillage.auth.ldap.provider import InvalidCredentials, LDAPProvider
from maillage.auth.local.forms import LoginForm
from maillage.auth.providers.operations import record_error, record_success
from maillage.auth.providers.registry import get_provider
from maillage.platform.extensions import limiter
from maillage.platform.views_util import safe_next_url

# -- rate limits (as auth.local: only failed attempts count) -----------------------------------


def _login_limits() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _count_attempt() -> None:
    g.counted_attempt = True


def _attempt_counted(_response) -> bool:
    return g.get("counted_attempt", False)


def _submitted_login() -> str:
    name = (request.view_args or {}).get("name", "")
    login = (request.form.get(f"ldap-{name}-username") or "").strip()[:256].lower()
    return f"ldap:{name}:{login}"


def _signed_in_user() -> str:
    return f"user:{getattr(current_user, 'id', '')}"


def _limited(key_func=None):
    return limiter.limit(
        _login_limits, key_func=key_func, methods=["POST"], deduct_when=_attempt_counted
    )


# -- the form on the sign-in page --------------------------------------------------------------


@blueprint.app_context_processor
def _directory_forms() -> dict:
    def ldap_login_form(provider) -> DirectoryLoginForm:
        """The form a provider's partial shows: the one just submitted, or a fresh one."""
        submitted = g.get("ldap_forms", {}).get(provider.name)
        return submitted or login_form(provider, next=safe_next_url(request.args.get("next")))

    return {"ldap_login_form": ldap_login_form}


def _render_login(provider: LDAPProvider, form: DirectoryLoginForm, status: int):
    g.ldap_forms = {provider.name: form}
    next_url = safe_next_url(form.next.data)
    page = render_template(
        "ldap/login_page.html",
        form=LoginForm(next=next_url),
        ldap_form=form,
        next_url=next_url,
    )
    return page, status


# -- checking the credentials ------------------------------------------------------------------


def _verify(provider: LDAPProvider, form: DirectoryLoginForm):
    """The IdentityInfo the form's credentials prove, or None after putting the reason on the
    form (and in the audit log, the status page); returns (info, status)."""
    login = form.username.data
    try:
        info = provider.authenticate(login, form.password.data)
    except InvalidCredentials as exc:
        _count_attempt()
        identity = find_identity(provider.name, exc.identifier) if exc.identifier else None
        record_failure(provider.name, exc.reason, identity.user if identity else None, login=login)
        form.form_errors.append(_("Identifiant ou mot de passe incorrect."))
        return None, 400
    except DirectoryError as exc:
        record_error(provider.name, str(exc))
        record_failure(provider.name, "directory_unavailable", login=login)
        form.form_errors.append(
            _(
                "L'annuaire « %(name)s » ne répond pas pour le moment. Réessayez dans quelques "
                "minutes ou utilisez un autre moyen de connexion.",
                name=provider.title,
            )
        )
        return None, 503
    record_success(provider.name)
    return info, 200


# -- views -------------------------------------------------------------------------------------


@blueprint.route("/login/ldap/<name>", methods=["GET", "POST"])
@_limited()
@_limited(key_func=_submitted_login)
def login(name: str):
    provider = get_provider(name, LDAPProvider)
    form = login_form(provider)
    next_url = safe_next_url(form.next.data or request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("portal.home"))
    if request.method == "GET":
        return redirect(url_for("auth.login", next=next_url))
    if not form.validate_on_submit():
        return _render_login(provider, form, 400)
    info, status = _verify(provider, form)
    if info is None:
        return _render_login(provider, form, status)
    return flow.finish_sign_in(provider, info, next_url, remember=form.remember.data)


@blueprint.route("/login/ldap/<name>/link", methods=["GET", "POST"])
@login_required
@_limited()
@_limited(key_func=_signed_in_user)
def link(name: str):
    """Add a directory identity to the signed-in account: the person proves they hold the
    directory account with its password, then the core links it (``flow.start_linking``)."""
    provider = get_provider(name, LDAPProvider)
    form = login_form(provider)
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate_on_submit():
            info, status = _verify(provider, form)
            if info is not None:
                flow.start_linking(provider)
                return flow.finish_sign_in(provider, info)
    page = render_template("ldap/link.html", provider=provider, ldap_form=form)
    return page, status
