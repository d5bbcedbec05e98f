"""Periodic job of server-side sessions (idempotent)."""

from __future__ import annotations

import datetime as dt

from celery.schedules import crontab

from maillage.auth.sessions.operations import purge_expired
from maillage.platform.celery_app import periodic_task
from maillage.platform.extensions import db


@periodic_task(crontab(minute=5), name="maillage.auth.sessions.purge_expired")
def purge_expired_sessions(now: str | None = None) -> int:
    """Delete, hourly, the session records past their lifetime or idle timeout."""
    purged = purge_expired(dt.datetime.fromisoformat(now) if now else None)
    db.session.commit()
    return purged
