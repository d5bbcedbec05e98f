"""A real Redis stopped and started again under a busy worker: the worker lives on, the outbox
drains, and /health tells the truth (a fresh heartbeat after the outage)."""

from __future__ import annotations

import signal

import pytest
from sqlalchemy import func, select

from maillage.platform import mail
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.outbox.models import OutboxItem

from .conftest import wait_for

BEFORE, DURING = 30, 10


@pytest.fixture
def app_config(app_config, redis_broker, smtp):
    return {
        **app_config,
        "CELERY_ALWAYS_EAGER": False,
        "CELERY_BROKER_URL": redis_broker.url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
    }


def send_mails(count: int, label: str) -> list[str]:
    for number in range(count):
        mail.send(f"agent{number}@example.gouv.fr", f"{label} {number}", "Texte")
    db.session.commit()
    return [item.payload["message_id"] for item in db.session.scalars(select(OutboxItem))]


def pending() -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(OutboxItem).where(OutboxItem.status != "done")
    )


def test_worker_outlives_a_redis_restart_and_the_outbox_drains(
    app, client, redis_broker, smtp, start_worker, heartbeats
):
    smtp.handler.delay = 0.1  # each e-mail takes a while: the worker is busy when Redis dies
    worker = start_worker(beat=True, pool="prefork")  # as `flask maillage serve` runs it
    wait_for(lambda: heartbeats()[0], 60, "the worker to start")

    send_mails(BEFORE, "Avant")
    wait_for(lambda: len(smtp.handler.received) >= 3, 60, "the worker to be busy")
    redis_broker.stop(signal.SIGKILL)  # with an unacknowledged task in the worker's hands
    expected = send_mails(DURING, "Pendant")  # committed while the broker is gone
    redis_broker.start()
    back_at = utcnow()

    wait_for(lambda: pending() == 0, 120, "the outbox to drain")
    assert sorted(smtp.handler.received) == sorted(expected)  # every e-mail, exactly once
    assert worker.alive(), worker.output()[-3000:]
    wait_for(lambda: (heartbeats()[1] or back_at) > back_at, 90, "a heartbeat after the outage")
    health = client.get("/health")
    assert health.status_code == 200, health.json
    assert health.json["worker"]["status"] == "ok"
    assert health.json["outbox"]["oldest_due_age"] == 0
    assert "Unrecoverable error" not in worker.output()
