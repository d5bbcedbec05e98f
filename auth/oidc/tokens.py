"""Checking what the provider signed: the ID token and a userinfo response sent as a JWT.

Signatures are verified with joserfc (the JOSE library Authlib itself now builds on; the old
``authlib.jose`` module is deprecated) against the provider's published keys, or the client
secret for HS* when — and only when — the configuration allows it.  ``none`` is never accepted.
The ID token's claims are then checked with Authlib's OpenID Connect rules (``iss``, ``aud``,
``exp``, ``iat``, ``nonce``, ``azp``, ``at_hash``).
"""

from __future__ import annotations

import json

from authlib.oidc.core import CodeIDToken
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey, import_key

#: seconds of clock difference tolerated with the provider
LEEWAY = 60
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP", "HS": "oct"}


class InvalidToken(ValueError):
    """A token failed a check; the message says which (no token content in it)."""


class KeySource:
    """Where the keys come from: ``jwks(refresh)`` (the provider's key set) and the secret."""

    def __init__(self, jwks, client_secret: str) -> None:
        self.jwks = jwks
        self.client_secret = client_secret


def _header(token: str) -> dict:
    try:
        return dict(jws.extract_compact(token.encode()).headers())
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken("jeton illisible") from exc


def _candidates(header: dict, keys: KeySource, refresh: bool) -> list:
    alg = str(header.get("alg", ""))
    if alg.startswith("HS"):
        return [OctKey.import_key(keys.client_secret)]
    key_type = KEY_TYPES.get(alg[:2])
    kid = header.get("kid")
    found = []
    for data in keys.jwks(refresh).get("keys", []):
        if not isinstance(data, dict) or data.get("kty") != key_type:
            continue
        if data.get("use", "sig") != "sig" or (kid is not None and data.get("kid") != kid):
            continue
        try:
            found.append(import_key(data))
        except (JoseError, ValueError, TypeError):
            continue  # a key this library cannot read cannot have signed the token
    return found


def verify_signature(token: str, keys: KeySource, algorithms: tuple[str, ...]):
    """The verified token (``.header``, ``.claims``); raises :class:`InvalidToken`."""
    header = _header(token)
    alg = header.get("alg")
    if alg not in algorithms or alg == "none":
        raise InvalidToken(f"algorithme refusé : {alg}")
    candidates = _candidates(header, keys, refresh=False)
    if not candidates and not str(alg).startswith("HS"):
        candidates = _candidates(header, keys, refresh=True)  # the keys may have rotated
    if not candidates:
        raise InvalidToken("aucune clé du fournisseur ne correspond")
    for key in candidates:
        try:
            return jwt.decode(token, key, algorithms=[alg])
        except JoseError:
            continue
    raise InvalidToken("signature invalide")


def verify_id_token(
    token: str,
    keys: KeySource,
    algorithms: tuple[str, ...],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None = None,
) -> dict:
    """The ID token's claims once every check passed."""
    verified = verify_signature(token, keys, algorithms)
    options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    }
    params = {"nonce": nonce, "client_id": client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(verified.claims, verified.header, options, params)
    try:
        claims.validate(leeway=LEEWAY)
    except JoseError as exc:
        detail = f"{exc.error} {exc.description or ''}".strip()
        raise InvalidToken(f"ID token refusé : {detail}") from exc
    return dict(claims)


def read_userinfo(
    media_type: str,
    body: bytes,
    keys: KeySource,
    algorithms: tuple[str, ...],
    *,
    issuer: str,
    client_id: str,
    subject: str,
) -> dict:
    """The userinfo claims, from JSON or from a signed JWT (``application/jwt``), for the
    person the ID token names.  A signed response must name its issuer and us as audience
    (OIDC Core 5.3.2: a missing ``iss`` or ``aud`` is refused too)."""
    if media_type == "application/jwt":
        token = body.decode("ascii", "replace").strip()
        claims = dict(verify_signature(token, keys, algorithms).claims)
        if claims.get("iss") != issuer:
            raise InvalidToken("userinfo : émetteur inattendu")
        audience = claims.get("aud")
        if client_id not in (audience if isinstance(audience, list) else [audience]):
            raise InvalidToken("userinfo : audience inattendue")
    else:
        try:
            claims = json.loads(body)
        except ValueError as exc:
            raise InvalidToken("userinfo : réponse illisible") from exc
        if not isinstance(claims, dict):
            raise InvalidToken("userinfo : réponse illisible")
    if claims.get("sub") != subject:
        raise InvalidToken("userinfo : la personne ne correspond pas à l'ID token")
    return claims
