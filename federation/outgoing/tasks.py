"""Celery tasks of outgoing federation (thin wrappers)."""

from __future__ import annotations

from flask import current_app

from maillage.federation.outgoing import removal_checks
from maillage.platform.celery_app import periodic_task


@periodic_task(60.0, "maillage.federation.removal_checks")
def check_removals() -> int:
    """Read back the removals of remote objects that are due (see ``removal_checks``)."""
    with current_app.app_context():
        return removal_checks.run_due()
