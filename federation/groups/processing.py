"""Processing stored inbox activities: claim with a lease, handle, record the outcome.

The ``InboxActivity`` row is the durable record (the outbox pattern, inbound): the inbox view
queues a task after its commit, and if that message is lost or a worker dies holding a lease,
the periodic sweeper picks the row up again once the lease expired.  Handling is idempotent
(content is found again by its ``ap_id``, follows and reactions are upserts), so a second run
after a crash does nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from sqlalchemy import or_, select, update

from maillage.federation.groups import handlers  # noqa: F401 - registers the handlers
from maillage.federation.groups.models import InboxActivity, InboxStatus
from maillage.federation.groups.registry import Ignored, Incoming, Rejected, Unavailable, dispatch
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 12  # with retry_delay: about 20 h of retries before giving up
SWEEP_BATCH = 200


def claim(row_id: int, *, now: dt.datetime | None = None) -> InboxActivity | None:
    """Lease the row to this worker (None when done, or leased by another live worker)."""
    now = now or utcnow()
    token = secrets.token_hex(16)
    claimed = db.session.execute(
        update(InboxActivity)
        .where(
            InboxActivity.id == row_id,
            InboxActivity.status == InboxStatus.PENDING,
            or_(InboxActivity.lease.is_(None), InboxActivity.available_at <= now),
        )
        .values(lease=token, available_at=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    return db.session.scalar(select(InboxActivity).where(InboxActivity.lease == token))


def process(row_id: int, *, now: dt.datetime | None = None) -> str | None:
    """Handle one stored activity; returns its new status (None if it was not claimable).

    Never raises: a failure is written on the row and retried later by the sweeper."""
    row = claim(row_id, now=now)
    if row is None:
        return None
    payload, inbox_path = row.payload, row.inbox_path
    try:
        _handle(payload, inbox_path)
    except Rejected as exc:
        db.session.rollback()
        return _finish(row_id, InboxStatus.REJECTED, str(exc))
    except Ignored as exc:
        db.session.rollback()
        return _finish(row_id, InboxStatus.DONE, f"ignored: {exc}")
    except Unavailable as exc:
        db.session.rollback()
        log.info("inbox activity %s: %s; retried later", row_id, exc)
        return _retry_later(row_id, exc, now)
    except Exception as exc:
        db.session.rollback()
        log.exception("inbox activity %s failed", row_id)
        return _retry_later(row_id, exc, now)
    return _finish(row_id, InboxStatus.DONE, "")


def _handle(payload: dict, inbox_path: str) -> None:
    from maillage.federation.transport.fetch import FetchBudget

    dispatch(Incoming(payload, inbox_path, FetchBudget()))
    db.session.flush()


def _finish(row_id: int, status: str, error: str) -> str:
    """Mark the row; after a success the handler's changes commit in the same transaction
    as the mark, so a crash between them cannot apply an activity twice."""
    row = db.session.get(InboxActivity, row_id)
    row.status, row.error, row.lease = status, error[:2000], None
    row.processed_at = utcnow()
    if status == InboxStatus.REJECTED:
        log.info("inbox activity %s rejected: %s", row.activity_id, error)
    db.session.commit()
    return status


def _retry_later(row_id: int, exc: Exception, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    row = db.session.get(InboxActivity, row_id)
    row.attempts += 1
    row.error = f"{type(exc).__name__}: {exc}"[:2000]
    row.lease = None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = InboxStatus.FAILED
        row.processed_at = now
    else:
        row.available_at = now + retry_delay(row.attempts)
    db.session.commit()
    return row.status


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff after ``attempts`` failures: 1 min, 2, 4… capped at 6 h; the 12 attempts span
    about 20 h, so an origin down for a night does not lose what it sent."""
    return dt.timedelta(seconds=min(30 * 2**attempts, 6 * 3600))


def due_ids(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Pending rows nobody holds: never claimed, lease expired, or due for a retry."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(InboxActivity.id)
            .where(InboxActivity.status == InboxStatus.PENDING, InboxActivity.available_at <= now)
            .order_by(InboxActivity.id)
            .limit(limit)
        )
    )


def sweep(*, now: dt.datetime | None = None) -> int:
    """Process what is due (the periodic safety net); returns how many rows were handled."""
    handled = 0
    for row_id in due_ids(now=now):
        if process(row_id, now=now) is not None:
            handled += 1
    return handled
