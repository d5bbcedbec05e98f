"""Redirects cannot lend a trusted host to a document served elsewhere (the Mastodon
CVE-2024-23832 class): real HTTP servers on two loopback addresses, ``127.0.0.2`` (the peer we
trust, with an open redirect) and ``127.0.0.3`` (the attacker), which are different hosts."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import func, select

from maillage.federation.actors import operations
from maillage.federation.actors.documents import ActorError, parse_actor
from maillage.federation.actors.models import RemoteActor
from maillage.federation.groups.fetching import fetch
from maillage.federation.groups.registry import Incoming, Rejected
from maillage.federation.transport.fetch import FetchError, fetch_object, fetch_object_with_url
from maillage.federation.transport.models import Instance
from maillage.platform.extensions import db


class Host:
    """A small HTTP server on ``address``: ``documents[path]`` is served as JSON; any path with
    ``?to=<url>`` answers a 302 to that URL (an open redirect); ``hits`` lists requested paths."""

    def __init__(self, address: str):
        self.documents: dict[str, dict] = {}
        self.hits: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                host.hits.append(self.path)
                parts = urlsplit(self.path)
                target = parse_qs(parts.query).get("to")
                if target:
                    self._answer(302, b"", {"Location": target[0]})
                elif parts.path in host.documents:
                    self._answer(200, json.dumps(host.documents[parts.path]).encode())
                else:
                    self._answer(404, b"{}")

            def _answer(self, status, body, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{address}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def redirect_url(self, target: str) -> str:
        return f"{self.url}/redirect?to={quote(target, safe='')}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def hosts(app):
    app.config["FEDERATION_ALLOW_LOOPBACK"] = True
    app.config["FEDERATION_MODE"] = "open"
    peer, evil = Host("127.0.0.2"), Host("127.0.0.3")
    yield peer, evil
    peer.close()
    evil.close()


def _person(actor_id: str) -> dict:
    return {
        "id": actor_id,
        "type": "Person",
        "preferredUsername": actor_id.rsplit("/", 1)[-1],
        "inbox": f"{actor_id}/inbox",
    }


def _remote_actors() -> int:
    return db.session.scalar(select(func.count(RemoteActor.id)))


def test_cross_host_redirect_is_refused_before_connecting(hosts):
    peer, evil = hosts
    evil.documents["/x"] = {"id": f"{peer.url}/x", "type": "Note"}
    with pytest.raises(FetchError, match="redirect to another host"):
        fetch_object(peer.redirect_url(f"{evil.url}/x"))
    assert evil.hits == []


def test_same_host_redirect_is_followed_and_the_final_url_returned(hosts):
    peer, _evil = hosts
    peer.documents["/notes/1"] = {"id": f"{peer.url}/notes/1", "type": "Note"}
    document, final = fetch_object_with_url(peer.redirect_url(f"{peer.url}/notes/1"))
    assert final == f"{peer.url}/notes/1"
    assert document["id"] == final


def test_redirect_to_a_denied_instance_is_refused(hosts):
    peer, evil = hosts
    db.session.add(Instance(domain="127.0.0.3", policy="denied"))
    db.session.flush()
    evil.documents["/x"] = {"id": f"{evil.url}/x", "type": "Note"}
    with pytest.raises(FetchError, match="refused"):
        fetch_object(peer.redirect_url(f"{evil.url}/x"))
    with pytest.raises(FetchError, match="instance not allowed"):
        fetch_object(f"{evil.url}/x")
    assert evil.hits == []


def test_actor_served_elsewhere_after_a_redirect_is_refused(hosts):
    """The peer's open redirect leads to an attacker document claiming an id on the peer."""
    peer, evil = hosts
    claimed = peer.redirect_url(f"{evil.url}/u/mallory")
    evil.documents["/u/mallory"] = _person(claimed)
    with pytest.raises(ActorError) as refused:
        operations.resolve_actor(claimed)
    assert "redirect to another host" in refused.value.reason
    assert (_remote_actors(), evil.hits) == (0, [])
    # Had the document come from the attacker, its id is checked against the URL that answered.
    with pytest.raises(ActorError) as refused:
        parse_actor(_person(f"{peer.url}/u/mallory"), f"{evil.url}/u/mallory")
    assert "not on the host" in refused.value.reason


def test_key_id_behind_an_open_redirect_gives_no_key(hosts):
    peer, evil = hosts
    actor_url = peer.redirect_url(f"{evil.url}/u/mallory")
    document = _person(actor_url)
    document["publicKey"] = {"id": f"{actor_url}#main-key", "owner": actor_url}
    evil.documents["/u/mallory"] = document
    assert operations.public_key_for(f"{actor_url}#main-key") is None
    assert (_remote_actors(), evil.hits) == (0, [])


def test_actor_moved_on_its_own_host_resolves(hosts):
    peer, _evil = hosts
    alice_id = f"{peer.url}/u/alice"
    peer.documents["/u/alice"] = _person(alice_id)
    actor = operations.resolve_actor(peer.redirect_url(alice_id))
    db.session.commit()
    assert (actor.ap_id, actor.domain) == (alice_id, urlsplit(alice_id).netloc)


def test_group_fetch_refuses_an_object_served_elsewhere(hosts):
    peer, evil = hosts
    claimed = peer.redirect_url(f"{evil.url}/notes/1")
    evil.documents["/notes/1"] = {"id": claimed, "type": "Note"}
    with pytest.raises(Rejected, match="redirect to another host"):
        fetch(Incoming(activity={}), claimed)
    assert evil.hits == []
    peer.documents["/notes/2"] = {"id": f"{peer.url}/notes/2", "type": "Note"}
    fetched = fetch(Incoming(activity={}), peer.redirect_url(f"{peer.url}/notes/2"))
    assert fetched["id"] == f"{peer.url}/notes/2"
