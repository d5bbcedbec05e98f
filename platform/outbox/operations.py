"""The outbox: durable work written in the same transaction as the change that caused it.

Handlers are registered per ``kind`` by the packages that own the work (search indexing today;
e-mail and federation deliveries as they land).  After a commit that added items, one Celery task
is queued to process them; if that message is lost, or a worker dies holding a claim, the periodic
sweeper processes what is still pending once its lease has expired.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.outbox.models import OutboxItem

log = logging.getLogger(__name__)

#: kind -> func(session, payloads); the function must be idempotent.
HANDLERS: dict[str, Callable[[Session, list[dict]], None]] = {}
#: kinds whose items are handled (and fail, and retry) one at a time.
PER_ITEM: set[str] = set()
MAX_ATTEMPTS = 10
LEASE = dt.timedelta(minutes=5)
BATCH_SIZE = 500


def handler(kind: str, per_item: bool = False):
    """Register ``func(session, payloads)`` as the handler of outbox items of ``kind``.

    By default items come in batches (an index update commits once for many documents) and a
    batch succeeds or is retried as a whole.  ``per_item`` handlers get one payload at a time, so
    one bad item never holds back, or repeats, the others (e-mails: a retry must not re-send
    what already left).
    """

    def register(func):
        HANDLERS[kind] = func
        if per_item:
            PER_ITEM.add(kind)
        return func

    return register


def enqueue(kind: str, session: Session | None = None, **payload) -> OutboxItem:
    """Add an item to the current transaction; it is processed after the commit."""
    session = session or db.session
    item = OutboxItem(kind=kind, payload=payload)
    session.add(item)
    session.info["outbox_dirty"] = True
    return item


@event.listens_for(Session, "after_commit")
def _wake_worker(session: Session) -> None:
    # Releasing a SAVEPOINT also fires after_commit; only the real commit makes items visible.
    if session.in_nested_transaction() or not session.info.pop("outbox_dirty", False):
        return
    from maillage.platform.outbox.tasks import process_outbox

    try:
        process_outbox.delay()
    except Exception:  # the broker is down: the sweeper will find the items
        log.exception("could not queue the outbox task; the sweeper will retry")


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("outbox_dirty", None)


def claim(session: Session, limit: int = BATCH_SIZE) -> list[OutboxItem]:
    """Atomically lease up to ``limit`` available items to this worker."""
    now = utcnow()
    token = secrets.token_hex(16)
    available = (OutboxItem.status == "pending") & (OutboxItem.available_at <= now)
    candidates = select(OutboxItem.id).where(available).order_by(OutboxItem.id).limit(limit)
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(candidates.scalar_subquery()), available)
        .values(lease=token, available_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return list(session.scalars(select(OutboxItem).where(OutboxItem.lease == token)))


def _run_kind(session: Session, kind: str, items: list[OutboxItem]) -> None:
    groups = [[item] for item in items] if kind in PER_ITEM else [items]
    for group in groups:
        _run_group(session, kind, group)


def _run_group(session: Session, kind: str, items: list[OutboxItem]) -> None:
    func = HANDLERS.get(kind)
    try:
        if func is None:
            raise LookupError(f"no outbox handler for {kind!r}")
        func(session, [item.payload for item in items])
    except Exception as exc:
        session.rollback()
        log.exception("outbox handler %s failed for %d items", kind, len(items))
        for item in items:
            _reschedule(item, exc)
    else:
        for item in items:
            item.status, item.done_at, item.lease = "done", utcnow(), None
    session.commit()


def _reschedule(item: OutboxItem, exc: Exception) -> None:
    item.attempts += 1
    item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    item.lease = None
    if item.attempts >= MAX_ATTEMPTS:
        item.status = "failed"
    else:
        item.available_at = utcnow() + dt.timedelta(seconds=min(2**item.attempts * 5, 3600))


def process_pending(limit_batches: int = 20) -> int:
    """Process available items in batches; return how many were handled."""
    handled = 0
    with Session(db.engine, expire_on_commit=False) as session:
        for _ in range(limit_batches):
            items = claim(session)
            if not items:
                break
            by_kind: dict[str, list[OutboxItem]] = defaultdict(list)
            for item in items:
                by_kind[item.kind].append(item)
            for kind, batch in by_kind.items():
                _run_kind(session, kind, batch)
            handled += len(items)
    return handled


def pending_count() -> int:
    return db.session.scalar(
        select(db.func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
    )
