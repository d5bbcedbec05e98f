"""``/health``: what a load balancer or a monitoring probe asks.

200 when everything answers, 503 otherwise, always with a JSON body of figures (no personal
data): the database, the broker, the search index, the worker's heartbeat and the age of the
oldest outbox item waiting for it.  A handful of cheap queries.

The page is public, and its broker check may wait up to two seconds when the broker is down:
each process computes the figures at most once every ``HEALTH_CACHE_SECONDS`` (5) and answers
from them in between, saying when they were taken (``checked_at``, ``age`` in seconds).  So
a few clients polling it during an outage cannot tie up the web workers.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

from flask import current_app, jsonify
from sqlalchemy import select, text

from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.health.blueprint import blueprint
from maillage.platform.health.queries import outbox_status, worker_status
from maillage.platform.search.backend import get_backend

DEFAULT_CACHE_SECONDS = 5


@dataclass
class _Figures:
    body: dict
    status_code: int
    taken_at: dt.datetime
    taken_monotonic: float


@dataclass
class _LastFigures:
    """The process's latest figures (one per app: tests make many apps in one process)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    figures: _Figures | None = None


@blueprint.route("/health")
def health():
    figures = _recent_figures()
    age = max(0, int(time.monotonic() - figures.taken_monotonic))
    response = jsonify(
        **figures.body,
        checked_at=figures.taken_at.isoformat(timespec="seconds"),
        age=age,
    )
    response.status_code = figures.status_code
    response.headers["Cache-Control"] = "no-store"
    return response


def _recent_figures() -> _Figures:
    """The figures taken within ``HEALTH_CACHE_SECONDS``, or new ones.  The lock is held while
    they are taken: requests arriving meanwhile wait for them rather than probe as well."""
    last = current_app.extensions.setdefault("health_figures", _LastFigures())
    max_age = float(current_app.config.get("HEALTH_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))
    with last.lock:
        figures = last.figures
        if figures is None or time.monotonic() - figures.taken_monotonic >= max_age:
            figures = last.figures = _take_figures()
        return figures


def _take_figures() -> _Figures:
    taken_at, taken_monotonic = utcnow(), time.monotonic()  # the figures are as old as this
    checks = {"database": _database_status()}
    checks["broker"] = _broker_status()
    checks["search"] = get_backend().status()
    if checks["database"]["status"] == "ok":
        checks.update(_background_status())
    else:
        checks["worker"] = checks["outbox"] = {"status": "unknown"}
    healthy = all(check["status"] == "ok" for check in checks.values())
    return _Figures(
        body={"status": "ok" if healthy else "degraded", **checks},
        status_code=200 if healthy else 503,
        taken_at=taken_at,
        taken_monotonic=taken_monotonic,
    )


def _database_status() -> dict:
    try:
        db.session.execute(select(text("1")))
        return {"status": "ok", "dialect": db.engine.dialect.name}
    except Exception as exc:
        db.session.rollback()
        return {"status": "error", "error": type(exc).__name__}


def _background_status() -> dict:
    try:
        return {"worker": worker_status(), "outbox": outbox_status()}
    except Exception as exc:  # the tables are missing (not migrated), the database went away
        db.session.rollback()
        failure = {"status": "error", "error": type(exc).__name__}
        return {"worker": failure, "outbox": failure}


def _broker_status() -> dict:
    celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        return {"status": "ok", "transport": "eager"}
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            return {"status": "ok", "transport": connection.transport_cls}
    except Exception as exc:
        return {"status": "error", "error": type(exc).__name__}
