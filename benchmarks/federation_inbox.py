"""Federation inbox: acceptance latency (p50/p95) of signed POSTs, and processing rate.

Serves the real app over HTTP on loopback (werkzeug, threaded, SQLite file) and a small remote
peer on 127.0.0.2 that serves its actors' documents and keys.  ``--senders`` threads, each an
actor of the peer with its own keep-alive connection, POST ``--activities`` signed
``Create{Page}`` activities each to the shared inbox at once: the inbox verifies the signature
(draft-cavage-12, RSA-2048), checks the policy, stores the row and answers 202.  Processing is
not done in the request (Celery is not eager here: the task messages wait in an in-memory
broker); afterwards the task function ``groups.processing.process`` is run on every stored row
and the rate printed.

    python benchmarks/federation_inbox.py
    python benchmarks/federation_inbox.py --senders 16 --activities 100

Figures, not assertions: compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import statistics
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server

from maillage.platform.app import create_app
from maillage.platform.extensions import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


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


class Peer:
    """Serves ``/u/<name>`` as a Person with the peer's public key; accepts POSTs."""

    def __init__(self, public_pem: str):
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rstrip("/").rsplit("/", 1)[-1]
                actor = f"{peer.base_url}/u/{name}"
                body = json.dumps(
                    {
                        "@context": "https://www.w3.org/ns/activitystreams",
                        "id": actor,
                        "type": "Person",
                        "preferredUsername": name,
                        "inbox": f"{actor}/inbox",
                        "endpoints": {"sharedInbox": f"{peer.base_url}/inbox"},
                        "publicKey": {
                            "id": f"{actor}#main-key",
                            "owner": actor,
                            "publicKeyPem": public_pem,
                        },
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.2:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def make_app(folder: Path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "benchmark-secret-key-with-enough-length-123456",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
            "CELERY_ALWAYS_EAGER": False,  # processing is measured apart
            "CELERY_BROKER_URL": "memory://",
            "BASE_URL": "http://127.0.0.1",  # the port is added once the server listens
            "SEARCH_INDEX_PATH": str(folder / "index"),
            "MAIL_FOLDER": str(folder / "mail"),
            "LOG_LEVEL": "ERROR",
            "FEDERATION_ALLOW_LOOPBACK": True,
            "FEDERATION_MODE": "open",
            "FEDERATION_GENERATE_KEYS_ON_CREATE": False,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_COST": 1024,
        },
        instance_path=folder / "instance",
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def make_community(app):
    from maillage.communities.community.operations import create_community
    from maillage.communities.users.operations import create_user

    with app.app_context():
        owner = create_user("hote", "Hôte", "hote@example.org", "correct horse battery")
        community = create_community(owner, "Banc d'essai", slug="banc")
        db.session.commit()
        return community.ap_id


class Sender(threading.Thread):
    """One remote actor POSTing its activities one after the other on a keep-alive
    connection; records each request's latency."""

    def __init__(self, name, peer, private_pem, port, community_id, count):
        super().__init__(daemon=True)
        self.actor = f"{peer.base_url}/u/{name}"
        self.peer, self.private_pem, self.port = peer, private_pem, port
        self.community_id, self.count = community_id, count
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}

    def activity(self, kind: str, obj) -> dict:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.peer.base_url}/activities/{uuid.uuid4()}",
            "type": kind,
            "actor": self.actor,
            "object": obj,
            "to": [PUBLIC],
            "audience": self.community_id,
        }

    def page(self) -> dict:
        return {
            "id": f"{self.peer.base_url}/post/{uuid.uuid4()}",
            "type": "Page",
            "attributedTo": self.actor,
            "to": [self.community_id, PUBLIC],
            "audience": self.community_id,
            "name": "Retour d'expérience",
            "content": "<p>" + "Mutualisation des achats publics. " * 20 + "</p>",
            "mediaType": "text/html",
        }

    def post(self, connection, activity: dict) -> float:
        from maillage.federation.transport.signatures import sign_request

        body = json.dumps(activity).encode()
        url = f"http://127.0.0.1:{self.port}/inbox"
        headers = sign_request("POST", url, body, f"{self.actor}#main-key", self.private_pem)
        headers["Host"] = f"127.0.0.1:{self.port}"
        start = time.perf_counter()
        connection.request("POST", "/inbox", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        return elapsed

    def warm_up(self) -> None:
        """A Follow first: the app fetches the actor's key once (not measured)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.post(connection, self.activity("Follow", self.community_id))
        connection.close()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for _ in range(self.count):
            self.latencies.append(self.post(connection, self.activity("Create", self.page())))
        connection.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def accept(senders: list[Sender]) -> None:
    start = time.perf_counter()
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    seconds = time.perf_counter() - start
    latencies = [value for sender in senders for value in sender.latencies]
    statuses: dict[int, int] = {}
    for sender in senders:
        for status, count in sender.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    print(
        f"senders: {len(senders)}, signed POSTs: {len(latencies)}, "
        f"statuses (warm-up Follows included): {statuses}"
    )
    print(
        f"inbox acceptance latency: p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms; {len(latencies) / seconds:.0f} accepted/s"
    )


def process_all(app) -> None:
    from maillage.federation.groups import processing

    with app.app_context():
        row_ids = processing.due_ids(limit=1_000_000)
        start = time.perf_counter()
        outcomes: dict[str, int] = {}
        for row_id in row_ids:
            status = str(processing.process(row_id) or "skipped")
            outcomes[status] = outcomes.get(status, 0) + 1
        seconds = time.perf_counter() - start
    rate = len(row_ids) / seconds if seconds else 0.0
    print(
        f"processing (task function, one worker): {len(row_ids)} activities in {seconds:.2f} s, "
        f"{rate:.0f} activities/s; outcomes: {outcomes}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--senders", type=int, default=8, help="concurrent remote actors")
    parser.add_argument("--activities", type=int, default=50, help="per sender")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    logging.getLogger("alembic").setLevel(logging.WARNING)
    private, public = keypair()
    peer = Peer(public)
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        port = server.server_port
        app.config["BASE_URL"] = f"http://127.0.0.1:{port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        community_id = make_community(app)
        senders = [
            Sender(f"envoi{index}", peer, private, port, community_id, args.activities)
            for index in range(args.senders)
        ]
        for sender in senders:
            sender.warm_up()
        process_all(app)  # the Follows: every sender becomes a member (not reported apart)
        accept(senders)
        process_all(app)
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
