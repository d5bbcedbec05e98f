"""What /health reports about the worker and the outbox: two indexed aggregate queries."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import func, select

from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.health.models import WorkerHeartbeat
from maillage.platform.outbox.models import OutboxItem
from maillage.platform.outbox.operations import PENDING


def _age(moment: dt.datetime | None, now: dt.datetime) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # an aggregate over SQLite comes back naive (UTC)
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0, int((now - moment).total_seconds()))


def worker_status(now: dt.datetime | None = None) -> dict:
    """The newest heartbeat's age and how many workers beat within the allowed silence."""
    now = now or utcnow()
    max_silence = int(current_app.config["HEALTH_WORKER_MAX_SILENCE"])
    if current_app.config["CELERY_ALWAYS_EAGER"]:
        return {"status": "ok", "mode": "eager"}  # tasks run in the caller: no worker to watch
    newest, recent = db.session.execute(
        select(
            func.max(WorkerHeartbeat.seen_at),
            func.count().filter(WorkerHeartbeat.seen_at >= now - dt.timedelta(seconds=max_silence)),
        )
    ).one()
    age = _age(newest, now)
    healthy = age is not None and age <= max_silence
    return {
        "status": "ok" if healthy else "error",
        "last_heartbeat_age": age,
        "max_silence": max_silence,
        "workers": recent,
    }


def outbox_status(now: dt.datetime | None = None) -> dict:
    """How long the oldest item that is due has been waiting for a worker.

    Items waiting for a retry (after a failure) or leased to a worker are not due yet: only a
    worker that is gone, stuck or far behind lets due items grow old.
    """
    now = now or utcnow()
    max_age = int(current_app.config["HEALTH_OUTBOX_MAX_AGE"])
    oldest = db.session.scalar(
        select(func.min(OutboxItem.available_at)).where(
            OutboxItem.status == PENDING, OutboxItem.available_at <= now
        )
    )
    age = _age(oldest, now) or 0
    return {
        "status": "ok" if age <= max_age else "error",
        "oldest_due_age": age,
        "max_age": max_age,
    }
