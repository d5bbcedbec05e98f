"""Between the password and the code: who is half-way through signing in.

Once the password is right for an account with a second factor, the session holds only a signed
marker (user id, session version, "remember me", where to go next) that expires after
:data:`MAX_AGE` seconds.  The person is not logged in: Flask-Login knows nothing of them until
the code is right and :func:`maillage.auth.identities.operations.complete_login` opens a fresh
session.  The marker dies with the account's session version, so a password change or "sign out
everywhere" voids it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.views_util import safe_next_url

PENDING_KEY = "auth_second_factor"
SALT = "maillage.auth.second-factor"
#: seconds to type the code once the password was right
MAX_AGE = 300


@dataclass(frozen=True)
class Pending:
    user: User
    remember: bool
    next_url: str | None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def needs_second_factor(user: User) -> bool:
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def begin(user: User, remember: bool = False, next_url: str | None = None) -> None:
    """The password was right: start the code step on a fresh session (nothing from before the
    password survives but the language)."""
    kept = {key: session[key] for key in ("lang",) if key in session}
    session.clear()
    session.update(kept)
    session[PENDING_KEY] = _serializer().dumps(
        {"u": user.id, "v": user.session_version, "r": bool(remember), "n": next_url}
    )


def current() -> Pending | None:
    """The sign-in waiting for its code in this session, or ``None`` (none, expired, forged, or
    the account changed since)."""
    marker = session.get(PENDING_KEY)
    if not isinstance(marker, str):
        return None
    try:
        data = _serializer().loads(marker, max_age=MAX_AGE)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if (
        user is None
        or not user.is_active
        or user.session_version != data.get("v")
        or not needs_second_factor(user)
    ):
        return None
    return Pending(user, bool(data.get("r")), safe_next_url(data.get("n")))


def pending_user_id() -> int | None:
    """The account of the marker, read without the database (a rate-limit key)."""
    marker = session.get(PENDING_KEY)
    if not isinstance(marker, str):
        return None
    try:
        data = _serializer().loads(marker, max_age=MAX_AGE)
    except BadSignature:
        return None
    return data.get("u") if isinstance(data, dict) else None


def clear() -> None:
    session.pop(PENDING_KEY, None)
