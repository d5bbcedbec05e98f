"""Reads of session records: the one the user loader checks, the ones the account page lists."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import current_app
from sqlalchemy import or_, select

from maillage.auth.sessions.models import SessionRecord
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

#: « last seen » is written at most this often (not on every request)
TOUCH_INTERVAL = dt.timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetimes() -> tuple[dt.timedelta | None, dt.timedelta | None]:
    """(absolute lifetime, idle timeout); ``None`` where the setting is 0 (no limit)."""
    hours = int(current_app.config.get("SESSION_ABSOLUTE_LIFETIME_HOURS", 720) or 0)
    minutes = int(current_app.config.get("SESSION_IDLE_TIMEOUT_MINUTES", 1440) or 0)
    return (
        dt.timedelta(hours=hours) if hours > 0 else None,
        dt.timedelta(minutes=minutes) if minutes > 0 else None,
    )


def is_alive(record: SessionRecord, now: dt.datetime | None = None) -> bool:
    """Not past its absolute lifetime, not idle past the timeout."""
    now = now or utcnow()
    lifetime, idle = _lifetimes()
    if lifetime is not None and record.created_at <= now - lifetime:
        return False
    return idle is None or record.last_seen_at > now - idle


def needs_touch(record: SessionRecord, now: dt.datetime | None = None) -> bool:
    return record.last_seen_at <= (now or utcnow()) - TOUCH_INTERVAL


def expired_criterion(now: dt.datetime | None = None):
    """SQL condition of records past their lifetime or idle timeout (``None``: none can be)."""
    now = now or utcnow()
    lifetime, idle = _lifetimes()
    conditions = []
    if lifetime is not None:
        conditions.append(SessionRecord.created_at <= now - lifetime)
    if idle is not None:
        conditions.append(SessionRecord.last_seen_at <= now - idle)
    return or_(*conditions) if conditions else None


def user_and_record(user_id: int, token: str) -> tuple[User, SessionRecord] | None:
    """The user and the record of a session token, in one query (the user loader's only one)."""
    row = db.session.execute(
        select(User, SessionRecord)
        .join(SessionRecord, SessionRecord.user_id == User.id)
        .where(User.id == user_id, SessionRecord.token_hash == hash_token(token))
    ).first()
    return (row[0], row[1]) if row is not None else None


def open_sessions(user: User) -> list[SessionRecord]:
    """The person's sessions still alive, most recently used first."""
    records = db.session.scalars(
        select(SessionRecord)
        .where(SessionRecord.user_id == user.id)
        .order_by(SessionRecord.last_seen_at.desc(), SessionRecord.id.desc())
    ).all()
    now = utcnow()
    return [record for record in records if is_alive(record, now)]


def session_of(user: User, record_id: int) -> SessionRecord | None:
    """One of the person's own sessions (never someone else's)."""
    return db.session.scalar(
        select(SessionRecord).where(SessionRecord.id == record_id, SessionRecord.user_id == user.id)
    )
