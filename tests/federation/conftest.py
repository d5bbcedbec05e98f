"""Shared fixtures of the federation tests: a fediverse peer we control.

``test_peer`` is a small ActivityPub server of its own, really listening on a loopback address
(``127.0.0.2``, another peer on ``127.0.0.3``: Linux routes all of 127/8 to the loopback) with
its own RSA-2048 key.  It serves the actor documents of its people and groups (any
``/u/<name>``, ``/users/<name>``, ``/accounts/<name>`` path is a Person, ``/c/<name>``,
``/m/<name>``, ``/video-channels/<name>`` a Group, ``/actor`` an Application, made up on
request, unless a document was registered with ``publish``), any object it ``publish``-ed,
and records what our app POSTs to it (``received``).  Our app therefore resolves the peer's
actors and keys through its real fetch path; the fixture sets ``FEDERATION_ALLOW_LOOPBACK=True``
(plain http on loopback) and ``FEDERATION_MODE="open"`` on the app for the test.

The peer signs with ``maillage.federation.transport.signatures.sign_request`` (draft-cavage-12,
written by the transport helper) and POSTs through the Flask test client:

    response = test_peer.post(client, "/inbox", activity)            # 202 expected
    test_peer.post(client, "/inbox", activity, sign=False)           # unsigned
    test_peer.post(client, "/inbox", activity, now=stale_datetime)    # stale Date
    test_peer.post(client, "/inbox", activity, tamper=lambda headers, body: (headers, b"..."))

``rewrite(payload, local={recorded_url: our_url})`` turns a recorded payload of
/work/shared/fixtures/fediverse into one of the peer: every http(s) URL whose host is not ours
(nor w3.org) moves to the peer's base URL, except the exact URLs of ``local`` (http and https
spellings of them both) which become ours, e.g. the recorded group becomes our community.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

FIXTURES = Path("/work/shared/fixtures/fediverse")
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
ACTIVITY_JSON = "application/activity+json"

_PERSON_PATH = re.compile(r"^/(u|users|accounts|@)/?([^/]+)$")
_GROUP_PATH = re.compile(r"^/(c|m|video-channels)/([^/]+)$")


def _generate_key() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="session")
def peer_keys():
    """RSA-2048 key pairs made once per run (``peer_keys(i) -> (private_pem, public_pem)``)."""
    keys: dict[int, tuple[str, str]] = {}

    def get(index: int) -> tuple[str, str]:
        if index not in keys:
            keys[index] = _generate_key()
        return keys[index]

    return get


class TestPeer:
    """A remote ActivityPub server on loopback (see the module docstring)."""

    __test__ = False  # not a test class for pytest

    def __init__(self, name: str, address: str, private_key_pem: str, public_key_pem: str):
        self.name = name
        self.private_key_pem = private_key_pem
        self.public_key_pem = public_key_pem
        self.documents: dict[str, dict] = {}  # path -> JSON document served on GET
        self.received: list[dict] = []  # {"path", "headers", "body", "json"} of POSTs
        self.fetched: list[str] = []  # paths our app GET
        # ``on_get(path)``, called before a GET is answered (a barrier…); an int it returns is
        # the status answered instead of the document (e.g. 503, the peer overloaded).
        self.on_get = None
        self._server = ThreadingHTTPServer((address, 0), _handler_for(self))
        host, port = self._server.server_address[:2]
        self.domain = host  # the hostname, as policy and origin checks see it
        self.netloc = f"{host}:{port}"
        self.base_url = f"http://{self.netloc}"
        # A short poll interval: ``close()`` (``shutdown``) waits for the loop, 0.5 s by default.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- identities ---------------------------------------------------------------------------

    def person_id(self, name: str) -> str:
        return f"{self.base_url}/u/{name}"

    def group_id(self, name: str) -> str:
        return f"{self.base_url}/c/{name}"

    def key_id(self, actor_id: str) -> str:
        return f"{actor_id}#main-key"

    def actor_document(self, actor_id: str) -> dict | None:
        """The JSON of one of the peer's actors (registered, or made up from its path)."""
        path = urlsplit(actor_id).path
        if path in self.documents:
            return self.documents[path]
        if match := _PERSON_PATH.match(path):
            return self._actor(actor_id, "Person", match.group(2))
        if match := _GROUP_PATH.match(path):
            return self._actor(actor_id, "Group", match.group(2))
        if path == "/actor":
            return self._actor(actor_id, "Application", self.name)
        return None

    def _actor(self, actor_id: str, kind: str, name: str) -> dict:
        document = {
            "@context": AS_CONTEXT,
            "id": actor_id,
            "type": kind,
            "preferredUsername": name,
            "name": name.capitalize(),
            "summary": f"<p>{kind} {name} de {self.name}</p>",
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "followers": f"{actor_id}/followers",
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            "publicKey": {
                "id": self.key_id(actor_id),
                "owner": actor_id,
                "publicKeyPem": self.public_key_pem,
            },
        }
        if kind == "Group":
            document["attributedTo"] = f"{actor_id}/moderators"
            document["featured"] = f"{actor_id}/featured"
        return document

    def publish(self, document: dict) -> dict:
        """Serve ``document`` (and every embedded object with an id on this peer) at its id.

        An actor document gets the peer's own public key (the peer signs with its key)."""
        if not isinstance(document, dict):
            return document
        object_id = document.get("id")
        if isinstance(document.get("publicKey"), dict) and isinstance(object_id, str):
            document["publicKey"] = {
                "id": self.key_id(object_id),
                "owner": object_id,
                "publicKeyPem": self.public_key_pem,
            }
        if (
            isinstance(object_id, str)
            and object_id.startswith(self.base_url + "/")
            and "#" not in object_id  # a key or a fragment: part of its document
        ):
            self.documents[urlsplit(object_id).path] = document
        for value in document.values():
            if isinstance(value, dict):
                self.publish(value)
        return document

    # -- activities ---------------------------------------------------------------------------

    def activity(self, kind: str, obj, *, actor: str | None = None, **extra) -> dict:
        """A new activity of this peer with a unique id, addressed publicly by default."""
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.base_url}/activities/{kind.lower()}/{uuid.uuid4()}",
            "type": kind,
            "actor": actor or self.person_id("alice"),
            "object": obj,
            "to": [PUBLIC],
        }
        activity.update(extra)
        return activity

    def sign(self, method: str, url: str, body: bytes | None, key_id: str, *, now=None) -> dict:
        """Headers signed with the peer's key (``transport.signatures.sign_request``)."""
        from maillage.federation.transport.signatures import sign_request

        return sign_request(method, url, body, key_id, self.private_key_pem, now=now)

    def post(
        self,
        client,
        path: str,
        activity: dict | bytes,
        *,
        key_id: str | None = None,
        sign: bool = True,
        now: dt.datetime | None = None,
        tamper=None,
    ):
        """POST ``activity`` to our app at ``path`` (e.g. ``/inbox``), signed by default with
        the key of the activity's actor; ``tamper(headers, body) -> (headers, body)`` changes
        the request after signing.  Returns the test client's response."""
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        base_url = client.application.config["BASE_URL"]
        headers = {"Content-Type": ACTIVITY_JSON}
        if sign:
            if key_id is None:
                key_id = self.key_id(json.loads(body)["actor"])
            headers = self.sign("POST", base_url + path, body, key_id, now=now)
        if tamper is not None:
            headers, body = tamper(dict(headers), body)
        return client.post(path, data=body, headers=headers, base_url=base_url)

    def received_activities(self, kind: str | None = None) -> list[dict]:
        """The JSON bodies our app POSTed to this peer, optionally of one ``type``."""
        return [
            item["json"]
            for item in self.received
            if item["json"] is not None and (kind is None or item["json"].get("type") == kind)
        ]


