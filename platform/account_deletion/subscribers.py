"""The outbox handler that carries out one due deletion."""

from __future__ import annotations

import datetime as dt

from flask import current_app

from maillage.platform.account_deletion.operations import EXECUTE_KIND, execute
from maillage.platform.extensions import db
from maillage.platform.outbox.operations import handler


@handler(EXECUTE_KIND, per_item=True)
def execute_item(_session, payloads: list[dict]) -> None:
    """Run in a fresh app context, hence its own database session: the holders write through
    ``db.session``, and the outbox may be processed right after another session's commit."""
    for payload in payloads:
        now = dt.datetime.fromisoformat(payload["now"]) if payload.get("now") else None
        with current_app.app_context():
            try:
                execute(int(payload["user_id"]), now)
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
