"""Periodic publication of the scheduled posts (every minute; idempotent)."""

from __future__ import annotations

import datetime as dt

from maillage.communities.animation.operations import publish_due
from maillage.platform.celery_app import periodic_task


@periodic_task(60.0, name="maillage.animation.publish_scheduled")
def publish_scheduled(now: str | None = None) -> int:
    """Publish what is due (``now``: an ISO time, to replay a given run)."""
    return publish_due(dt.datetime.fromisoformat(now) if now else None)
