"""The worker's heartbeat (see models.WorkerHeartbeat)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.health.models import WorkerHeartbeat

#: Rows of workers silent for this long are removed (renamed or retired workers).
FORGET_AFTER = dt.timedelta(days=7)


def record_heartbeat(worker: str) -> None:
    """Record that ``worker`` is alive now (and forget workers long gone); commits."""
    now = utcnow()
    worker = worker[:255]
    updated = db.session.execute(
        update(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker).values(seen_at=now)
    ).rowcount
    if not updated:
        try:
            with db.session.begin_nested():
                db.session.add(WorkerHeartbeat(worker=worker, seen_at=now))
        except IntegrityError:  # the same worker name, inserted meanwhile by a twin
            pass
    db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - FORGET_AFTER))
    db.session.commit()
