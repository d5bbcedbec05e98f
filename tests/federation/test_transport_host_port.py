"""Signed requests and non-default ports (issue 11): the ``Host`` we sign is the ``Host`` we
send — with the port when the URL has a non-default one — and on receipt a signature over our
own ``BASE_URL`` authority verifies even when a reverse proxy passed the bare host name on, and
only ours: a request signed for another server (another name, or our host name on another port)
and replayed to us is refused, whatever ``Host`` it carries.

Sending is checked against a real HTTP server on loopback; receiving with signatures made by
hand here (cavage and RFC 9421), independent of ``sign_request``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from maillage.federation.transport.fetch import post_signed
from maillage.federation.transport.signatures import (
    SignatureError,
    host_header,
    http_date,
    sign_request,
    verify_request,
)

KEY_ID = "https://peer.example/u/alice#main-key"
NOW = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
BODY = b'{"type": "Follow"}'


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
    return key, private, public


def lookup(public: str):
    return lambda key_id, _refresh: public if key_id == KEY_ID else None


def test_host_header_keeps_only_non_default_ports():
    assert host_header("https://Lemmy.Example/inbox") == "lemmy.example"
    assert host_header("https://lemmy.example:443/inbox") == "lemmy.example"
    assert host_header("http://lemmy.example:80/inbox") == "lemmy.example"
    assert host_header("https://lemmy.example:8443/inbox") == "lemmy.example:8443"
    assert host_header("http://lemmy.example:443/inbox") == "lemmy.example:443"
    assert host_header("https://[2001:db8::1]:8443/inbox") == "[2001:db8::1]:8443"
    assert host_header("https://[2001:db8::1]/inbox") == "[2001:db8::1]"


def test_signed_post_sends_and_signs_the_host_with_its_port(app, keypair):
    """A real server on a non-default port receives ``Host: 127.0.0.1:<port>``, and that value
    is what the signature covers (it does not verify with the bare host name)."""
    _key, private, public = keypair
    app.config["FEDERATION_ALLOW_LOOPBACK"] = True
    received = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.update(path=self.path, headers=dict(self.headers), body=body)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        status, _headers = post_signed(f"http://127.0.0.1:{port}/inbox", BODY, KEY_ID, private)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
    assert status == 202
    headers = received["headers"]
    assert headers["Host"] == f"127.0.0.1:{port}"
    app.config["BASE_URL"] = f"http://127.0.0.1:{port}"  # the receiver is the server above
    assert verify_request("POST", "/inbox", headers, received["body"], lookup(public)) == KEY_ID
    app.config["BASE_URL"] = "http://127.0.0.1"  # the same host on its default port
    with pytest.raises(SignatureError):  # the port is part of what was signed
        verify_request("POST", "/inbox", headers, received["body"], lookup(public))


def _cavage(key, host: str) -> dict:
    """Headers of a cavage-signed POST /inbox whose signed host is ``host``."""
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    date = http_date(NOW)
    signed = f"(request-target): post /inbox\nhost: {host}\ndate: {date}\ndigest: {digest}"
    signature = base64.b64encode(key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256()))
    return {
        "Date": date,
        "Digest": digest,
        "Signature": f'keyId="{KEY_ID}",algorithm="rsa-sha256",'
        f'headers="(request-target) host date digest",signature="{signature.decode()}"',
    }


def _rfc9421(key, authority: str) -> dict:
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":"
    params = f'("@method" "@authority" "@path" "content-digest");created={int(NOW.timestamp())}'
    params += f';keyid="{KEY_ID}"'
    base = (
        f'"@method": POST\n"@authority": {authority}\n"@path": /inbox\n'
        f'"content-digest": {digest}\n"@signature-params": {params}'
    )
    signature = base64.b64encode(key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256()))
    return {
        "Content-Digest": digest,
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{signature.decode()}:",
    }


@pytest.mark.parametrize("scheme", [_cavage, _rfc9421])
def test_receipt_verifies_our_authority_when_the_proxy_dropped_the_port(app, keypair, scheme):
    key, _private, public = keypair
    app.config["BASE_URL"] = "https://maillage.test:8443"
    signed_for_us = scheme(key, "maillage.test:8443")
    for received_host in ("maillage.test:8443", "maillage.test"):  # direct, or nginx's $host
        headers = {**signed_for_us, "Host": received_host}
        assert verify_request("POST", "/inbox", headers, BODY, lookup(public), now=NOW) == KEY_ID
    signed_elsewhere = {**scheme(key, "maillage.test:9999"), "Host": "maillage.test"}
    with pytest.raises(SignatureError):
        verify_request("POST", "/inbox", signed_elsewhere, BODY, lookup(public), now=NOW)


def test_peers_signing_the_bare_host_name_still_verify(app, keypair):
    key, _private, public = keypair
    app.config["BASE_URL"] = "https://maillage.test:8443"
    headers = {**_cavage(key, "maillage.test"), "Host": "maillage.test:8443"}
    assert verify_request("POST", "/inbox", headers, BODY, lookup(public), now=NOW) == KEY_ID


def test_round_trip_with_a_port(keypair):
    _key, private, public = keypair
    headers = sign_request(
        "POST", "https://peer.example:8443/inbox", BODY, KEY_ID, private, now=NOW
    )
    assert headers["Host"] == "peer.example:8443"
    assert verify_request("POST", "/inbox", headers, BODY, lookup(public), now=NOW) == KEY_ID


# -- replay of a request signed for another server (security review) ---------------------------


@pytest.mark.parametrize("scheme", [_cavage, _rfc9421])
@pytest.mark.parametrize("other", ["other.example", "maillage.test:9999"])
def test_a_signature_made_for_another_server_is_refused(app, keypair, scheme, other):
    """Signed for ``other`` and replayed to us with that ``Host``: valid for that server, not for
    us (ours is BASE_URL's authority, whatever Host arrives)."""
    key, _private, public = keypair
    app.config["BASE_URL"] = "https://maillage.test"
    headers = {**scheme(key, other), "Host": other}
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request("POST", "/inbox", headers, BODY, lookup(public), now=NOW)
    for ours in ("maillage.test", "maillage.test:443"):  # the same request, signed for us
        headers = {**scheme(key, ours), "Host": other}
        assert verify_request("POST", "/inbox", headers, BODY, lookup(public), now=NOW) == KEY_ID


@pytest.mark.parametrize("other", ["https://other.example", "https://maillage.test:9999"])
def test_an_inbox_post_replayed_from_another_server_is_401(
    client, test_peer, create_community, other
):
    """A Follow captured on its way to another instance (another name, or our host name on
    another port), replayed to our inbox with its own Host: refused, nothing stored."""
    from sqlalchemy import select

    from maillage.federation.groups.models import InboxActivity
    from maillage.platform.extensions import db

    community = create_community("Main", slug="main")
    follow = test_peer.activity("Follow", community.ap_id)
    body = json.dumps(follow).encode()
    key_id = test_peer.key_id(follow["actor"])
    headers = test_peer.sign("POST", f"{other}/inbox", body, key_id)
    response = client.post("/inbox", data=body, headers=headers, base_url=other)
    assert response.status_code == 401
    db.session.expire_all()
    stored = select(InboxActivity).where(InboxActivity.activity_id == follow["id"])
    assert db.session.scalar(stored) is None
    headers = test_peer.sign("POST", "https://maillage.test/inbox", body, key_id)
    response = client.post("/inbox", data=body, headers=headers, base_url="https://maillage.test")
    assert response.status_code == 202  # the same Follow, signed for us
