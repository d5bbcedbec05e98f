"""Every write on notifications and preferences; the caller commits.

:func:`notify` is what the ``notification_requested`` subscriber calls: it decides who really
gets a notice (permission to read it, preferences) and how (in-app row, immediate e-mail through
the outbox, or later in a digest), in the transaction of the change that caused it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from maillage.communities.community.models import Community, Membership
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.notifications import emails
from maillage.platform.notifications.models import (
    MODES,
    NEW_CONTENT,
    Mode,
    Notification,
    NotificationPreference,
)
from maillage.platform.notifications.queries import modes_for
from maillage.platform.notifications.recipients import allowed_recipients

TITLE_MAX = 200
#: session.info key: the notices already written in the current transaction.
_SEEN = "notifications_seen"


def safe_path(url: str | None) -> str | None:
    """A same-site absolute path, or None (notifications never send anyone off-site)."""
    if not url or len(url) > 500 or not url.startswith("/") or url.startswith("//"):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or "\\" in url or any(ord(c) < 32 for c in url):
        return None
    return url


def _one_line(title: str) -> str:
    title = " ".join((title or "").split())
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def notify(
    obj,
    *,
    community: Community | None,
    actor: User | None,
    reason: str,
    url: str,
    title: str,
    recipients: Iterable[User] | None = None,
    now: dt.datetime | None = None,
    email: bool = True,
) -> list[int]:
    """Notify about ``obj``; returns the ids of the people notified.

    ``recipients`` None means the community's members.  The actor, inactive and remote accounts,
    and anyone who may not read the community or see ``obj`` are left out; for ``new_content``,
    so is anyone whose mode for the community is ``off``.  A notice already written in this
    transaction (same person, object, reason) is not written or mailed again.  ``email`` False
    keeps the notice in the bell only (no e-mail now nor in a digest: the caller mails apart).
    """
    now = now or utcnow()
    if getattr(obj, "id", None) is None:
        db.session.flush()
    key = (type(obj).__name__, obj.id, reason)
    seen = db.session.info.setdefault(_SEEN, set())
    people = [
        user
        for user in allowed_recipients(obj, community, actor, recipients)
        if (user.id, *key) not in seen
    ]
    modes = modes_for([user.id for user in people], community.id if community else None)
    if reason == NEW_CONTENT:
        people = [user for user in people if modes[user.id] != Mode.OFF]
    if not people:
        return []
    notice = emails.Notice(
        reason=reason,
        title=_one_line(title),
        url=safe_path(url) or (f"/c/{community.slug}" if community else "/"),
        actor_name=actor.display_name if actor else None,
        community_id=community.id if community else None,
        community_name=community.name if community else None,
    )
    mailed = {u.id for u in people if email and modes[u.id] == Mode.IMMEDIATE and u.email}
    _upsert([_row(notice, key, u.id, actor, now, not email or u.id in mailed) for u in people])
    for user in people:
        seen.add((user.id, *key))
        if user.id in mailed:
            emails.send_immediate(user, notice)
    return [user.id for user in people]


def _row(notice, key: tuple, recipient_id: int, actor, now: dt.datetime, mailed: bool) -> dict:
    return {
        "recipient_id": recipient_id,
        "actor_id": actor.id if actor else None,
        "community_id": notice.community_id,
        "reason": notice.reason,
        "title": notice.title,
        "url": notice.url,
        "object_type": key[0],
        "object_id": key[1],
        "created_at": now,
        "emailed_at": now if mailed else None,
    }


def _upsert(rows: list[dict]) -> None:
    """Insert the notices; one still unread for the same (person, object, reason) is refreshed
    (moved to the top, e-mailed again per preference) rather than duplicated."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Notification.__table__)
    fresh = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["recipient_id", "object_type", "object_id", "reason"],
        index_where=Notification.read_at.is_(None),
        set_={
            "actor_id": fresh.actor_id,
            "community_id": fresh.community_id,
            "title": fresh.title,
            "url": fresh.url,
            "created_at": fresh.created_at,
            "emailed_at": fresh.emailed_at,
        },
    )
    db.session.execute(statement, rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_seen(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SEEN, None)


# -- reading -----------------------------------------------------------------------------------


def mark_read(notification: Notification, user: User, now: dt.datetime | None = None) -> bool:
    """Mark one of ``user``'s notices read; returns whether it was unread."""
    if notification.recipient_id != user.id:
        raise NotAllowed(_l("Cette notification ne vous est pas destinée."))
    if notification.read_at is not None:
        return False
    notification.read_at = now or utcnow()
    return True


def mark_all_read(user: User, now: dt.datetime | None = None) -> int:
    """Mark every unread notice of ``user`` read; returns how many."""
    return db.session.execute(
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def forget_object(obj) -> int:
    """Delete the notices about ``obj`` (it is being deleted: their links would be dead)."""
    if getattr(obj, "id", None) is None:
        return 0
    return forget_objects(type(obj).__name__, [obj.id])


def forget_objects(object_type: str, ids) -> int:
    """Delete the notices about objects of one type (``ids``: a list or a SELECT of ids)."""
    if isinstance(ids, list) and not ids:
        return 0
    return db.session.execute(
        delete(Notification)
        .where(Notification.object_type == object_type, Notification.object_id.in_(ids))
        .execution_options(synchronize_session=False)
    ).rowcount


def forget_community_for(user: User, community: Community) -> int:
    """Someone left a community they can no longer read: drop its notices from their list."""
    if can(user, "read", community):
        return 0
    return db.session.execute(
        delete(Notification)
        .where(Notification.recipient_id == user.id, Notification.community_id == community.id)
        .execution_options(synchronize_session=False)
    ).rowcount


def purge_older_than(cutoff: dt.datetime, batch: int = 5000) -> int:
    """Delete up to ``batch`` notices created before ``cutoff``; returns how many."""
    oldest = (
        select(Notification.id)
        .where(Notification.created_at < cutoff)
        .order_by(Notification.id)
        .limit(batch)
    )
    return db.session.execute(
        delete(Notification)
        .where(Notification.id.in_(oldest.scalar_subquery()))
        .execution_options(synchronize_session=False)
    ).rowcount


# -- preferences -------------------------------------------------------------------------------


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise OperationError(_l("Mode de notification inconnu : %(mode)s."), mode=mode)


def _preference_row(user: User, community_id: int | None) -> NotificationPreference | None:
    scope = (
        NotificationPreference.community_id.is_(None)
        if community_id is None
        else NotificationPreference.community_id == community_id
    )
    return db.session.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id, scope)
    )


