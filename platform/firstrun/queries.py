"""Whether first-run setup is done, asked on every request by the gate: once the answer is yes,
the process remembers it (setup is never undone), so a set-up instance makes no query for it."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import select

from maillage.platform.extensions import db
from maillage.platform.firstrun.models import INSTANCE_STATE_ID, InstanceState

#: ``app.extensions`` key of the per-app memory (each app, hence each test, has its own).
EXTENSION = "maillage.firstrun"


def setup_done() -> bool:
    """Whether the instance is set up: remembered in the process once true."""
    memory = current_app.extensions.setdefault(EXTENSION, {})
    if memory.get("setup_done"):
        return True
    completed = db.session.scalar(
        select(InstanceState.setup_completed_at).where(InstanceState.id == INSTANCE_STATE_ID)
    )
    if completed is not None:
        memory["setup_done"] = True
    return completed is not None


def remember_setup_done(app: Flask) -> None:
    """Tell ``app`` that setup is done without asking the database (it was just committed)."""
    app.extensions.setdefault(EXTENSION, {})["setup_done"] = True
