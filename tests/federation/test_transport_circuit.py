"""The delivery circuit breaker against a real HTTP inbox that fails, then recovers.

Regression (issue 11): a burst of failed deliveries opened the circuit for its maximum (an hour)
within seconds, each failed request of the burst counting as one more step of backoff.  Now
failures are counted per time window, the circuit opens for a short pause, then ONE delivery
probes the host; a failed probe doubles the pause (capped), a success closes the circuit and
the backlog goes.  Time passes by giving ``deliver_due`` its ``now`` (or by moving the stored
times back, for the sweeper): no test waits.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, update

from maillage.federation.transport import delivery
from maillage.federation.transport.delivery import (
    CIRCUIT_MAX,
    CIRCUIT_PAUSE,
    CIRCUIT_THRESHOLD,
    CIRCUIT_WINDOW,
    deliver_due,
    enqueue_delivery,
)
from maillage.federation.transport.models import Delivery, Instance
from maillage.federation.transport.tasks import sweep_deliveries
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

SIGNER = "https://maillage.test/c/acheteurs"
HOST = "127.0.0.7"
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(scope="module")
def private_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class FlakyInbox:
    """An inbox answering 503 while ``failing``, else 202; counts every request it gets."""

    def __init__(self, address: str):
        self.failing = True
        self.requests = 0
        self.accepted: list[str] = []
        self.arrived: threading.Event | None = None
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if inbox.gate is not None:  # hold the answer until the test lets it go
                    inbox.arrived.set()
                    inbox.gate.wait(10)
                with inbox._lock:
                    inbox.requests += 1
                    status = 503 if inbox.failing else 202
                    if status == 202:
                        inbox.accepted.append(json.loads(body)["id"])
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.url = f"http://{address}:{self.httpd.server_address[1]}/inbox"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def inbox(app, private_pem, monkeypatch):
    app.config.update(FEDERATION_ALLOW_LOOPBACK=True, FEDERATION_MODE="open")
    monkeypatch.setattr(
        delivery, "signing_key_resolver", lambda ap_id: (f"{ap_id}#main-key", private_pem)
    )
    server = FlakyInbox(HOST)
    yield server
    server.close()


def queue(inbox: FlakyInbox, numbers, *, send_now: bool = False) -> None:
    """Deliveries of activities ``numbers``; sent by the caller (``deliver_due``) unless
    ``send_now`` (then at the commit, as in production)."""
    for number in numbers:
        activity = {"id": f"{SIGNER}/activities/{number}", "type": "Announce", "actor": SIGNER}
        enqueue_delivery(activity, [inbox.url], SIGNER)
    if not send_now:
        db.session.info.pop("federation_hosts", None)
    db.session.commit()


def host() -> Instance:
    db.session.expire_all()
    return db.session.scalar(select(Instance).where(Instance.domain == HOST))


def rows() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def all_due(after: dt.datetime) -> dt.datetime:
    """A moment when the circuit's pause and every row's own backoff are over."""
    pending = [row.next_attempt_at for row in rows() if row.status == "pending"]
    return max([after, host().circuit_open_until or after, *pending]) + SECOND


def test_burst_opens_for_a_short_pause_then_one_probe_backs_off_and_recovery_closes(inbox):
    queue(inbox, range(20))
    start = utcnow()
    assert deliver_due(HOST, now=start) == 20
    assert inbox.requests == 20
    # Twenty failed requests of one burst: open for the short pause, not for the maximum.
    assert host().circuit_open_until == start + CIRCUIT_PAUSE
    assert host().failures == CIRCUIT_THRESHOLD
    assert deliver_due(HOST, now=start + CIRCUIT_PAUSE - SECOND) == 0
    assert inbox.requests == 20

    # Half-open: one probe, which fails: open again for twice the pause.
    moment = all_due(start + CIRCUIT_PAUSE)
    assert deliver_due(HOST, now=moment) == 1
    assert inbox.requests == 21
    assert host().circuit_open_until == moment + 2 * CIRCUIT_PAUSE
    assert deliver_due(HOST, now=moment + 2 * CIRCUIT_PAUSE - SECOND) == 0
    moment += 2 * CIRCUIT_PAUSE + SECOND
    assert deliver_due(HOST, now=moment) == 1
    assert host().circuit_open_until == moment + 4 * CIRCUIT_PAUSE
    assert inbox.requests == 22

    # The peer is back: the next probe succeeds, the circuit closes and the backlog goes.
    inbox.failing = False
    moment += 4 * CIRCUIT_PAUSE + SECOND
    assert deliver_due(HOST, now=moment) > 1
    assert (host().failures, host().circuit_open_until) == (0, None)
    deliver_due(HOST, now=all_due(moment))
    assert {row.status for row in rows()} == {"delivered"}
    assert sorted(inbox.accepted) == sorted(f"{SIGNER}/activities/{n}" for n in range(20))


def test_failed_probes_back_off_exponentially_up_to_the_cap(inbox):
    queue(inbox, range(CIRCUIT_THRESHOLD + 12))
    moment = utcnow()
    deliver_due(HOST, now=moment)
    pauses = []
    for _ in range(10):
        moment = host().circuit_open_until + SECOND
        before = inbox.requests
        db.session.execute(update(Delivery).values(next_attempt_at=moment))  # rows due
        db.session.commit()
        assert deliver_due(HOST, now=moment) == 1
        assert inbox.requests == before + 1  # one probe each time
        pauses.append(host().circuit_open_until - moment)
    assert pauses[:3] == [2 * CIRCUIT_PAUSE, 4 * CIRCUIT_PAUSE, 8 * CIRCUIT_PAUSE]
    assert max(pauses) == CIRCUIT_MAX
    assert pauses == sorted(pauses)


def test_failures_are_counted_per_window_not_in_total(inbox):
    queue(inbox, range(CIRCUIT_THRESHOLD - 1))
    start = utcnow()
    assert deliver_due(HOST, now=start) == CIRCUIT_THRESHOLD - 1
    assert host().circuit_open_until is None
    # The first rows wait for their own backoff; as many new ones fail a window later.
    db.session.execute(update(Delivery).values(next_attempt_at=start + dt.timedelta(hours=1)))
    db.session.commit()
    queue(inbox, range(100, 100 + CIRCUIT_THRESHOLD - 1))
    later = start + CIRCUIT_WINDOW + SECOND
    assert deliver_due(HOST, now=later) == CIRCUIT_THRESHOLD - 1
    instance = host()
    assert instance.circuit_open_until is None  # 8 failures, never 5 within one window
    assert instance.failures == CIRCUIT_THRESHOLD - 1
    # Inside one window, the threshold opens the circuit.
    queue(inbox, [200])
    assert deliver_due(HOST, now=later + SECOND) == 1
    assert host().circuit_open_until == later + SECOND + CIRCUIT_PAUSE


def test_the_sweeper_probes_after_the_pause_without_the_peer_writing_to_us(inbox):
    queue(inbox, range(8), send_now=True)  # sent at the commit, as in production
    assert inbox.requests == 8
    assert host().circuit_open_until is not None

    def pause_over():  # the stored times moved back: the pause and every backoff are over
        past = utcnow() - SECOND
        db.session.execute(update(Instance).values(circuit_open_until=past))
        db.session.execute(update(Delivery).values(next_attempt_at=past))
        db.session.commit()

    pause_over()
    sweep_deliveries()
    assert inbox.requests == 9  # one probe, still failing
    assert host().circuit_open_until > utcnow()
    inbox.failing = False
    pause_over()
    sweep_deliveries()
    assert {row.status for row in rows()} == {"delivered"}
    assert inbox.requests == 9 + 8
    assert (host().failures, host().circuit_open_until) == (0, None)


def test_only_one_worker_probes_a_half_open_host(app, inbox):
    queue(inbox, range(CIRCUIT_THRESHOLD + 2))
    start = utcnow()
    deliver_due(HOST, now=start)
    moment = all_due(start)
    before = inbox.requests
    inbox.arrived, inbox.gate = threading.Event(), threading.Event()

    def first_worker():
        with app.app_context():
            deliver_due(HOST, now=moment)

    worker = threading.Thread(target=first_worker)
    worker.start()
    try:
        assert inbox.arrived.wait(10)  # its probe is at the peer, unanswered
        assert deliver_due(HOST, now=moment) == 0  # a second worker sends nothing
    finally:
        inbox.gate.set()
        worker.join(10)
    assert inbox.requests == before + 1
    assert host().circuit_open_until == moment + 2 * CIRCUIT_PAUSE
