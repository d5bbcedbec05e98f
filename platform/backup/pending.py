"""Work that was pending at backup time, decided once the archive is restored.

An archive is the instance at one instant.  The instance it came from may have kept working after
that instant (a backup restored after a disk loss is hours old): e-mails that were waiting in the
outbox may well have left since.  The restored instance cannot know, so each kind of pending work
is decided by what a second run would cost:

- **replayed**: work whose effect lives in this instance's own data, which the restore has just
  taken back to the backup's instant (the search index, a due account deletion, a personal data
  export whose archive is not in the backup's file store…).  Running it is idempotent, and not
  running it would leave the restored data wrong;
- **federation deliveries** stay pending and are sent: ActivityPub receivers deduplicate by
  activity id (deliveries are at-least-once already), so a second copy of an activity the old
  instance had delivered is dropped by the receiver;
- **held**: anything that sends a message to people (e-mails, mailings to members) and every kind
  not listed above — a kind added later is held until someone decides otherwise.  Held items get
  the status ``held``, which no worker claims, with the reason in ``last_error``; an
  administrator lists them, sends them or drops them with ``flask maillage held-outbox``;
- **notices not e-mailed yet** (waiting for a digest) are marked as e-mailed: the old instance's
  digest may have listed them already.  They stay unread in each person's bell.

Leases held at backup time by the old instance's workers are released, so the replayed work
starts at once instead of waiting for them to lapse.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.outbox.models import OutboxItem

HELD = "held"
CANCELLED = "cancelled"
PENDING = "pending"

#: Outbox kinds run again after a restore, and why that is right.
REPLAYED_KINDS = {
    "search.index": "the index is rebuilt anyway; indexing twice changes nothing",
    "search.community_posts": "re-indexes a community's content; idempotent",
    "account_deletion.execute": (
        "the person's data is back with the restore: their due erasure must run again"
    ),
    "personal_data.export": (
        "the archive built after the backup is not in its file store: built again, a working"
        " link is sent"
    ),
}
#: Outbox kinds held after a restore (the default for any kind not in REPLAYED_KINDS).
HELD_KINDS = {
    "mail.send": "an e-mail may have left the old instance after the backup",
    "animation.mail_members": "a mailing to members may have left the old instance already",
}


def held_reason(backup_created_at: str) -> str:
    return (
        f"Retenu à la restauration de la sauvegarde du {backup_created_at} : peut-être déjà"
        " envoyé par l'ancienne instance. Décidez avec « flask maillage held-outbox »."
    )


def settle(backup_created_at: str) -> dict[str, int]:
    """Apply the rules above to the restored database (the caller commits); returns counts."""
    now = utcnow()
    held = db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.status == PENDING, OutboxItem.kind.not_in(REPLAYED_KINDS))
        .values(status=HELD, lease=None, last_error=held_reason(backup_created_at))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.status == PENDING, OutboxItem.lease.is_not(None))
        .values(lease=None, available_at=now)
        .execution_options(synchronize_session=False)
    )
    return {
        "held": held,
        "replayed": _count(OutboxItem.status == PENDING),
        "deliveries": _release_deliveries(now),
        "notices": _mark_notices_emailed(now),
    }


def _count(criterion) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxItem).where(criterion))


def _release_deliveries(now: dt.datetime) -> int:
    """Federation deliveries stay pending (receivers deduplicate); returns how many."""
    from maillage.federation.transport.models import Delivery

    db.session.execute(
        update(Delivery)
        .where(Delivery.status == PENDING, Delivery.lease.is_not(None))
        .values(lease=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return db.session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == PENDING)
    )


def _mark_notices_emailed(now: dt.datetime) -> int:
    from maillage.platform.notifications.models import Notification

    return db.session.execute(
        update(Notification)
        .where(Notification.emailed_at.is_(None), Notification.read_at.is_(None))
        .values(emailed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


# -- the administrator's decision --------------------------------------------------------------


def held_summary() -> list[tuple[str, int, dt.datetime]]:
    """``(kind, count, oldest)`` of the held items."""
    rows = db.session.execute(
        select(OutboxItem.kind, func.count(), func.min(OutboxItem.created_at))
        .where(OutboxItem.status == HELD)
        .group_by(OutboxItem.kind)
        .order_by(OutboxItem.kind)
    ).all()
    return [(kind, count, oldest) for kind, count, oldest in rows]


def release_held(kind: str | None = None) -> int:
    """Send the held items (of ``kind``): pending again, available now.  The caller commits
    (which wakes the worker up)."""
    db.session.info["outbox_dirty"] = True  # see platform.outbox.operations._wake_worker
    return _decide(kind, status=PENDING, available_at=utcnow(), last_error="")


def drop_held(kind: str | None = None) -> int:
    """Never send the held items (of ``kind``); they stay as ``cancelled``.  The caller commits."""
    return _decide(kind, status=CANCELLED, done_at=utcnow())


def _decide(kind: str | None, **values) -> int:
    criterion = OutboxItem.status == HELD
    if kind:
        criterion &= OutboxItem.kind == kind
    return db.session.execute(
        update(OutboxItem)
        .where(criterion)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
