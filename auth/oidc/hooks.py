"""What the OIDC package adds to the rest of the application.

- The provider's own sign-out: the local ``auth.logout`` view calls every hook registered under
  :data:`LOGOUT_HOOKS_KEY` before the session ends; ours, for a session opened through an OIDC
  provider, answers with a follow-up that sends the browser to the provider's
  ``end_session_endpoint`` (RP-initiated logout) once the local session is gone.
- The Content-Security-Policy: ``form-action 'self'`` would stop that sign-out (Chrome applies
  ``form-action`` to the redirects that follow a form's POST), and the account page's "link"
  forms: the configured providers' origins are added to ``form-action``.
"""

from __future__ import annotations

import re

from flask import flash, redirect, session, url_for
from flask_babel import gettext as _

from maillage.auth.identities.operations import SESSION_PROVIDER_KEY
from maillage.auth.oidc import state
from maillage.auth.oidc.blueprint import blueprint
from maillage.auth.oidc.client import ProviderUnavailable
from maillage.auth.oidc.provider import OIDCProvider
from maillage.auth.oidc.urls import logout_callback_url
from maillage.auth.providers.operations import record_error
from maillage.auth.providers.registry import providers

#: app.extensions key: callables run by the local logout view before the session ends; each
#: returns None or a follow-up (called once the session has ended) returning the response
LOGOUT_HOOKS_KEY = "maillage.auth.logout_hooks"
FORM_ACTION_RE = re.compile(r"(form-action)([^;]*)")


@blueprint.record_once
def _register_logout_hook(setup_state) -> None:
    setup_state.app.extensions.setdefault(LOGOUT_HOOKS_KEY, []).append(provider_logout)


def provider_logout():
    """For a session opened through an OIDC provider: the follow-up sending the browser to the
    provider's sign-out (read now, before the local session ends)."""
    provider = providers().get(session.get(SESSION_PROVIDER_KEY) or "")
    if not isinstance(provider, OIDCProvider):
        return None
    id_token = state.id_token()

    def follow_up():
        logout_state = state.start_logout(provider.name)
        try:
            url = provider.client.logout_url(
                id_token, logout_state, logout_callback_url(provider.name)
            )
        except ProviderUnavailable as exc:
            record_error(provider.name, str(exc))
            flash(
                _(
                    "Vous êtes déconnecté de cette plateforme, mais %(title)s n'a pas pu être "
                    "joint : fermez votre navigateur pour terminer votre session chez lui.",
                    title=provider.title,
                ),
                "error",
            )
            url = None
        if url is None:
            session.pop(state.LOGOUT_KEY, None)
            flash(_("Vous êtes déconnecté."), "success")
            return redirect(url_for("portal.home"))
        return redirect(url)

    return follow_up


@blueprint.after_app_request
def allow_provider_form_actions(response):
    policy = response.headers.get("Content-Security-Policy")
    if not policy or "form-action" not in policy:
        return response
    origins: set[str] = set()
    for provider in providers().values():
        if isinstance(provider, OIDCProvider):
            origins |= provider.form_action_origins()
    if not origins:
        return response

    def widen(match: re.Match) -> str:
        present = match.group(2).split()
        return " ".join([match.group(1), *present, *sorted(origins - set(present))])

    response.headers["Content-Security-Policy"] = FORM_ACTION_RE.sub(widen, policy, count=1)
    return response
