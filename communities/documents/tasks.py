"""Housekeeping of uploaded files (idempotent)."""

from __future__ import annotations

from maillage.platform.celery_app import periodic_task
from maillage.platform.storage import get_storage

#: Temporary upload files older than this are left-overs of a crash: removed.
TEMPORARY_MAX_AGE = 24 * 3600


@periodic_task(6 * 3600.0, name="maillage.documents.sweep_temporary_files")
def sweep_temporary_files() -> int:
    return get_storage().sweep_temporary(TEMPORARY_MAX_AGE)
