"""Delivery outbox against real HTTP receivers on loopback: signed POSTs, permanent and retryable
failures, Retry-After, backoff over 48 h, circuit breaker, dead hosts and revival, sweeper,
idempotence, policy."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from maillage.federation.transport import delivery
from maillage.federation.transport.delivery import (
    CIRCUIT_THRESHOLD,
    MAX_ATTEMPTS,
    deliver_due,
    enqueue_delivery,
    note_host_alive,
    parse_retry_after,
    retry_delay,
)
from maillage.federation.transport.models import Delivery, Instance
from maillage.federation.transport.operations import set_instance_policy
from maillage.federation.transport.signatures import SignatureError, verify_request
from maillage.federation.transport.tasks import sweep_deliveries
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

SIGNER = "https://maillage.test/c/acheteurs"
KEY_ID = f"{SIGNER}#main-key"


@pytest.fixture(scope="module")
def keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class Receiver:
    """An inbox on ``address``: answers ``statuses`` in turn (then the last one), verifies each
    signature with ``public_pem`` and keeps what it accepted."""

    def __init__(self, address: str, public_pem: str):
        self.statuses = [202]
        self.headers = {}
        self.accepted: list[dict] = []
        self.requests = 0
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests += 1
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                try:
                    verify_request("POST", self.path, self.headers, body, lambda _k, _r: public_pem)
                except SignatureError:
                    receiver.bad_signatures += 1
                    status = 401
                if 200 <= status < 300:
                    receiver.accepted.append(json.loads(body))
                self.send_response(status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.host = address
        self.inbox = f"http://{address}:{self.httpd.server_address[1]}/inbox"
        # A short poll interval: ``shutdown()`` waits for the loop to notice, 0.5 s by default.
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def federated(app, keypair, monkeypatch):
    app.config.update(FEDERATION_ALLOW_LOOPBACK=True, FEDERATION_MODE="open")
    monkeypatch.setattr(
        delivery, "signing_key_resolver", lambda ap_id: (f"{ap_id}#main-key", keypair[0])
    )
    return app


@pytest.fixture
def receiver(federated, keypair):
    receiver = Receiver("127.0.0.4", keypair[1])
    yield receiver
    receiver.close()


def activity(number: int = 1) -> dict:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{SIGNER}/activities/{number}",
        "type": "Announce",
        "actor": SIGNER,
        "object": {"id": f"https://maillage.test/post/{number}", "type": "Page"},
    }


def rows() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def instance(host: str) -> Instance:
    db.session.expire_all()
    return db.session.scalar(select(Instance).where(Instance.domain == host))


def later(row: Delivery) -> dt.datetime:
    return row.next_attempt_at + dt.timedelta(seconds=1)


# -- the happy path ----------------------------------------------------------------------------


def test_delivered_signed_after_commit(receiver):
    assert enqueue_delivery(activity(), [receiver.inbox], SIGNER) == 1
    assert receiver.requests == 0  # nothing leaves before the commit
    db.session.commit()
    assert receiver.accepted == [activity()]
    assert receiver.bad_signatures == 0
    [row] = rows()
    assert (row.status, row.attempts, row.host) == ("delivered", 1, "127.0.0.4")
    assert row.delivered_at is not None
    assert instance("127.0.0.4").last_success_at is not None


def test_rollback_sends_nothing(receiver):
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.rollback()
    assert rows() == []
    assert receiver.requests == 0


def test_idempotent_enqueue_and_delivery(receiver):
    assert enqueue_delivery(activity(), [receiver.inbox, receiver.inbox], SIGNER) == 1
    assert enqueue_delivery(activity(), [receiver.inbox], SIGNER) == 0
    db.session.commit()
    assert enqueue_delivery(activity(), [receiver.inbox], SIGNER) == 0
    db.session.commit()
    assert deliver_due("127.0.0.4") == 0
    sweep_deliveries()
    assert receiver.requests == 1
    assert len(rows()) == 1


def test_several_in_flight_and_all_delivered(receiver):
    for number in range(40):
        enqueue_delivery(activity(number), [receiver.inbox], SIGNER)
    db.session.commit()
    assert receiver.requests == 40
    assert {row.status for row in rows()} == {"delivered"}
    assert sorted(item["id"] for item in receiver.accepted) == sorted(
        activity(number)["id"] for number in range(40)
    )


def test_policy_own_host_and_bad_urls_are_skipped(federated, receiver, create_user):
    admin = create_user("chef", is_admin=True)
    other = Receiver("127.0.0.5", "unused")
    try:
        set_instance_policy(admin, "127.0.0.5", "denied", "spam")
        inboxes = [
            receiver.inbox,
            other.inbox,
            "https://maillage.test/inbox",
            "ftp://127.0.0.4/inbox",
            "",
        ]
        assert enqueue_delivery(activity(), inboxes, SIGNER) == 1
        db.session.commit()
        federated.config["FEDERATION_MODE"] = "allowlist"
        assert enqueue_delivery(activity(2), [receiver.inbox], SIGNER) == 0
        set_instance_policy(admin, "127.0.0.4", "allowed")
        assert enqueue_delivery(activity(2), [receiver.inbox], SIGNER) == 1
        db.session.commit()
        assert other.requests == 0
        assert receiver.requests == 2
    finally:
        other.close()
    with pytest.raises(ValueError, match="id"):
        enqueue_delivery({"type": "Create"}, [receiver.inbox], SIGNER)


def test_signing_key_is_resolved_at_send_time(receiver, keypair, monkeypatch):
    calls = []

    def resolver(ap_id):
        calls.append(ap_id)
        return f"{ap_id}#main-key", keypair[0]

    monkeypatch.setattr(delivery, "signing_key_resolver", resolver)
    receiver.statuses = [500, 202]
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.commit()
    deliver_due("127.0.0.4", now=later(rows()[0]))
    assert calls == [SIGNER, SIGNER]  # each attempt signs afresh
    assert receiver.bad_signatures == 0


def test_missing_signing_key_fails_the_delivery(receiver, monkeypatch):
    def resolver(ap_id):
        raise LookupError(ap_id)

    monkeypatch.setattr(delivery, "signing_key_resolver", resolver)
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.commit()
    [row] = rows()
    assert row.status == "failed"
    assert "no signing key" in row.last_error
    assert receiver.requests == 0


# -- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_permanent_4xx_is_never_retried(receiver, status):
    receiver.statuses = [status]
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.commit()
    [row] = rows()
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, f"HTTP {status}")
    assert instance("127.0.0.4").failures == 0  # the host answered: it is alive
    assert deliver_due("127.0.0.4", now=utcnow() + dt.timedelta(days=3)) == 0
    assert receiver.requests == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_retryable_status_is_retried_with_backoff(receiver, status):
    receiver.statuses = [status, 202]
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.commit()
    [row] = rows()
    assert (row.status, row.attempts) == ("pending", 1)
    wait = row.next_attempt_at - utcnow()
    assert dt.timedelta(seconds=40) < wait < dt.timedelta(seconds=75)
    assert deliver_due("127.0.0.4") == 0  # not due yet
    assert deliver_due("127.0.0.4", now=later(row)) == 1
    [row] = rows()
    assert (row.status, row.attempts) == ("delivered", 2)
    assert receiver.accepted == [activity()]


def test_retry_after_is_honoured(receiver):
    receiver.statuses = [429, 202]
    receiver.headers = {"Retry-After": "7200"}
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.commit()
    [row] = rows()
    wait = row.next_attempt_at - utcnow()
    assert dt.timedelta(hours=1, minutes=59) < wait <= dt.timedelta(hours=2)


def test_retry_after_parsing():
    now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    assert parse_retry_after("120", now) == dt.timedelta(minutes=2)
    assert parse_retry_after("Fri, 01 May 2026 13:00:00 GMT", now) == dt.timedelta(hours=1)
    assert parse_retry_after("Fri, 01 May 2026 11:00:00 GMT", now) == dt.timedelta(0)
    assert parse_retry_after("999999999", now) == dt.timedelta(hours=24)
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_spans_more_than_48_hours_with_jitter():
    class Lowest:
        def uniform(self, low, _high):
            return low

    class Highest:
        def uniform(self, _low, high):
            return high

    shortest = sum((retry_delay(n, Lowest()) for n in range(1, MAX_ATTEMPTS)), dt.timedelta())
    assert shortest >= dt.timedelta(hours=48)
    assert retry_delay(1, Lowest()) < retry_delay(1, Highest())
    assert retry_delay(30, Highest()) <= dt.timedelta(hours=12) * 1.2
    rng = random.Random(4)
    assert len({retry_delay(3, rng) for _ in range(5)}) == 5  # jittered


def test_gives_up_after_max_attempts(receiver):
    receiver.statuses = [500]
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.commit()
    for _ in range(MAX_ATTEMPTS - 1):
        row = rows()[0]
        db.session.execute(
            Instance.__table__.update().values(circuit_open_until=None, dead_since=None)
        )
        db.session.commit()
        deliver_due("127.0.0.4", now=later(row))
    [row] = rows()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert receiver.requests == MAX_ATTEMPTS


def test_network_error_is_retried(federated):
    enqueue_delivery(activity(), ["http://127.0.0.6:9/inbox"], SIGNER)  # nothing listens there
    db.session.commit()
    [row] = rows()
    assert row.status == "pending"
    assert "network error" in row.last_error
    assert instance("127.0.0.6").failures == 1


# -- circuit breaker, dead hosts ----------------------------------------------------------------


def test_circuit_breaker_stops_and_probes(receiver):
    receiver.statuses = [500]
    for number in range(CIRCUIT_THRESHOLD + 3):
        enqueue_delivery(activity(number), [receiver.inbox], SIGNER)
    db.session.commit()
    host = instance("127.0.0.4")
    assert host.failures >= CIRCUIT_THRESHOLD
    assert host.circuit_open_until is not None
    requests = receiver.requests
    moment = max(row.next_attempt_at for row in rows()) + dt.timedelta(seconds=1)
    moment = min(moment, host.circuit_open_until - dt.timedelta(seconds=1))
    assert deliver_due("127.0.0.4", now=moment) == 0  # circuit open: nothing sent
    assert receiver.requests == requests
    # Half-open: after the pause one request probes the host; it answers, so the rest follows.
    receiver.statuses = [202]
    after = max([host.circuit_open_until] + [row.next_attempt_at for row in rows()])
    assert deliver_due("127.0.0.4", now=after + dt.timedelta(seconds=1)) == CIRCUIT_THRESHOLD + 3
    host = instance("127.0.0.4")
    assert (host.failures, host.circuit_open_until) == (0, None)
    assert {row.status for row in rows()} == {"delivered"}


def test_dead_host_gets_no_new_deliveries_and_revives(federated, receiver):
    receiver.statuses = [500]
    enqueue_delivery(activity(1), [receiver.inbox], SIGNER)
    db.session.commit()
    host = instance("127.0.0.4")
    host.failing_since = utcnow() - dt.timedelta(days=8)
    db.session.commit()
    deliver_due("127.0.0.4", now=later(rows()[0]))
    host = instance("127.0.0.4")
    assert host.dead_since is not None
    assert enqueue_delivery(activity(2), [receiver.inbox], SIGNER) == 0  # dead: nothing new
    # An incoming signed activity from it: revived, and the backlog goes at once.
    receiver.statuses = [202]
    note_host_alive("127.0.0.4")
    db.session.commit()
    host = instance("127.0.0.4")
    assert (host.dead_since, host.failures, host.circuit_open_until) == (None, 0, None)
    assert [row.status for row in rows()] == ["delivered"]
    assert receiver.accepted == [activity(1)]
    assert enqueue_delivery(activity(2), [receiver.inbox], SIGNER) == 1


def test_dead_after_days_comes_from_the_configuration(federated, receiver):
    federated.config["FEDERATION_DEAD_AFTER_DAYS"] = 1
    receiver.statuses = [500]
    enqueue_delivery(activity(1), [receiver.inbox], SIGNER)
    db.session.commit()
    host = instance("127.0.0.4")
    host.failing_since = utcnow() - dt.timedelta(days=2)
    db.session.commit()
    deliver_due("127.0.0.4", now=later(rows()[0]))
    assert instance("127.0.0.4").dead_since is not None


def test_dead_host_is_probed_by_the_sweeper(federated, receiver):
    receiver.statuses = [410]
    enqueue_delivery(activity(1), [receiver.inbox], SIGNER)
    db.session.commit()
    host = instance("127.0.0.4")
    host.dead_since = host.failing_since = utcnow() - dt.timedelta(days=8)
    host.last_failure_at = utcnow() - dt.timedelta(hours=2)
    host.failures = 50
    db.session.commit()
    sweep_deliveries()  # nothing pending: a GET of its NodeInfo answers, so it is alive
    host = instance("127.0.0.4")
    assert (host.dead_since, host.failures) == (None, 0)


def test_note_host_alive_is_cheap_for_healthy_hosts(receiver, count_queries):
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.commit()
    with count_queries() as queries:
        note_host_alive("127.0.0.4")
        note_host_alive("unknown.example")
    assert len(queries) == 2
    assert not db.session.dirty


# -- sweeper -----------------------------------------------------------------------------------


def test_sweeper_sends_what_a_lost_task_left(receiver):
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.info.pop("federation_hosts")  # as if the broker lost the wake-up
    db.session.commit()
    assert receiver.requests == 0
    assert sweep_deliveries() == 1
    assert [row.status for row in rows()] == ["delivered"]


def test_sweeper_takes_over_an_expired_lease(receiver):
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.info.pop("federation_hosts")
    db.session.commit()
    row = rows()[0]
    row.lease = "a-worker-that-died"
    row.next_attempt_at = utcnow() + dt.timedelta(minutes=5)
    db.session.commit()
    assert sweep_deliveries() == 0  # still leased
    row.next_attempt_at = utcnow() - dt.timedelta(seconds=1)  # the lease expired
    db.session.commit()
    assert sweep_deliveries() == 1
    assert [row.status for row in rows()] == ["delivered"]
    assert receiver.requests == 1


def test_sweeper_expires_old_rows(receiver):
    enqueue_delivery(activity(), [receiver.inbox], SIGNER)
    db.session.info.pop("federation_hosts")
    db.session.commit()
    row = rows()[0]
    row.created_at = utcnow() - dt.timedelta(days=9)
    db.session.commit()
    sweep_deliveries()
    [row] = rows()
    assert (row.status, row.last_error) == ("failed", "expired")
    assert receiver.requests == 0
