"""What the browser's session keeps between the redirect to the provider and the way back.

Only what the protocol needs: per pending sign-in its ``state``, ``nonce``, PKCE
``code_verifier``, where to go next and, for a re-authentication, whose account it confirms; the
ID token of the session (the provider's sign-out needs it as ``id_token_hint``) and when the
provider last authenticated the person (its ``auth_time``); the ``state`` of a pending sign-out.
Never an access token or a secret.  A ``state`` is used once: the callback takes it out of the
session, so a replayed callback finds nothing.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import asdict, dataclass

from flask import session

FLOWS_KEY = "oidc_flows"
ID_TOKEN_KEY = "oidc_id_token"  # noqa: S105 - a session key, not a secret
LOGOUT_KEY = "oidc_logout"
#: when the session's provider last authenticated the person (its ``auth_time``, POSIX time)
AUTHENTICATED_AT_KEY = "oidc_authenticated_at"
#: sign-ins pending at once in one browser (tabs); the oldest are forgotten
MAX_FLOWS = 3
#: seconds a sign-in may take at the provider
FLOW_TTL = 900


@dataclass(frozen=True)
class Flow:
    provider: str
    state: str
    nonce: str
    code_verifier: str
    next_url: str | None
    started_at: float
    #: a re-authentication of this signed-in account (None: a sign-in or a link)
    reauth_user_id: int | None = None


def new_flow(provider: str, next_url: str | None, reauth_user_id: int | None = None) -> Flow:
    flow = Flow(
        provider=provider,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        next_url=next_url,
        started_at=time.time(),
        reauth_user_id=reauth_user_id,
    )
    flows = dict(session.get(FLOWS_KEY) or {})
    flows[flow.state] = asdict(flow)
    recent = sorted(flows.values(), key=lambda item: item["started_at"])[-MAX_FLOWS:]
    session[FLOWS_KEY] = {item["state"]: item for item in recent}
    return flow


def pop_flow(provider: str, state: str | None) -> Flow | None:
    """The pending sign-in ``state`` names, taken out of the session (None: unknown, used,
    expired or started for another provider)."""
    flows = dict(session.get(FLOWS_KEY) or {})
    data = flows.pop(state, None) if state else None
    if flows:
        session[FLOWS_KEY] = flows
    else:
        session.pop(FLOWS_KEY, None)
    if not data:
        return None
    flow = Flow(**data)
    if flow.provider != provider or time.time() - flow.started_at > FLOW_TTL:
        return None
    return flow


def keep_id_token(id_token: str) -> None:
    session[ID_TOKEN_KEY] = id_token


def id_token() -> str | None:
    return session.get(ID_TOKEN_KEY)


def note_authentication(auth_time: int | None) -> None:
    """Remember when the provider says it authenticated the person (nothing said: forget)."""
    if auth_time is None:
        session.pop(AUTHENTICATED_AT_KEY, None)
    else:
        session[AUTHENTICATED_AT_KEY] = int(auth_time)


def authenticated_at() -> int | None:
    value = session.get(AUTHENTICATED_AT_KEY)
    return value if isinstance(value, int) else None


def start_logout(provider: str) -> str:
    state = secrets.token_urlsafe(32)
    session[LOGOUT_KEY] = {"provider": provider, "state": state}
    return state


def finish_logout(provider: str, state: str | None) -> bool:
    """Whether ``state`` is the one of the sign-out started here with ``provider`` (used once)."""
    pending = session.pop(LOGOUT_KEY, None) or {}
    return bool(
        state
        and pending.get("provider") == provider
        and hmac.compare_digest(str(pending.get("state", "")), state)
    )
