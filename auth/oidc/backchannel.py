"""OIDC Back-Channel Logout 1.0: the provider tells us, server to server, that a person's session
there ended (signed out elsewhere, account disabled…); we end the sessions it opened here.

``POST /logout/oidc/<name>/backchannel`` (the ``backchannel_logout_uri`` to declare at the
provider) with a ``logout_token``, checked as the specification's section 2.6 says: signed with
the provider's published keys (an allowed algorithm, never ``none``), ``iss`` the provider's
issuer, ``aud`` our client id, ``iat`` recent, ``exp`` not past, an ``events`` member naming the
back-channel logout event, a ``sub`` or a ``sid`` (or both), no ``nonce`` (an ID token is not a
logout token), a ``jti`` never seen before (kept until the token expires).  Then
:func:`~maillage.auth.sessions.operations.end_provider_sessions` ends the sign-in that ``sid``
names, or every session of the person ``sub`` names.

The answer is 200 when the token is good (even when no session was open any more), 400 with an
OAuth error otherwise, never cached.  No CSRF token: the provider is not a browser; the signed
token is the proof.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from flask import current_app, jsonify, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from maillage.auth.oidc.blueprint import blueprint
from maillage.auth.oidc.client import ProviderUnavailable
from maillage.auth.oidc.models import UsedLogoutToken
from maillage.auth.oidc.provider import OIDCProvider
from maillage.auth.oidc.tokens import LEEWAY, InvalidToken, verify_signature
from maillage.auth.providers.registry import get_provider
from maillage.auth.sessions.operations import end_provider_sessions
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.extensions import csrf, db

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: how long after its ``iat`` a logout token is still taken (the provider sends it at once)
MAX_TOKEN_AGE = 300


def _number(claims: dict, name: str, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidToken(f"jeton de déconnexion : {name} absent ou invalide")
    return float(value)


def _check_times(claims: dict, now: float) -> None:
    issued_at = _number(claims, "iat", required=True)
    if issued_at > now + LEEWAY:
        raise InvalidToken("jeton de déconnexion : iat dans le futur")
    if issued_at < now - MAX_TOKEN_AGE - LEEWAY:
        raise InvalidToken("jeton de déconnexion : iat trop ancien")
    expires_at = _number(claims, "exp", required=False)
    if expires_at is not None and expires_at < now - LEEWAY:
        raise InvalidToken("jeton de déconnexion : exp dépassé")


def _check_audience(claims: dict, client_id: str) -> None:
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise InvalidToken("jeton de déconnexion : aud inattendu")


def _check_contents(claims: dict) -> None:
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
        raise InvalidToken("jeton de déconnexion : events sans l'évènement de déconnexion")
    subject, sid = claims.get("sub"), claims.get("sid")
    if not (isinstance(subject, str) and subject) and not (isinstance(sid, str) and sid):
        raise InvalidToken("jeton de déconnexion : ni sub ni sid")
    for name in ("sub", "sid"):
        if name in claims and not (isinstance(claims[name], str) and claims[name]):
            raise InvalidToken(f"jeton de déconnexion : {name} invalide")
    if "nonce" in claims:
        raise InvalidToken("jeton de déconnexion : nonce interdit")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise InvalidToken("jeton de déconnexion : jti absent")


def verify_logout_token(provider: OIDCProvider, token: str, now: float | None = None) -> dict:
    """The logout token's claims once every check of section 2.6 passed (the ``jti`` replay
    check apart: :func:`remember_token`); raises InvalidToken or ProviderUnavailable."""
    verified = verify_signature(token, provider.keys, provider.algorithms)
    claims = dict(verified.claims)
    if claims.get("iss") != provider.client.metadata()["issuer"]:
        raise InvalidToken("jeton de déconnexion : iss inattendu")
    _check_audience(claims, provider.client_id)
    _check_times(claims, time.time() if now is None else now)
    _check_contents(claims)
    return claims


def remember_token(provider: OIDCProvider, claims: dict) -> bool:
    """Record the token's ``jti`` until the token expires; False when it was already seen."""
    now = utcnow()
    db.session.execute(delete(UsedLogoutToken).where(UsedLogoutToken.expires_at < now))
    issued_at = float(claims["iat"])
    until = max(float(claims.get("exp") or 0), issued_at + MAX_TOKEN_AGE) + LEEWAY
    used = UsedLogoutToken(
        provider=provider.name,
        jti_hash=hashlib.sha256(claims["jti"].encode()).hexdigest(),
        expires_at=dt.datetime.fromtimestamp(until, dt.UTC),
    )
    try:
        with db.session.begin_nested():
            db.session.add(used)
    except IntegrityError:
        return False
    return True


def _answer(status: int, error: str | None = None, description: str | None = None):
    response = jsonify({"error": error, "error_description": description}) if error else ""
    response = current_app.make_response((response, status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@blueprint.route("/logout/oidc/<name>/backchannel", methods=["POST"])
def backchannel_logout(name: str):
    provider = get_provider(name, OIDCProvider)
    token = request.form.get("logout_token")
    if not token:
        return _answer(400, "invalid_request", "logout_token manquant")
    try:
        claims = verify_logout_token(provider, token)
    except (InvalidToken, ProviderUnavailable) as exc:
        current_app.logger.warning("OIDC provider %s: logout token refused: %s", name, exc)
        return _answer(400, "invalid_request", str(exc))
    if not remember_token(provider, claims):
        db.session.rollback()
        current_app.logger.warning("OIDC provider %s: logout token replayed", name)
        return _answer(400, "invalid_request", "jeton de déconnexion déjà reçu (jti)")
    ended = end_provider_sessions(provider.name, subject=claims.get("sub"), sid=claims.get("sid"))
    record(None, "auth.backchannel_logout", None, provider=provider.name, ended=ended)
    db.session.commit()
    return _answer(200)


csrf.exempt(backchannel_logout)
