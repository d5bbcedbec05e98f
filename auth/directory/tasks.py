"""The periodic directory sync (hourly), a thin wrapper around :mod:`auth.directory.sync`.

Idempotent: running it twice applies the same state twice, the second time changes nothing.
"""

from __future__ import annotations

from maillage.auth.directory.sync import sync_all
from maillage.platform.celery_app import periodic_task

SCHEDULE = 3600.0


@periodic_task(SCHEDULE, name="maillage.directory.sync")
def sync_directories() -> None:
    sync_all()
