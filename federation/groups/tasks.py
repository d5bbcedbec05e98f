"""Celery tasks of the inboxes: thin, idempotent wrappers around ``processing``."""

from __future__ import annotations

from maillage.federation.groups import processing
from maillage.platform.celery_app import celery, periodic_task


@celery.task(name="maillage.federation.inbox.process")
def process_inbox_activity(row_id: int) -> str | None:
    """Handle one stored activity (nothing happens if it is done or leased elsewhere)."""
    return processing.process(row_id)


@periodic_task(60.0, name="maillage.federation.inbox.sweep")
def sweep_inbox() -> int:
    """The safety net: pending activities whose task was lost, or due for a retry."""
    return processing.sweep()