def _handler_for(peer: TestPeer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = urlsplit(self.path).path
            peer.fetched.append(path)
            status = peer.on_get(path) if peer.on_get is not None else None
            if isinstance(status, int):  # the hook answers instead, e.g. 503
                self._answer(status, b'{"error": "hook"}')
                return
            document = peer.documents.get(path)
            if document is None:
                document = peer.actor_document(peer.base_url + path)
            if document is None:
                self._answer(404, b'{"error": "not found"}')
                return
            self._answer(200, json.dumps(document).encode())

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            peer.received.append(
                {"path": self.path, "headers": dict(self.headers), "body": body, "json": parsed}
            )
            self._answer(202, b"")

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ACTIVITY_JSON)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    return Handler


@pytest.fixture
def make_peer(app, peer_keys):
    """``make_peer(name, address)``: another peer; every peer has its own key."""
    peers: list[TestPeer] = []
    app.config["FEDERATION_ALLOW_LOOPBACK"] = True
    app.config["FEDERATION_MODE"] = "open"

    def factory(name: str = "peer", address: str | None = None) -> TestPeer:
        index = len(peers)
        private_pem, public_pem = peer_keys(index)
        peer = TestPeer(name, address or f"127.0.0.{index + 2}", private_pem, public_pem)
        peers.append(peer)
        return peer

    yield factory
    for peer in peers:
        peer.close()


@pytest.fixture
def test_peer(make_peer) -> TestPeer:
    """The peer at ``http://127.0.0.2:<port>`` (see the module docstring)."""
    return make_peer("peer")


@pytest.fixture
def other_peer(test_peer, make_peer) -> TestPeer:
    """A second peer (``127.0.0.3``) with another key: for origin-mismatch tests."""
    return make_peer("other")


_URL = re.compile(r"https?://[^/\s\"'<>]+")


def rewrite_urls(payload, peer: TestPeer, local: dict[str, str] | None = None, *, ours=()):
    """A deep copy of ``payload`` with foreign hosts moved to ``peer`` and ``local`` URLs ours."""
    exact = {
        scheme + old.split("://", 1)[1]: new
        for old, new in (local or {}).items()
        for scheme in ("http://", "https://")
    }
    keep = {"www.w3.org", "w3id.org", *ours}

    def move(match: re.Match) -> str:
        return match.group(0) if urlsplit(match.group(0)).netloc in keep else peer.base_url

    def convert_string(value: str) -> str:
        if value in exact:
            return exact[value]
        for old, new in exact.items():  # e.g. <group>/followers
            if value.startswith(old + "/"):
                return new + value[len(old) :]
        return _URL.sub(move, value)

    def convert(value):
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return convert_string(value) if isinstance(value, str) else value

    return convert(copy.deepcopy(payload))


@pytest.fixture
def rewrite(app, test_peer):
    """``rewrite(payload, local=None, peer=test_peer)``: see ``rewrite_urls``."""
    ours = {urlsplit(app.config["BASE_URL"]).netloc}

    def do(payload, local: dict[str, str] | None = None, peer: TestPeer | None = None):
        return rewrite_urls(payload, peer or test_peer, local, ours=ours)

    return do


@pytest.fixture
def load_fixture():
    """``load_fixture("lemmy/activities/following/follow.json") -> dict``."""

    def load(relative: str) -> dict:
        return json.loads((FIXTURES / relative).read_text())

    return load
