"""The ways a person signs in, on the web: their identities page, and the providers page of
the platform administration.

Linking starts at the provider's own endpoint (each provider type exposes it through
:meth:`~maillage.auth.providers.base.AuthProvider.link_url`); unlinking is here, through
:func:`~maillage.auth.identities.operations.unlink_identity`, which keeps the last way in.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from time import monotonic

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select

from maillage.auth.identities.blueprint import blueprint
from maillage.auth.identities.models import Identity
from maillage.auth.identities.operations import unlink_identity
from maillage.auth.providers.base import AuthProvider
from maillage.auth.providers.operations import record_error, record_success, statuses
from maillage.auth.providers.registry import providers
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer

#: seconds the providers page waits for all live checks together
DEFAULT_CHECK_TIMEOUT = 5.0
MASK = "••••••"
#: setting names whose values are never shown (client secrets, bind passwords, keys…)
SECRET_NAME = re.compile(r"secret|password|passwd|token|key|credential", re.IGNORECASE)
#: ``scheme://user:password@host`` in a URL setting
URL_PASSWORD = re.compile(r"(//[^/:@\s]+:)[^/@\s]+@")


def _no_store(page: str, status: int = 200):
    response = current_app.make_response((page, status))
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the person's identities -------------------------------------------------------------------


def _identities_of(user: User) -> list[Identity]:
    return list(
        db.session.scalars(
            select(Identity)
            .where(Identity.user_id == user.id)
            .order_by(Identity.created_at, Identity.id)
        )
    )


def _link_buttons(linked: set[str]) -> list[tuple[AuthProvider, str]]:
    """A button per configured provider not yet linked, for types that can link."""
    buttons = []
    for name, provider in providers().items():
        if name in linked:
            continue
        try:
            buttons.append((provider, provider.link_url()))
        except NotImplementedError:
            continue
    return buttons


def _render_identities(status: int = 200, error: str | None = None):
    user = current_viewer()
    identities = _identities_of(user)
    configured = providers()
    page = render_template(
        "auth/identities.html",
        identities=identities,
        titles={name: provider.title for name, provider in configured.items()},
        link_buttons=_link_buttons({identity.provider for identity in identities}),
        has_password=bool(user.password_hash),
        error=error,
    )
    return _no_store(page, status)


@blueprint.route("/account/identities")
@login_required
def index():
    return _render_identities()


@blueprint.route("/account/identities/<int:identity_id>/unlink", methods=["POST"])
@login_required
def unlink(identity_id: int):
    user = current_viewer()
    identity = db.session.get(Identity, identity_id)
    if identity is None or identity.user_id != user.id:
        abort(404)  # another person's identity is not even said to exist
    title = _provider_title(identity.provider)
    question = _("Délier l'identité « %(name)s » de votre compte ?", name=title)
    if (asked := confirmation_page(question, confirm_label=_("Délier"))) is not None:
        return asked
    try:
        unlink_identity(user, identity)
    except OperationError as exc:
        db.session.rollback()
        return _render_identities(400, error=str(exc))
    db.session.commit()
    flash(_("L'identité « %(name)s » n'est plus liée à votre compte.", name=title), "success")
    return redirect(url_for(".index"), 303)


def _provider_title(name: str) -> str:
    provider = providers().get(name)
    return provider.title if provider is not None else name


# -- administration: the configured providers --------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str = ""


def _mask_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)


def _secret_values(value, name: str = "") -> list[str]:
    """Every value held under a secret-looking name, however deep (to scrub error messages)."""
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _secret_values(item, str(key))]
    if isinstance(value, (list, tuple)):
        return [found for item in value for found in _secret_values(item, name)]
    if SECRET_NAME.search(name) and value not in (None, "") and len(str(value)) >= 3:
        return [str(value)]
    return []


def _shown(value, name: str = ""):
    """A setting as the page shows it: secrets masked, however deep."""
    if isinstance(value, dict):
        return {key: _shown(item, str(key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown(item, name) for item in value]
    if SECRET_NAME.search(name) and value not in (None, "", False):
        return MASK
    return _mask_text(value, []) if isinstance(value, str) else value


def _as_text(value) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _check_in_context(app, provider: AuthProvider) -> None:
    with app.app_context():
        provider.check()


def _live_checks(configured: dict[str, AuthProvider]) -> dict[str, CheckResult]:
    """Contact every provider at once; whatever does not answer in time is reported so."""
    if not configured:
        return {}
    timeout = float(current_app.config.get("AUTH_PROVIDER_CHECK_TIMEOUT", DEFAULT_CHECK_TIMEOUT))
    app = current_app._get_current_object()
    executor = ThreadPoolExecutor(max_workers=min(8, len(configured)))
    futures = {
        name: executor.submit(_check_in_context, app, provider)
        for name, provider in configured.items()
    }
    deadline = monotonic() + timeout
    results = {}
    for name, future in futures.items():
        secrets = _secret_values(configured[name].settings)
        try:
            future.result(timeout=max(0.0, deadline - monotonic()))
        except FutureTimeout:
            message = _("Pas de réponse en %(seconds)s s.", seconds=f"{timeout:g}")
            results[name] = CheckResult(False, message)
        except Exception as exc:  # any failure is what the page reports
            text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            results[name] = CheckResult(False, _mask_text(text, secrets))
        else:
            results[name] = CheckResult(True)
    executor.shutdown(wait=False, cancel_futures=True)
    return results


def _remember(checks: dict[str, CheckResult]) -> None:
    """Keep what the live checks found as each provider's last known status."""
    for name, result in checks.items():
        if result.ok:
            record_success(name)
            db.session.commit()
        else:
            record_error(name, str(result.message))  # commits on its own


def _local_accounts() -> dict:
    with_password = select(func.count(User.id)).where(
        User.local.is_(True), User.password_hash.is_not(None)
    )
    return {
        "enabled": current_app.config["AUTH_LOCAL_ENABLED"],
        "signup": current_app.config["SIGNUP_ENABLED"],
        "require_totp": current_app.config["AUTH_REQUIRE_TOTP_FOR_LOCAL"],
        "with_password": db.session.scalar(with_password),
        "with_totp": db.session.scalar(with_password.where(User.totp_enabled_at.is_not(None))),
    }


HIDDEN_SETTINGS = frozenset({"name", "type", "title"})


@blueprint.route("/admin/auth/providers")
@login_required
def admin_providers():
    if not can(current_viewer(), "admin"):
        abort(403)
    configured = providers()
    checks = _live_checks(configured)
    _remember(checks)
    rows = [
        {
            "provider": provider,
            "check": checks[name],
            "settings": {
                key: _as_text(_shown(value, key))
                for key, value in provider.settings.items()
                if key not in HIDDEN_SETTINGS
            },
        }
        for name, provider in configured.items()
    ]
    page = render_template(
        "auth/admin_providers.html",
        rows=rows,
        stored=statuses(),
        local=_local_accounts(),
    )
    return _no_store(page)
