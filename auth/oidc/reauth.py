"""Re-authentication before a sensitive action (deleting one's account): the provider is asked
for a new sign-in whatever session it has (``prompt=login``, and ``max_age=0`` where the
provider takes it), and the way back is believed only when the ID token's ``auth_time`` is later
than the request and names an identity of the signed-in account.

The session then remembers that ``auth_time`` (:data:`state.AUTHENTICATED_AT_KEY`); a sensitive
action asks :func:`fresh_authentication` whether it is recent enough.  An ordinary sign-in
remembers the ID token's ``auth_time`` too, when the provider sends one — never the time the
local session opened, which says nothing of when the provider last checked who it was.
"""

from __future__ import annotations

import datetime as dt
import time

from flask import current_app, flash, redirect, render_template, session
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.auth.identities.operations import SESSION_PROVIDER_KEY, record_failure
from maillage.auth.oidc import state
from maillage.auth.oidc.provider import Authentication, OIDCProvider
from maillage.auth.providers.registry import providers
from maillage.platform.audit.operations import record
from maillage.platform.extensions import db

#: seconds of clock difference tolerated between the provider and us on ``auth_time``
CLOCK_LEEWAY = 60


def _identity(provider: OIDCProvider, user) -> Identity | None:
    return db.session.scalar(
        select(Identity).where(Identity.provider == provider.name, Identity.user_id == user.id)
    )


def provider_for(user) -> OIDCProvider | None:
    """The OIDC provider ``user`` re-authenticates with: the one of this session when the
    account has an identity there, else the first configured one where it has one."""
    configured = [p for p in providers().values() if isinstance(p, OIDCProvider)]
    current = session.get(SESSION_PROVIDER_KEY)
    configured.sort(key=lambda provider: provider.name != current)
    return next((p for p in configured if _identity(p, user) is not None), None)


def fresh_authentication(user, window: dt.timedelta) -> bool | None:
    """Whether the provider authenticated the person within ``window`` (None: ``user`` has no
    identity at a configured OIDC provider; the caller decides by other means)."""
    if provider_for(user) is None:
        return None
    authenticated_at = state.authenticated_at()
    if authenticated_at is None:
        return False
    age = time.time() - authenticated_at
    return -CLOCK_LEEWAY <= age <= window.total_seconds()


def refused(provider: OIDCProvider, reason: str, message: str):
    record_failure(provider.name, "reauth", detail=reason)
    current_app.logger.warning(
        "OIDC provider %s: re-authentication refused: %s", provider.name, reason
    )
    page = render_template(
        "oidc/error.html",
        provider=provider,
        title=_("Nouvelle authentification non confirmée"),
        message=message,
    )
    return page, 403


def finish(provider: OIDCProvider, flow: state.Flow, result: Authentication):
    """Back from a re-authentication: check it, remember it, go back to the page that asked."""
    if not current_user.is_authenticated or current_user.id != flow.reauth_user_id:
        return refused(
            provider,
            "session",
            _("La session qui a demandé cette confirmation n'est plus ouverte : reconnectez-vous."),
        )
    identity = db.session.scalar(
        select(Identity).where(
            Identity.provider == provider.name, Identity.identifier == result.info.identifier
        )
    )
    if identity is None or identity.user_id != current_user.id:
        return refused(
            provider,
            "identity",
            _(
                "Vous vous êtes authentifié chez %(title)s avec un autre compte que celui de "
                "cette session : la confirmation est refusée.",
                title=provider.title,
            ),
        )
    auth_time = result.auth_time
    if auth_time is None or auth_time < flow.started_at - CLOCK_LEEWAY:
        return refused(
            provider,
            "auth_time",
            _(
                "%(title)s n'a pas confirmé une nouvelle authentification (il a réutilisé une "
                "connexion plus ancienne) : la confirmation est refusée.",
                title=provider.title,
            ),
        )
    state.note_authentication(auth_time)
    state.keep_id_token(result.id_token)
    user = current_user._get_current_object()
    record(user, "auth.reauthenticated", user, provider=provider.name)
    db.session.commit()
    flash(_("Votre identité est confirmée."), "success")
    return redirect(flow.next_url or "/")
