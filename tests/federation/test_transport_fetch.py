"""Safe fetching against real HTTP servers on loopback: SSRF refusals (before any connection),
redirects checked hop by hop, body cap, timeouts, redirect limit, fetch budget, signed GETs and
signed POSTs verified by the receiving server."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from maillage.federation.transport.fetch import (
    FetchBudget,
    FetchError,
    address_allowed,
    fetch_object,
    fetch_object_with_url,
    post_signed,
)
from maillage.federation.transport.signatures import verify_request

ACTOR = {"id": "https://peer.example/u/alice", "type": "Person", "preferredUsername": "alice"}


class Server:
    """A threaded HTTP server on 127.0.0.1; ``routes[path] = func(handler) -> (status, headers,
    body)``; ``hits`` lists the paths requested, ``requests`` the (method, path, headers, body)."""

    def __init__(self, address="127.0.0.1"):
        self.routes = {}
        self.hits: list[str] = []
        self.requests: list[tuple] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.hits.append(self.path)
                server.requests.append((method, self.path, dict(self.headers), body))
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    status, headers, payload = 404, {}, b"{}"
                else:
                    status, headers, payload = route(self)
                if payload is None:  # the route wrote the answer itself
                    return
                self.send_response(status)
                headers = {"Content-Type": "application/activity+json", **headers}
                headers.setdefault("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{address}:{self.port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def json(self, path, document, status=200, headers=None):
        self.routes[path] = lambda _h: (status, headers or {}, json.dumps(document).encode())

    def redirect(self, path, location, status=302):
        self.routes[path] = lambda _h: (status, {"Location": location}, b"")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def loopback(app):
    """Plain http on loopback; the trust policy open (every hop is checked against it)."""
    app.config["FEDERATION_ALLOW_LOOPBACK"] = True
    app.config["FEDERATION_MODE"] = "open"
    return app


@pytest.fixture(scope="module")
def signing_key():
    return _private()


@pytest.fixture
def server(app):
    server = Server()
    yield server
    server.close()


# -- SSRF --------------------------------------------------------------------------------------

REFUSED = [
    "127.0.0.1",
    "[::1]",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[64:ff9b::a9fe:a9fe]",
    "100.64.0.1",
    "224.0.0.1",
    "[fd00::1]",
    "[fe80::1]",
    "localhost",  # a name that resolves to loopback
    "2130706433",  # 127.0.0.1 written as an integer
]


def test_private_destinations_are_refused_before_connecting(app, server, signing_key):
    app.config["FEDERATION_ALLOW_LOOPBACK"] = False
    server.json("/actor", ACTOR)
    for host in REFUSED:
        with pytest.raises(FetchError, match="refused address"):
            fetch_object(f"https://{host}:{server.port}/actor")
        with pytest.raises(FetchError, match="refused address"):
            post_signed(f"https://{host}:{server.port}/actor", b"{}", "k", signing_key)
    assert server.hits == []


def test_plain_http_is_refused_without_the_loopback_setting(app, server):
    app.config["FEDERATION_ALLOW_LOOPBACK"] = False
    server.json("/actor", ACTOR)
    with pytest.raises(FetchError, match="scheme"):
        fetch_object(f"{server.url}/actor")
    with pytest.raises(FetchError, match="scheme"):
        fetch_object("file:///etc/passwd")
    assert server.hits == []


def test_loopback_setting_allows_loopback_only(loopback, server):
    server.json("/actor", ACTOR)
    assert fetch_object(f"{server.url}/actor") == ACTOR
    assert fetch_object(f"http://localhost:{server.port}/actor") == ACTOR
    for host in ("10.0.0.1", "169.254.169.254", "0.0.0.0", "192.168.0.1", "[fe80::1]"):
        with pytest.raises(FetchError, match="refused address"):
            fetch_object(f"http://{host}:{server.port}/actor")
    # 0.0.0.0 would reach this very server on Linux: it was refused before connecting.
    assert server.hits == ["/actor", "/actor"]


def test_address_rules():
    assert address_allowed("8.8.8.8", loopback=False)
    assert address_allowed("2606:4700::1111", loopback=False)
    assert not address_allowed("::ffff:8.8.8.8", loopback=True)
    assert address_allowed("127.0.0.2", loopback=True)
    assert not address_allowed("127.0.0.2", loopback=False)
    assert not address_allowed("not an address", loopback=True)


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x",
        "http://0.0.0.0:{port}/actor",
        "http://[::ffff:127.0.0.1]:{port}/actor",
        "ftp://127.0.0.1:{port}/actor",
    ],
)
def test_redirect_to_a_private_address_is_refused(loopback, server, target):
    server.json("/actor", ACTOR)
    server.redirect("/start", target.format(port=server.port))
    with pytest.raises(FetchError, match="refused"):
        fetch_object(f"{server.url}/start")
    assert server.hits == ["/start"]


def test_redirects_are_followed_up_to_three(loopback, server):
    server.json("/actor", ACTOR)
    server.redirect("/r1", "/actor", 301)
    server.redirect("/r2", f"{server.url}/r1", 307)
    server.redirect("/r3", "/r2", 308)
    server.redirect("/r4", "/r3")
    assert fetch_object(f"{server.url}/r3") == ACTOR
    server.hits.clear()
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_object(f"{server.url}/r4")
    assert server.hits == ["/r4", "/r3", "/r2", "/r1"]


def test_same_host_redirect_gives_the_final_url(loopback, server):
    server.json("/actor", ACTOR)
    server.redirect("/old", "/actor", 301)
    document, final = fetch_object_with_url(f"{server.url}/old")
    assert (document, final) == (ACTOR, f"{server.url}/actor")
    assert fetch_object_with_url(f"{server.url}/actor") == (ACTOR, f"{server.url}/actor")


def test_cross_host_and_cross_port_redirects_are_refused(loopback, server):
    """``localhost`` and ``127.0.0.1`` are the same machine but not the same host name; another
    port on the same name is another origin."""
    other = Server("127.0.0.3")
    try:
        other.json("/actor", ACTOR)
        server.redirect("/to-other", f"{other.url}/actor")
        server.redirect("/to-name", f"http://localhost:{server.port}/actor")
        server.redirect("/to-port", f"http://127.0.0.1:{other.port}/actor")
        for path in ("/to-other", "/to-name", "/to-port"):
            with pytest.raises(FetchError, match="redirect to another host"):
                fetch_object(f"{server.url}{path}")
        assert other.hits == []
    finally:
        other.close()


def test_trust_policy_is_checked_before_connecting(loopback, server):
    from maillage.federation.transport.models import Instance
    from maillage.platform.extensions import db

    server.json("/actor", ACTOR)
    db.session.add(Instance(domain="127.0.0.1", policy="denied"))
    db.session.flush()
    with pytest.raises(FetchError, match="instance not allowed"):
        fetch_object(f"{server.url}/actor")
    loopback.config["FEDERATION_MODE"] = "allowlist"
    with pytest.raises(FetchError, match="instance not allowed"):
        fetch_object(f"http://localhost:{server.port}/actor")
    assert server.hits == []


# -- bodies, timeouts, errors ------------------------------------------------------------------


def _big(declared: bool):
    def route(handler):
        payload = b'{"a": "' + b"x" * (1024 * 1024 + 10) + b'"}'
        handler.send_response(200)
        handler.send_header("Content-Type", "application/activity+json")
        if declared:
            handler.send_header("Content-Length", str(len(payload)))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        with contextlib.suppress(OSError):
            handler.wfile.write(payload)
        handler.close_connection = True
        return 200, {}, None

    return route


@pytest.mark.parametrize("declared", [True, False])
def test_body_over_one_megabyte_is_refused(loopback, server, declared):
    server.routes["/big"] = _big(declared)
    with pytest.raises(FetchError, match="too large"):
        fetch_object(f"{server.url}/big")


def test_body_cap_comes_from_the_configuration(loopback, server):
    server.json("/actor", ACTOR)
    loopback.config["FEDERATION_MAX_BODY"] = 20
    with pytest.raises(FetchError, match="too large"):
        fetch_object(f"{server.url}/actor")


def test_slow_server_times_out(loopback, server):
    release = threading.Event()

    def slow(_handler):
        release.wait(5)
        return 200, {}, json.dumps(ACTOR).encode()

    server.routes["/slow"] = slow
    loopback.config["FEDERATION_FETCH_TIMEOUT"] = 0.3
    try:
        with pytest.raises(FetchError, match="network error"):
            fetch_object(f"{server.url}/slow")
    finally:
        release.set()


def test_dripping_server_hits_the_overall_deadline(loopback, server):
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/activity+json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            for _ in range(40):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass
        handler.close_connection = True
        return 200, {}, None

    server.routes["/drip"] = drip
    loopback.config["FEDERATION_FETCH_TIMEOUT"] = 0.4  # each read is fast; the whole is not
    with pytest.raises(FetchError, match="timed out"):
        fetch_object(f"{server.url}/drip")


def test_errors_and_non_documents(loopback, server):
    server.json("/gone", {}, status=410)
    server.routes["/html"] = lambda _h: (200, {"Content-Type": "text/html"}, b"<html></html>")
    server.routes["/list"] = lambda _h: (200, {}, b"[1, 2]")
    server.routes["/bad"] = lambda _h: (200, {}, b"{not json")
    with pytest.raises(FetchError) as gone:
        fetch_object(f"{server.url}/gone")
    assert gone.value.status == 410
    for path, message in [("/html", "not an ActivityPub"), ("/list", "object"), ("/bad", "JSON")]:
        with pytest.raises(FetchError, match=message):
            fetch_object(f"{server.url}{path}")
    with pytest.raises(FetchError, match="resolve"):
        fetch_object("https://does-not-exist.invalid/actor")


def test_budget_limits_the_fetches_of_one_activity(loopback, server):
    server.json("/actor", ACTOR)
    budget = FetchBudget(limit=2)
    fetch_object(f"{server.url}/actor", budget=budget)
    fetch_object(f"{server.url}/actor", budget=budget)
    with pytest.raises(FetchError, match="budget"):
        fetch_object(f"{server.url}/actor", budget=budget)
    assert len(server.hits) == 2
    assert FetchBudget().limit == 20


# -- signed requests ---------------------------------------------------------------------------


def _private() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public(private: str) -> str:
    key = serialization.load_pem_private_key(private.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


KEY_ID = "https://maillage.test/actor#main-key"


def test_signed_fetch_is_verified_by_the_server(loopback, server):
    private = _private()
    verified = []

    def check(handler):
        verified.append(
            verify_request(
                "GET", handler.path, handler.headers, b"", lambda _k, _r: _public(private)
            )
        )
        return 200, {}, json.dumps(ACTOR).encode()

    server.routes["/private-object"] = check
    server.redirect("/moved", "/private-object")
    assert fetch_object(f"{server.url}/moved", signer=(KEY_ID, private)) == ACTOR
    assert verified == [KEY_ID]
    _method, _path, headers, _body = server.requests[-1]
    assert headers["Accept"].startswith("application/activity+json")
    assert headers["Host"] == f"127.0.0.1:{server.port}"  # signed and sent with its port


def test_post_signed_is_verified_and_returns_status_and_headers(loopback, server):
    private = _private()
    body = b'{"type": "Follow"}'
    results = []

    def inbox(handler):
        results.append(
            verify_request(
                "POST",
                handler.path,
                handler.headers,
                server.requests[-1][3],
                lambda _k, _r: _public(private),
            )
        )
        return 202, {"Retry-After": "30"}, b""

    server.routes["/inbox"] = inbox
    status, headers = post_signed(f"{server.url}/inbox", body, KEY_ID, private)
    assert (status, headers["retry-after"]) == (202, "30")
    assert results == [KEY_ID]
    assert server.requests[-1][3] == body


def test_post_signed_does_not_follow_redirects(loopback, server, signing_key):
    server.redirect("/inbox", "http://169.254.169.254/")
    status, headers = post_signed(f"{server.url}/inbox", b"{}", KEY_ID, signing_key)
    assert status == 302
    assert headers["location"] == "http://169.254.169.254/"


def test_post_to_a_closed_port_is_a_network_error(loopback, server, signing_key):
    port = server.port
    server.close()
    with pytest.raises(FetchError, match="network error"):
        post_signed(f"http://127.0.0.1:{port}/inbox", b"{}", KEY_ID, signing_key)
