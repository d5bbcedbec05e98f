"""Signed requests and non-default ports (issue 11): the ``Host`` we sign is the ``Host`` we
send — with the port when the URL has a non-default one — and on receipt a signature over our
own ``BASE_URL`` authority verifies even when a reverse proxy passed the bare host name on.

Sending is checked against a real HTTP server on loopback; receiving with signatures made by
hand here (cavage and RFC 9421), independent of ``sign_request``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
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
    assert verify_request("POST", "/inbox", headers, received["body"], lookup(public)) == KEY_ID
    bare = {**headers, "Host": "127.0.0.1"}
    with pytest.raises(SignatureError):  # the port is part of what was signed
        verify_request("POST", "/inbox", bare, received["body"], lookup(public))


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
