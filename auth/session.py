"""Sessions: Flask-Login wiring over server-side session records (``auth.sessions``).

The login id is ``"<user id>:<session version>:<session token>"``.  The token names this
browser's :class:`~maillage.auth.sessions.models.SessionRecord` (only its hash is stored); the
remember-me cookie carries the same login id, so sign-out, which deletes the record, ends both
cookies wherever they were copied.  A record also ends past its absolute lifetime
(``SESSION_ABSOLUTE_LIFETIME_HOURS``) or when idle past ``SESSION_IDLE_TIMEOUT_MINUTES``.
Bumping a user's ``session_version`` still signs them out of every session at once.  At every
login the session is cleared before the user is stored in it, so a session fixed before login is
useless.
"""

from __future__ import annotations

import datetime as dt

from flask import request, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user

from maillage.auth.sessions import operations as records
from maillage.auth.sessions.current import remember_current
from maillage.auth.sessions.queries import is_alive, needs_touch, user_and_record
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

#: Flask-Login's session key holding the login id
LOGIN_ID_KEY = "_user_id"


def login_id(user: User, token: str) -> str:
    return f"{user.id}:{user.session_version}:{token}"


def _parse(login_id_value: str) -> tuple[int, int, str | None] | None:
    parts = str(login_id_value).split(":")
    if len(parts) not in (2, 3):
        return None
    try:
        user_id, version = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    token = parts[2] if len(parts) == 3 else None
    if token == "":
        return None
    return user_id, version, token


def load_user(login_id_value: str) -> User | None:
    """The signed-in user, if the session record named by the login id is alive."""
    parsed = _parse(login_id_value)
    if parsed is None:
        return None
    user_id, version, token = parsed
    if token is None:  # a login id from before server-side sessions: no record, no session
        return None
    found = user_and_record(user_id, token)
    if found is None:
        return None
    user, record = found
    if user.session_version != version or not user.is_active:
        return None
    now = utcnow()
    if not is_alive(record, now):
        return None
    remember_current(record, touch=needs_touch(record, now))
    return user


def init_login(app, login_manager) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour accéder à cette page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    # The remember-me cookie need not outlive the session it names.
    hours = int(app.config.get("SESSION_ABSOLUTE_LIFETIME_HOURS") or 0)
    if hours > 0:
        app.config.setdefault("REMEMBER_COOKIE_DURATION", dt.timedelta(hours=hours))


def current_token() -> str | None:
    """The session token of this browser's login id, if any."""
    parsed = _parse(session.get(LOGIN_ID_KEY, ""))
    return parsed[2] if parsed is not None else None


def start_session(
    user: User,
    remember: bool = False,
    *,
    provider: str | None = None,
    provider_subject: str | None = None,
    provider_sid: str | None = None,
) -> None:
    """Log ``user`` in on a fresh session (the old session's data, id and record are discarded)
    and open its server-side record; commits.

    ``provider``/``provider_subject``/``provider_sid``: the identity provider the person signed
    in through, their identifier there and the OIDC ``sid`` of that sign-in, kept on the
    server-side session record so a back-channel logout can end it."""
    previous = current_token()
    kept = {key: session[key] for key in ("lang",) if key in session}
    session.clear()
    session.update(kept)
    if previous is not None:
        records.end_by_token(previous)
    records.purge_expired_of(user)
    if login_user(user, remember=remember):
        token, record = records.open_session(
            user,
            remember=remember,
            user_agent=request.user_agent.string,
            ip_address=request.remote_addr,
            provider=provider,
            provider_subject=provider_subject,
            provider_sid=provider_sid,
        )
        session[LOGIN_ID_KEY] = login_id(user, token)  # the remember-me cookie copies it
        remember_current(record)
    user.last_seen_at = utcnow()
    db.session.commit()


def end_session() -> None:
    """Log out of this browser: its session record is deleted (a copy of its cookies opens
    nothing), the session's data goes, then Flask-Login marks the remember-me cookie for
    deletion (clearing the session after ``logout_user`` would lose that mark); commits."""
    token = current_token()
    session.clear()
    logout_user()
    if token is not None:
        records.end_by_token(token)
        db.session.commit()
