"""Server-side sessions: every sign-in opens a record, sign-out deletes it, and these functions
end others (the person on *Mon compte*, an administrator, a password change, an identity
provider's back-channel logout, the directory sync).

Ending a session deletes its record: the cookie that names it (session or remember-me, wherever
it was copied) then opens nothing.  Ending *every* session of a person also bumps
``User.session_version``, which every login id carries: what is not a record (a second-factor
step in progress) ends with it.  The caller commits, except where said.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select, update

from maillage.auth.sessions.clients import ip_prefix
from maillage.auth.sessions.current import current_record_id
from maillage.auth.sessions.models import USER_AGENT_MAX, SessionRecord
from maillage.auth.sessions.queries import expired_criterion, hash_token
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record as audit
from maillage.platform.db import utcnow
from maillage.platform.extensions import db


def open_session(
    user: User,
    *,
    remember: bool = False,
    user_agent: str | None = None,
    ip_address: str | None = None,
    provider: str | None = None,
    provider_subject: str | None = None,
    provider_sid: str | None = None,
) -> tuple[str, SessionRecord]:
    """Record a new session of ``user``; returns its secret token (to put in the login id,
    never stored) and the record."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session_record = SessionRecord(
        token_hash=hash_token(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
        ip_prefix=ip_prefix(ip_address),
        provider=provider,
        provider_subject=provider_subject,
        provider_sid=provider_sid,
        remember=bool(remember),
    )
    db.session.add(session_record)
    db.session.flush()
    return token, session_record


def end_by_token(token: str) -> int:
    """Sign-out: the record of this token goes (nothing is audited: it is the person's own)."""
    return _delete(SessionRecord.token_hash == hash_token(token))


def touch(record_id: int) -> None:
    """Note that the session was used now (the user loader asks at most once a minute).

    Committed in a short transaction of its own, never the request's session: what a view left
    uncommitted is not committed on its behalf."""
    with db.engine.begin() as connection:
        connection.execute(
            update(SessionRecord).where(SessionRecord.id == record_id).values(last_seen_at=utcnow())
        )


def end_one(user: User, session_record: SessionRecord, *, actor: User | None = None) -> None:
    """End one session of ``user`` (from *Mon compte*: a lost phone, a shared computer)."""
    if session_record.user_id != user.id:
        raise ValueError("not a session of this person")
    audit(actor or user, "auth.session_ended", user, session=session_record.id, reason="user")
    db.session.delete(session_record)
    db.session.flush()


def end_user_sessions(
    user, *, reason: str, keep_current: bool = False, actor: User | None = None
) -> int:
    """End every open session of ``user`` (all browsers, remember-me cookies included), except
    this browser's when ``keep_current``; return how many ended.  ``reason`` is audited
    (``logout``, ``admin``, ``suspended``, ``password``, ``backchannel``, ``deprovisioned``…),
    with ``actor`` when a person did it.  The caller commits."""
    criteria = [SessionRecord.user_id == user.id]
    kept = current_record_id() if keep_current else None
    if kept is not None:
        criteria.append(SessionRecord.id != kept)
    ended = _delete(*criteria)
    if not keep_current:
        user.session_version = (user.session_version or 1) + 1
    audit(actor, "auth.sessions_ended", user, reason=reason, count=ended, kept_current=bool(kept))
    db.session.flush()
    return ended


def end_provider_sessions(
    provider: str, *, subject: str | None = None, sid: str | None = None
) -> int:
    """End the sessions opened through identity ``provider`` for the OIDC ``sid`` (one sign-in)
    or, without ``sid``, every session of the person whose identity at ``provider`` is
    ``subject`` (OIDC back-channel logout).  Return how many ended.  The caller commits."""
    if sid:
        return _end_provider_sign_in(provider, sid, subject)
    if not subject:
        raise ValueError("end_provider_sessions needs a subject or a sid")
    ended = 0
    for user in _people_known_at(provider, subject):
        ended += end_user_sessions(user, reason="backchannel")
    return ended


def _end_provider_sign_in(provider: str, sid: str, subject: str | None) -> int:
    criteria = [SessionRecord.provider == provider, SessionRecord.provider_sid == sid]
    if subject:
        criteria.append(SessionRecord.provider_subject == subject)
    records = db.session.scalars(select(SessionRecord).where(*criteria)).all()
    for session_record in records:
        audit(
            None,
            "auth.session_ended",
            session_record.user,
            session=session_record.id,
            reason="backchannel",
            provider=provider,
        )
        db.session.delete(session_record)
    db.session.flush()
    return len(records)


def _people_known_at(provider: str, subject: str) -> list[User]:
    """People with a session opened as ``subject`` at ``provider``, or an identity there."""
    from maillage.auth.identities.models import Identity

    by_session = select(SessionRecord.user_id).where(
        SessionRecord.provider == provider, SessionRecord.provider_subject == subject
    )
    by_identity = select(Identity.user_id).where(
        Identity.provider == provider, Identity.identifier == subject
    )
    return list(
        db.session.scalars(
            select(User).where(User.id.in_(by_session.union(by_identity))).order_by(User.id)
        )
    )


def purge_expired(now=None) -> int:
    """Delete the records past their lifetime or idle timeout (they open nothing already)."""
    criterion = expired_criterion(now)
    return 0 if criterion is None else _delete(criterion)


def purge_expired_of(user: User) -> int:
    """The same, for one person (at sign-in: their list stays short without the worker)."""
    criterion = expired_criterion()
    if criterion is None:
        return 0
    return _delete(SessionRecord.user_id == user.id, criterion)


def _delete(*criteria) -> int:
    """Delete the matching records, and forget them in the session (a new record may take a
    deleted one's id on SQLite)."""
    result = db.session.execute(
        delete(SessionRecord).where(*criteria).execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0
