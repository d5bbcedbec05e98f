"""Background work of personal data exports: the outbox handler that builds an archive, and
the periodic removal of archives past their expiry (both idempotent)."""

from __future__ import annotations

from flask import current_app

from maillage.platform.celery_app import periodic_task
from maillage.platform.extensions import db
from maillage.platform.outbox.operations import handler
from maillage.platform.personal_data import operations


@handler(operations.KIND, per_item=True)
def build(_session, payloads: list[dict]) -> None:
    # A fresh app context gives the build its own ``db.session``: the exporters of every
    # package use it, and the outbox may run right after the commit of the caller's session
    # (eager Celery), when that session cannot emit SQL any more.
    for payload in payloads:
        with current_app.app_context():
            operations.build_export(payload["export_id"])


@periodic_task(3600.0, name="maillage.personal_data.expire_exports")
def expire_exports() -> int:
    removed = operations.expire_exports()
    db.session.commit()
    return removed
