"""Following by handle (issue 11): an unknown account is told apart from an unreachable
instance, and the test mode ``FEDERATION_ALLOW_LOOPBACK`` speaks plain http to any host name
that resolves to loopback (so multi-instance tests can use names), never to anything else.

The WebFinger answers come from a real HTTP server on loopback that answers what each case
needs (an empty 200, a JSON without a usable link, 404, 500…).
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from maillage.federation.actors.operations import (
    ActorError,
    UnknownHandle,
    _webfinger_scheme,
    webfinger_actor_url,
)
from maillage.federation.outgoing.operations import RemoteLookupError, resolve_group
from maillage.federation.transport.fetch import FetchError, fetch_object, resolves_to_loopback
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebFinger:
    """Answers every GET with ``answer = (status, content_type or None, body)``."""

    def __init__(self, address: str = "127.0.0.8"):
        self.answer = (200, None, b"")
        finger = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, content_type, body = finger.answer
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.netloc = f"{address}:{self.httpd.server_address[1]}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def finger(app):
    app.config.update(FEDERATION_ALLOW_LOOPBACK=True, FEDERATION_MODE="open")
    server = WebFinger()
    yield server
    server.close()


def jrd(*links) -> bytes:
    return json.dumps({"subject": "acct:groupe@x", "links": list(links)}).encode()


UNKNOWN_ANSWERS = {
    "empty 200": (200, None, b""),
    "empty 200 said to be JSON": (200, "application/jrd+json", b""),
    "empty JSON object": (200, "application/jrd+json", b"{}"),
    "JSON that is no object": (200, "application/json", b"[]"),
    "links that are not a list": (200, "application/jrd+json", b'{"links": "self"}'),
    "no ActivityPub self link": (
        200,
        "application/jrd+json",
        jrd({"rel": "self", "type": "text/html", "href": "https://x.example/@groupe"}),
    ),
    "an HTML page": (200, "text/html", b"<html><body>Not found</body></html>"),
    "404": (404, "application/json", b'{"error": "not found"}'),
    "410": (410, None, b""),
}


@pytest.mark.parametrize("answer", UNKNOWN_ANSWERS.values(), ids=UNKNOWN_ANSWERS.keys())
def test_an_answer_without_the_account_means_unknown_handle(finger, answer):
    finger.answer = answer
    with pytest.raises(UnknownHandle):
        webfinger_actor_url("groupe", finger.netloc)
    with pytest.raises(RemoteLookupError) as caught:
        resolve_group(f"!groupe@{finger.netloc}")
    assert str(caught.value) == "Identifiant inconnu sur l'instance 127.0.0.8."


@pytest.mark.parametrize("status", [500, 502, 503])
def test_an_erring_instance_is_unreachable_not_unknown(finger, status):
    finger.answer = (status, "text/html", b"<h1>Bad gateway</h1>")
    with pytest.raises(ActorError) as caught:
        webfinger_actor_url("groupe", finger.netloc)
    assert not isinstance(caught.value, UnknownHandle)
    with pytest.raises(RemoteLookupError, match="injoignable"):
        resolve_group(f"!groupe@{finger.netloc}")


def test_nobody_listening_is_unreachable(app):
    app.config.update(FEDERATION_ALLOW_LOOPBACK=True, FEDERATION_MODE="open")
    with pytest.raises(RemoteLookupError, match="injoignable"):
        resolve_group("!groupe@127.0.0.9:9")


def test_the_follow_page_says_unknown_for_an_empty_answer(finger, client, login_as, create_user):
    login_as(create_user("agent"))
    token = CSRF_RE.search(client.get("/federation/follow").get_data(as_text=True)).group(1)
    response = client.post(
        "/federation/follow", data={"csrf_token": token, "handle": f"!groupe@{finger.netloc}"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Identifiant inconnu sur l&#39;instance 127.0.0.8." in page
    assert "injoignable" not in page


# -- plain http in the loopback test mode ------------------------------------------------------


def test_webfinger_scheme_follows_what_the_name_resolves_to(app):
    app.config["FEDERATION_ALLOW_LOOPBACK"] = True
    assert _webfinger_scheme("localhost:8080") == "http"
    assert _webfinger_scheme("127.0.0.2:8080") == "http"
    assert _webfinger_scheme("[::1]:8080") == "http"
    assert _webfinger_scheme("lemmy.invalid") == "https"  # does not resolve
    assert _webfinger_scheme("192.0.2.10") == "https"  # not loopback
    assert _webfinger_scheme("[::ffff:127.0.0.1]:8080") == "http"
    app.config["FEDERATION_ALLOW_LOOPBACK"] = False
    assert _webfinger_scheme("localhost:8080") == "https"  # production: https, always


def test_test_mode_sends_plain_http_only_to_loopback(app):
    app.config.update(FEDERATION_ALLOW_LOOPBACK=True, FEDERATION_MODE="open")
    assert resolves_to_loopback("localhost")
    assert not resolves_to_loopback("192.0.2.10")
    with pytest.raises(FetchError, match="refused scheme http"):  # refused before connecting
        fetch_object("http://93.184.215.14/u/alice")  # public: allowed by https only


def _loopback_name() -> str | None:
    """A host name of this machine, other than ``localhost``, resolving to loopback only (the
    machine's own name or another /etc/hosts entry); None when there is none."""
    names = [socket.gethostname()]
    try:
        lines = Path("/etc/hosts").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        fields = line.split("#", 1)[0].split()
        names.extend(fields[1:])
    for name in names:
        if _usable_name(name) and resolves_to_loopback(name):
            return name.lower()
    return None


def _usable_name(name: str) -> bool:
    """A host name (not an address, not ``localhost``) a handle can carry."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        plain = name.lower() not in ("localhost", "localhost.localdomain")
        return plain and bool(re.fullmatch(r"[a-z0-9.-]+", name.lower())) and name[-1] != "."
    return False


def test_follow_by_handle_on_a_named_host_resolving_to_loopback(make_peer, create_user):
    """The whole follow (WebFinger, the Group's document, the signed Follow) goes by name."""
    from maillage.federation.outgoing.operations import follow_remote

    name = _loopback_name()
    if name is None:
        pytest.skip("no host name other than localhost resolves to loopback here")
    address = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    peer = make_peer("nomme", address)
    port = peer.netloc.rsplit(":", 1)[1]
    peer.netloc, peer.base_url, peer.domain = f"{name}:{port}", f"http://{name}:{port}", name
    group = peer.group_id("groupe")
    peer.documents["/.well-known/webfinger"] = {
        "subject": f"acct:groupe@{peer.netloc}",
        "links": [{"rel": "self", "type": "application/activity+json", "href": group}],
    }
    person = create_user("agent")
    follow = follow_remote(person, f"!groupe@{peer.netloc}")
    db.session.commit()
    assert follow.community.ap_id == group
    [sent] = peer.received_activities("Follow")
    assert (sent["actor"], sent["object"]) == (person.ap_id, group)
    from maillage.federation.transport.models import Delivery

    assert db.session.scalar(select(Delivery.status)) == "delivered"
