"""Daily and weekly digests: one e-mail per person listing what they have neither read nor been
e-mailed yet, grouped by community.

Idempotent and safe to run twice at once: each notice is claimed (``emailed_at`` set, only where
it was still empty) in the same transaction as the outbox item of the e-mail that lists it, so a
second run, or a concurrent one, finds nothing left to send.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select, update
from sqlalchemy.orm import aliased, joinedload

from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.notifications import emails
from maillage.platform.notifications.models import (
    DIGEST_MODES,
    Notification,
    NotificationPreference,
)
from maillage.platform.notifications.queries import effective_mode_clause

BATCH = 200


def _pending(statement, frequency: str, now: dt.datetime):
    """Restrict ``statement`` (on notifications) to notices due in a ``frequency`` digest."""
    default_row = aliased(NotificationPreference)
    community_row = aliased(NotificationPreference)
    return (
        statement.join(User, User.id == Notification.recipient_id)
        .outerjoin(
            community_row,
            (community_row.user_id == Notification.recipient_id)
            & (community_row.community_id == Notification.community_id),
        )
        .outerjoin(
            default_row,
            (default_row.user_id == Notification.recipient_id) & default_row.community_id.is_(None),
        )
        .where(
            Notification.emailed_at.is_(None),
            Notification.read_at.is_(None),
            Notification.created_at <= now,
            User.is_active.is_(True),
            User.local.is_(True),
            User.email.is_not(None),
            effective_mode_clause(default_row, community_row) == frequency,
        )
    )


def due_recipients(frequency: str, now: dt.datetime, after: int = 0, limit: int = BATCH):
    """Ids of people owed a ``frequency`` digest, above ``after``, in order."""
    statement = _pending(select(Notification.recipient_id).distinct(), frequency, now)
    return list(
        db.session.scalars(
            statement.where(Notification.recipient_id > after)
            .order_by(Notification.recipient_id)
            .limit(limit)
        )
    )


def _claim(ids: list[int], now: dt.datetime) -> set[int]:
    """Mark notices e-mailed; returns those this run claimed (not another run before it)."""
    if not ids:
        return set()
    rows = db.session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.emailed_at.is_(None))
        .values(emailed_at=now)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    return set(rows.scalars())


def send_digest_batch(
    frequency: str, now: dt.datetime, after: int = 0, limit: int = BATCH
) -> tuple[int | None, int]:
    """Queue the digests of the next ``limit`` people after ``after``; the caller commits.

    Returns (the last person's id, to continue after it, or None when done; mails queued).
    """
    if frequency not in DIGEST_MODES:
        raise ValueError(f"not a digest frequency: {frequency!r}")
    people_ids = due_recipients(frequency, now, after, limit)
    if not people_ids:
        return None, 0
    notices = list(
        db.session.scalars(
            _pending(select(Notification), frequency, now)
            .where(Notification.recipient_id.in_(people_ids))
            .options(joinedload(Notification.actor), joinedload(Notification.community))
            .order_by(
                Notification.recipient_id,
                Notification.community_id,
                Notification.created_at,
                Notification.id,
            )
        ).unique()
    )
    claimed = _claim([notice.id for notice in notices], now)
    by_person: dict[int, list[emails.Notice]] = defaultdict(list)
    for notice in notices:
        if notice.id in claimed:
            by_person[notice.recipient_id].append(emails.Notice.of(notice))
    people = db.session.scalars(select(User).where(User.id.in_(list(by_person))))
    for person in people:
        emails.send_digest(person, by_person[person.id], frequency, now)
    return people_ids[-1], len(by_person)
