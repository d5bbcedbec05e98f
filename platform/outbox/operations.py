"""The outbox: durable work written in the same transaction as the change that caused it.

Handlers are registered per ``kind`` by the packages that own the work (search indexing,
e-mails, exports…).  After a commit that added items, one Celery task is queued to process them;
if that message is lost, or a worker dies holding a claim, the periodic sweeper processes what is
still pending once its lease has expired.

Claims are small and short so that a worker that dies costs little:

- items of one-at-a-time kinds (e-mails…) are claimed a few at a time, batch kinds (index
  updates) up to :data:`BATCH_SIZE` at once;
- a claim is a lease of ``OUTBOX_LEASE_SECONDS``, renewed (by a thread of the worker) while the
  worker goes through its items, so a killed worker's items come back within one lease;
- on PostgreSQL the claim skips rows another worker is claiming (``FOR UPDATE SKIP LOCKED``):
  several workers share the queue without waiting on each other.  SQLite has one writer at a time,
  so its single UPDATE is already exclusive.

Side effects that cannot be repeated (an e-mail handed to an SMTP server) call
:func:`point_of_no_return` right before the irreversible step: the item is marked ``sending`` in
its own transaction, only if this worker still holds it — so two workers never both pass that
point for one item.  Past it, the item is never run again: it ends ``done`` when the handler
returns, ``uncertain`` when it raises (unless it raises :class:`NotTaken`: the other side said
no, a retry is safe).  An item found ``sending`` after its lease expired (its worker died in the
few milliseconds between that mark and the server's answer) is not sent again: it becomes
``uncertain`` (at most once for that one message, exactly once for every other).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event, select, true, update
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
#: Items of batch kinds claimed at once (one handler call for all of them).
BATCH_SIZE = 500
#: Items of one-at-a-time kinds claimed at once: what waits for a lease if the worker dies.
PER_ITEM_BATCH_SIZE = 10
#: Claims one task run makes before it hands over to a new task (other work gets a turn).
MAX_ROUNDS = 200
DEFAULT_LEASE_SECONDS = 60

PENDING, SENDING, DONE, FAILED, UNCERTAIN = "pending", "sending", "done", "failed", "uncertain"


class LeaseLost(Exception):
    """This worker no longer holds the item (its lease expired and another worker took it)."""


class Uncertain(Exception):
    """Raised by a handler after :func:`point_of_no_return` when it cannot tell whether the
    irreversible step happened (the connection dropped before the server answered): the item
    is not run again."""


class NotTaken(Exception):
    """Raised by a handler after :func:`point_of_no_return` when the other side answered that it
    did not take the effect (an SMTP server refusing a message at the end of DATA): nothing
    happened, so the item is tried again later like any failure.

    Any other exception after that point leaves the item ``uncertain``, never run again: the
    effect may have happened (a message accepted, then an error while hanging up)."""


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
    _queue_processing()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("outbox_dirty", None)


def _queue_processing() -> None:
    from maillage.platform.outbox.tasks import process_outbox

    try:
        process_outbox.delay()
    except Exception:  # the broker is down: the sweeper will find the items
        log.exception("could not queue the outbox task; the sweeper will retry")


# -- claims and leases --------------------------------------------------------------------------


def lease_duration() -> dt.timedelta:
    seconds = current_app.config.get("OUTBOX_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
    return dt.timedelta(seconds=max(1, int(seconds)))


#: A claim's lease is renewed for this long at most: a handler stuck past it lets its items go
#: back to the queue (another worker takes them; e-mails are still never handed over twice).
MAX_RENEWAL = dt.timedelta(minutes=30)


@dataclass
class Claim:
    """Items leased to this worker under one token (see :class:`LeaseKeeper`)."""

    session: Session
    token: str
    items: list[OutboxItem]
    lease: dt.timedelta


class LeaseKeeper:
    """Renews a claim's lease every third of it from a background thread, while the worker goes
    through the claim's items, so that a short lease never runs out under a live worker (a long
    export, a slow SMTP server) yet lapses soon after the worker dies.

    The renewal is one UPDATE of the claim's own rows, in its own short transaction; a failed
    one (SQLite busy past its timeout, a database hiccup) is logged and tried again next time.
    """

    def __init__(self, engine, claim: Claim):
        self.engine, self.token, self.lease = engine, claim.token, claim.lease
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        deadline = time.monotonic() + MAX_RENEWAL.total_seconds()
        while not self._stop.wait(self.lease.total_seconds() / 3):
            if time.monotonic() > deadline:
                log.warning("outbox claim %s held too long: its lease is left to lapse", self.token)
                return
            try:
                self.renew()
            except Exception:
                log.warning(
                    "could not renew the lease of outbox claim %s", self.token, exc_info=True
                )

    def renew(self) -> int:
        with self.engine.begin() as connection:
            renewed = connection.execute(
                update(OutboxItem)
                .where(OutboxItem.lease == self.token, OutboxItem.status.in_((PENDING, SENDING)))
                .values(available_at=utcnow() + self.lease)
            ).rowcount
        self.renewals += 1
        return renewed


def _kind_filter(per_item: bool | None):
    if per_item is None:
        return true()
    kinds = sorted(PER_ITEM)
    return OutboxItem.kind.in_(kinds) if per_item else OutboxItem.kind.not_in(kinds)


def claim_items(session: Session, per_item: bool | None = None, limit: int | None = None) -> Claim:
    """Atomically lease available items (of one-at-a-time kinds, of batch kinds, or any with
    ``per_item=None``) to this worker, skipping rows other workers are claiming.  At most
    ``limit``: by default a few for one-at-a-time kinds, many for batch kinds."""
    if limit is None:
        limit = PER_ITEM_BATCH_SIZE if per_item else BATCH_SIZE
    now, lease = utcnow(), lease_duration()
    token = secrets.token_hex(16)
    available = (
        (OutboxItem.status == PENDING) & (OutboxItem.available_at <= now) & _kind_filter(per_item)
    )
    # A CTE: PostgreSQL runs it once (an IN subquery with LIMIT … FOR UPDATE may be run again
    # and lock more rows).  SKIP LOCKED is PostgreSQL's; SQLite's single writer needs none.
    candidates = (
        select(OutboxItem.id)
        .where(available)
        .order_by(OutboxItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("candidates")
    )
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(select(candidates.c.id)), available)
        .values(lease=token, available_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    claimed = select(OutboxItem).where(OutboxItem.lease == token).order_by(OutboxItem.id)
    return Claim(session, token, list(session.scalars(claimed)), lease)


def claim(session: Session, limit: int = BATCH_SIZE) -> list[OutboxItem]:
    """Lease up to ``limit`` available items of any kind; returns them."""
    return claim_items(session, limit=limit).items


# -- the point of no return ----------------------------------------------------------------------


@dataclass
class _InFlight:
    item_id: int
    token: str
    passed: bool = False


_in_flight: ContextVar[_InFlight | None] = ContextVar("outbox_in_flight", default=None)


def point_of_no_return() -> None:
    """Say the current item is about to have an effect that cannot be repeated.

    Marks it ``sending`` in a transaction of its own, provided this worker still holds it;
    raises :class:`LeaseLost` otherwise (another worker has it: do nothing).  Outside the
    outbox's own processing (a direct call, a test) it does nothing.
    """
    current = _in_flight.get()
    if current is None or current.passed:
        return
    with db.engine.begin() as connection:
        marked = connection.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id == current.item_id,
                OutboxItem.lease == current.token,
                OutboxItem.status == PENDING,
            )
            .values(status=SENDING)
        ).rowcount
    if marked != 1:
        raise LeaseLost(f"outbox item {current.item_id} is no longer ours")
    current.passed = True


def settle_interrupted(session: Session) -> int:
    """Items left ``sending`` by a worker that died before it could record the outcome: they
    may have taken effect, so they are not run again (``uncertain``, kept for the record)."""
    settled = session.execute(
        update(OutboxItem)
        .where(OutboxItem.status == SENDING, OutboxItem.available_at < utcnow())
        .values(
            status=UNCERTAIN,
            lease=None,
            last_error=(
                "Interrompu après la remise au serveur, avant sa réponse : peut-être envoyé, "
                "pas renvoyé pour ne pas l'envoyer deux fois."
            ),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if settled:
        log.warning("%d outbox items interrupted mid-send marked uncertain", settled)
    return settled


# -- running handlers ----------------------------------------------------------------------------


def _held(token: str, item: OutboxItem):
    return (OutboxItem.id == item.id) & (OutboxItem.lease == token)


def _finish(session: Session, token: str, items: list[OutboxItem]) -> None:
    ids = [item.id for item in items]
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(ids), OutboxItem.lease == token)
        .values(status=DONE, done_at=utcnow(), lease=None)
        .execution_options(synchronize_session=False)
    )
    for item in items:
        item.status, item.lease = DONE, None


def _reschedule(session: Session, token: str, item: OutboxItem, exc: Exception) -> None:
    attempts = item.attempts + 1
    values = {
        "attempts": attempts,
        "last_error": f"{type(exc).__name__}: {exc}"[:2000],
        "lease": None,
        "status": FAILED if attempts >= MAX_ATTEMPTS else PENDING,
    }
    if attempts < MAX_ATTEMPTS:
        values["available_at"] = utcnow() + dt.timedelta(seconds=min(2**attempts * 5, 3600))
    session.execute(
        update(OutboxItem)
        .where(_held(token, item))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    item.attempts, item.status = attempts, values["status"]


def _mark_uncertain(session: Session, token: str, item: OutboxItem, exc: Exception) -> None:
    log.warning("outbox item %s may or may not have taken effect: not run again", item.id)
    session.execute(
        update(OutboxItem)
        .where(_held(token, item))
        .values(status=UNCERTAIN, lease=None, last_error=f"{type(exc).__name__}: {exc}"[:2000])
        .execution_options(synchronize_session=False)
    )


def _run_batch(claim: Claim, kind: str, items: list[OutboxItem]) -> None:
    session, func = claim.session, HANDLERS.get(kind)
    try:
        if func is None:
            raise LookupError(f"no outbox handler for {kind!r}")
        func(session, [item.payload for item in items])
    except Exception as exc:
        session.rollback()
        log.exception("outbox handler %s failed for %d items", kind, len(items))
        for item in items:
            _reschedule(session, claim.token, item, exc)
    else:
        _finish(session, claim.token, items)
    session.commit()


def _run_item(claim: Claim, kind: str, item: OutboxItem) -> None:
    session, func = claim.session, HANDLERS.get(kind)
    in_flight = _InFlight(item.id, claim.token)
    reset = _in_flight.set(in_flight)
    try:
        if func is None:
            raise LookupError(f"no outbox handler for {kind!r}")
        func(session, [item.payload])
    except LeaseLost:
        session.rollback()
        log.warning("outbox item %s was taken over by another worker", item.id)
    except Uncertain as exc:
        session.rollback()
        _mark_uncertain(session, claim.token, item, exc)
    except Exception as exc:
        session.rollback()
        log.exception("outbox handler %s failed for item %s", kind, item.id)
        if in_flight.passed and not isinstance(exc, NotTaken):
            # Past the point of no return, an error does not say the effect did not happen
            # (an SMTP server that accepted the message, then answered QUIT oddly): a retry
            # could repeat it.
            _mark_uncertain(session, claim.token, item, exc)
        else:
            _reschedule(session, claim.token, item, exc)
    else:
        _finish(session, claim.token, [item])
    finally:
        _in_flight.reset(reset)
    session.commit()


def _run_claim(claim: Claim) -> int:
    if not claim.items:
        return 0
    by_kind: dict[str, list[OutboxItem]] = defaultdict(list)
    for item in claim.items:
        by_kind[item.kind].append(item)
    with LeaseKeeper(db.engine, claim):
        for kind, items in by_kind.items():
            if kind in PER_ITEM:
                for item in items:
                    _run_item(claim, kind, item)
            else:
                _run_batch(claim, kind, items)
    return len(claim.items)


def process_pending(max_rounds: int = MAX_ROUNDS) -> int:
    """Process available items until none is left (or ``max_rounds`` claims were made, then a
    new task takes over); return how many were handled."""
    handled = 0
    with Session(db.engine, expire_on_commit=False) as session:
        settle_interrupted(session)
        for _ in range(max_rounds):
            round_handled = _run_claim(claim_items(session, per_item=False))
            round_handled += _run_claim(claim_items(session, per_item=True))
            handled += round_handled
            if not round_handled:
                break
        else:
            _queue_processing()
    return handled


def status_count(status: str) -> int:
    return db.session.scalar(
        select(db.func.count()).select_from(OutboxItem).where(OutboxItem.status == status)
    )


def pending_count() -> int:
    return status_count(PENDING)
