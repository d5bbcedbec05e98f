"""Periodic jobs of account deletion (idempotent)."""

from __future__ import annotations

import datetime as dt

from celery.schedules import crontab

from maillage.platform.account_deletion import inactivity
from maillage.platform.account_deletion.operations import purge_delivered_keys, queue_due
from maillage.platform.celery_app import periodic_task


def _moment(now: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(now) if now else None


@periodic_task(crontab(minute=15), name="maillage.account_deletion.execute_due")
def execute_due(now: str | None = None) -> int:
    """Queue the deletions that are due, hourly; then forget the keys no longer needed."""
    queued = queue_due(_moment(now))
    purge_delivered_keys()
    return queued


@periodic_task(crontab(minute=45, hour=4), name="maillage.account_deletion.inactive_accounts")
def inactive_accounts(now: str | None = None) -> list[int]:
    """Warn, then schedule the deletion of, inactive accounts (daily)."""
    return list(inactivity.run(_moment(now)))
