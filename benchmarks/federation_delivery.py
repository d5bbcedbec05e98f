"""Federation delivery throughput: signed deliveries per second to N receiving servers, and how
long a backlog takes to drain once a receiver that was down comes back.

For N in (1, 4, 16) (``--receivers``) starts N HTTP inboxes on loopback (127.0.0.10, .11, …;
each verifies every HTTP signature, as a real peer does), queues ``--activities`` activities
for each of them through
``enqueue_delivery`` in one transaction, then runs one ``deliver_due`` per host at once (as one
Celery task per host would, each with 4 requests in flight) and prints the rate.  Then one
receiver answers 503 while ``--backlog`` activities are queued for it; it comes back,
``note_host_alive`` revives it, and the time to drain the backlog is printed.

    python benchmarks/federation_delivery.py
    python benchmarks/federation_delivery.py --receivers 2,8 --activities 300 --backlog 1000

Figures, not assertions: compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from maillage.federation.transport import delivery
from maillage.federation.transport.signatures import verify_request
from maillage.platform.app import create_app
from maillage.platform.extensions import db

SIGNER = "https://maillage.test/c/benchmark"


class Inbox:
    def __init__(self, address: str, public_pem: str):
        self.status = 202
        self.received = 0
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                verify_request("POST", self.path, self.headers, body, lambda _k, _r: public_pem)
                status = inbox.status
                if status < 300:
                    inbox.received += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.host = address
        self.inbox = f"http://{address}:{self.server.server_address[1]}/inbox"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def keypair() -> tuple[str, str]:
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


def make_app(folder: Path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "benchmark-secret-key-with-enough-length-123456",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
            "CELERY_ALWAYS_EAGER": True,
            "CELERY_BROKER_URL": "memory://",
            "BASE_URL": "https://maillage.test",
            "SEARCH_INDEX_PATH": str(folder / "index"),
            "MAIL_FOLDER": str(folder / "mail"),
            "LOG_LEVEL": "WARNING",
            "FEDERATION_ALLOW_LOOPBACK": True,
            "FEDERATION_MODE": "open",
        },
        instance_path=folder / "instance",
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def activity(number: int) -> dict:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{SIGNER}/activities/{number}",
        "type": "Announce",
        "actor": SIGNER,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": f"https://maillage.test/post/{number}",
            "type": "Page",
            "name": f"Publication {number}",
            "content": "<p>" + "Retour d'expérience sur la mutualisation des achats. " * 8 + "</p>",
        },
    }


def enqueue(activities: range, inboxes: list[str]) -> int:
    """Queue without waking the per-host tasks (they are run by hand, in parallel)."""
    count = sum(delivery.enqueue_delivery(activity(n), inboxes, SIGNER) for n in activities)
    db.session.info.pop("federation_hosts", None)
    db.session.commit()
    return count


def drain(app, hosts: list[str]) -> float:
    """One delivery task per host at once, until nothing is due; returns the seconds it took."""

    def run(host: str) -> None:
        with app.app_context():
            while delivery.deliver_due(host):
                pass

    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(host,)) for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def throughput(app, counts: list[int], per_receiver: int, public: str) -> list[Inbox]:
    """Deliveries/s to N receivers for each N of ``counts``; returns the receivers made."""
    inboxes: list[Inbox] = []
    first = 0
    for count in counts:
        while len(inboxes) < count:
            inboxes.append(Inbox(f"127.0.0.{10 + len(inboxes)}", public))
        chosen = inboxes[:count]
        before = sum(inbox.received for inbox in chosen)
        queued = enqueue(range(first, first + per_receiver), [inbox.inbox for inbox in chosen])
        first += per_receiver
        seconds = drain(app, [inbox.host for inbox in chosen])
        received = sum(inbox.received for inbox in chosen) - before
        print(
            f"N={count:>2} receivers: {queued} deliveries queued, {received} received, "
            f"{received / seconds:.0f} signed deliveries/s ({seconds:.2f} s)"
        )
    return inboxes


def backlog_drain(app, down: Inbox, size: int, first: int) -> None:
    down.status = 503
    backlog = enqueue(range(first, first + size), [down.inbox])
    drain(app, [down.host])  # first attempts fail: the host's circuit opens
    pending = delivery.pending_count(down.host)
    print(f"backlog while {down.host} answers 503: {pending} pending of {backlog}")
    down.status = 202
    before = down.received
    delivery.note_host_alive(down.host)
    db.session.info.pop("federation_hosts", None)
    db.session.commit()
    seconds = drain(app, [down.host])
    drained = down.received - before
    print(
        f"backlog drain time after the peer came back: {seconds:.2f} s for {drained} "
        f"({drained / seconds:.0f}/s), still pending: {delivery.pending_count(down.host)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--receivers", default="1,4,16", help="comma-separated numbers of receiving instances"
    )
    parser.add_argument("--activities", type=int, default=100, help="per receiver")
    parser.add_argument("--backlog", type=int, default=500)
    args = parser.parse_args()
    counts = [int(value) for value in args.receivers.split(",") if value.strip()]

    private, public = keypair()
    delivery.signing_key_resolver = lambda ap_id: (f"{ap_id}#main-key", private)
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        with app.app_context():
            inboxes = throughput(app, counts, args.activities, public)
            backlog_drain(app, inboxes[0], args.backlog, args.activities * len(counts))
            db.engine.dispose()


if __name__ == "__main__":
    main()
