"""/health reports the worker's heartbeat and the outbox's oldest due item: 503 past the limits,
a JSON body of figures without personal data, a few cheap queries."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from sqlalchemy import select, update

from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.health.models import WorkerHeartbeat
from maillage.platform.health.operations import record_heartbeat
from maillage.platform.health.tasks import heartbeat
from maillage.platform.outbox import operations as outbox
from maillage.platform.outbox.models import OutboxItem

WORKER = "worker@machine-de-prod.example"


@pytest.fixture
def app_config(app_config, redis_broker, request):
    """A real worker setup: tasks go through a broker (our own Redis), not run in the caller.
    A test may add settings with an indirect parametrisation."""
    return {
        **app_config,
        "CELERY_ALWAYS_EAGER": False,
        "CELERY_BROKER_URL": redis_broker.url,
        "HEALTH_WORKER_MAX_SILENCE": 120,
        "HEALTH_OUTBOX_MAX_AGE": 600,
        **getattr(request, "param", {}),
    }


def seconds_ago(seconds: float) -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=seconds)


def queue_quietly(kind: str = "test.nothing") -> OutboxItem:
    item = outbox.enqueue(kind)
    db.session.info.pop("outbox_dirty", None)  # no wake-up: no worker is listening anyway
    db.session.commit()
    return item


def test_no_heartbeat_yet_is_a_503(client):
    """Regression: with the worker dead, /health said 200."""
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert response.json["worker"] == {
        "status": "error",
        "last_heartbeat_age": None,
        "max_silence": 120,
        "workers": 0,
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_a_recent_heartbeat_and_no_late_item_is_a_200(client):
    record_heartbeat(WORKER)
    response = client.get("/health")
    assert response.status_code == 200, response.json
    assert response.json["worker"]["status"] == "ok"
    assert response.json["worker"]["workers"] == 1
    assert response.json["worker"]["last_heartbeat_age"] <= 120
    assert response.json["outbox"] == {"status": "ok", "oldest_due_age": 0, "max_age": 600}
    assert WORKER not in response.text  # host names are not shown to the world


def test_a_silent_worker_is_a_503_with_its_silence(client):
    record_heartbeat(WORKER)
    db.session.execute(update(WorkerHeartbeat).values(seen_at=seconds_ago(500)))
    db.session.commit()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json["worker"]["status"] == "error"
    assert 500 <= response.json["worker"]["last_heartbeat_age"] < 600
    assert response.json["worker"]["workers"] == 0


def test_an_item_due_for_too_long_is_a_503_with_its_age(client):
    record_heartbeat(WORKER)
    queue_quietly()
    db.session.execute(update(OutboxItem).values(available_at=seconds_ago(1000)))
    db.session.commit()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json["outbox"]["status"] == "error"
    assert 1000 <= response.json["outbox"]["oldest_due_age"] < 1100
    assert set(response.json["outbox"]) == {"status", "oldest_due_age", "max_age"}  # figures only


def test_items_waiting_for_a_retry_or_leased_are_not_late(client):
    """Only a worker that is gone or far behind makes due items old: an item failing and
    waiting for its next attempt, or one a worker is working on, does not count."""
    record_heartbeat(WORKER)
    queue_quietly()
    queue_quietly()
    db.session.execute(
        update(OutboxItem).values(created_at=seconds_ago(5000), available_at=seconds_ago(-300))
    )
    db.session.commit()
    response = client.get("/health")
    assert response.status_code == 200, response.json
    assert response.json["outbox"]["oldest_due_age"] == 0


def test_health_is_a_few_cheap_queries(client, count_queries):
    record_heartbeat(WORKER)
    for _ in range(3):
        queue_quietly()
    with count_queries() as queries:
        assert client.get("/health").status_code == 200
    assert len(queries) <= 3  # SELECT 1, the heartbeat, the outbox


def test_the_heartbeat_task_records_its_worker_once(app):
    heartbeat.apply()  # as a worker runs it (its host name stands in for the worker's name)
    heartbeat.apply()
    rows = db.session.scalars(select(WorkerHeartbeat)).all()
    assert len(rows) == 1
    assert rows[0].seen_at >= seconds_ago(60)


def test_workers_gone_for_a_week_are_forgotten(app):
    record_heartbeat("worker@retired")
    db.session.execute(update(WorkerHeartbeat).values(seen_at=seconds_ago(8 * 86400)))
    db.session.commit()
    record_heartbeat(WORKER)
    assert db.session.scalars(select(WorkerHeartbeat.worker)).all() == [WORKER]


# -- one broker probe per process every few seconds ---------------------------------------------


def broker_connections(redis_server) -> int:
    """How many connections our Redis has accepted so far (its own ``INFO`` count; the
    connection asking counts as one)."""
    with socket.create_connection(("127.0.0.1", redis_server.port), timeout=5) as sock:
        sock.sendall(b"INFO stats\r\n")
        reply = b""
        while b"total_connections_received:" not in reply or not reply.endswith(b"\r\n"):
            chunk = sock.recv(65536)
            assert chunk, "Redis closed the connection"
            reply += chunk
    line = reply.split(b"total_connections_received:")[1].split(b"\r\n")[0]
    return int(line)


def probes_for_two_health_calls(client, redis_server) -> int:
    before = broker_connections(redis_server)
    first, second = client.get("/health"), client.get("/health")
    assert first.status_code == second.status_code
    return broker_connections(redis_server) - before - 1  # minus the second INFO's connection


def test_health_probes_the_broker_once_per_interval(client, redis_broker):
    """Regression: each public /health hit opened a broker connection (up to 2 s each while the
    broker is down).  The second call within the interval answers from the first's figures and
    says how old they are."""
    record_heartbeat(WORKER)
    assert probes_for_two_health_calls(client, redis_broker) == 1
    first = client.get("/health").json
    assert first["broker"]["status"] == "ok"
    checked_at = dt.datetime.fromisoformat(first["checked_at"])
    assert seconds_ago(60) <= checked_at <= utcnow()
    assert 0 <= first["age"] <= 5


@pytest.mark.parametrize("app_config", [{"HEALTH_CACHE_SECONDS": 0}], indirect=True)
def test_without_the_interval_each_call_probes_the_broker(client, redis_broker):
    """The counting itself: with no reuse, two calls are two broker connections."""
    record_heartbeat(WORKER)
    assert probes_for_two_health_calls(client, redis_broker) == 2