def _store(user: User, community_id: int | None, mode: str | None, now: dt.datetime) -> None:
    row = _preference_row(user, community_id)
    if mode is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(
            NotificationPreference(
                user_id=user.id, community_id=community_id, mode=mode, updated_at=now
            )
        )
    elif row.mode != mode:
        row.mode, row.updated_at = mode, now


def save_preferences(
    user: User,
    actor: User,
    default: str,
    communities: dict[Community, str | None],
    now: dt.datetime | None = None,
) -> None:
    """Set ``user``'s default mode and a mode per community (None: follow the default).

    Only communities ``user`` belongs to may be set (a secret one reveals nothing to others).
    """
    if not can(actor, "edit", user):
        raise NotAllowed(_l("Vous ne pouvez modifier que vos propres préférences."))
    _check_mode(default)
    for community, mode in communities.items():
        if mode is not None:
            _check_mode(mode)
        if not _is_member(user, community):
            raise OperationError(_l("Vous n'êtes pas membre de cette communauté."))
    now = now or utcnow()
    _store(user, None, default, now)
    for community, mode in communities.items():
        _store(user, community.id, mode, now)
    record(
        actor,
        "notifications.preferences",
        user,
        default=default,
        communities={str(c.id): m for c, m in communities.items()},
    )


def _is_member(user: User, community: Community) -> bool:
    return (
        db.session.scalar(
            select(Membership.id).where(
                Membership.user_id == user.id, Membership.community_id == community.id
            )
        )
        is not None
    )


def unsubscribe(user: User, community: Community | None, now: dt.datetime | None = None) -> None:
    """The one-click link of an e-mail: no more e-mail from ``community`` (None: from any)."""
    now = now or utcnow()
    if community is not None:
        _store(user, community.id, Mode.OFF, now)
    else:
        _store(user, None, Mode.OFF, now)
        db.session.execute(
            update(NotificationPreference)
            .where(NotificationPreference.user_id == user.id)
            .values(mode=Mode.OFF, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    record(user, "notifications.unsubscribe", user, community=community.id if community else None)
