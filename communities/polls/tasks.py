"""Polls past their closing date: written as closed and their voters told (idempotent).

They already behave as closed without this task (``Poll.is_closed`` compares ``closes_at`` with
the time); the task only records the closing and sends the ``poll_closed`` notifications.
"""

from __future__ import annotations

from maillage.communities.polls.operations import close_due_polls
from maillage.platform.celery_app import periodic_task
from maillage.platform.extensions import db


@periodic_task(300.0, name="maillage.polls.close_due")
def close_due() -> int:
    closed = close_due_polls()
    db.session.commit()
    return closed
