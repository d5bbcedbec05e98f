"""``FEDERATION_EXTRA_CA_BUNDLE`` (issue 11): an administration's own certificate authority,
trusted besides certifi's by the safe fetcher and by delivery.

A real TLS server on loopback presents a certificate issued by a CA this test makes; without
the setting the fetch and the delivery are refused (unknown issuer), with it they go through.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from maillage.federation.transport import delivery
from maillage.federation.transport.delivery import enqueue_delivery
from maillage.federation.transport.fetch import FetchError, fetch_object, post_signed
from maillage.federation.transport.models import Delivery
from maillage.platform.extensions import db

DOCUMENT = {"id": "https://127.0.0.1/u/alice", "type": "Person"}
SIGNER = "https://maillage.test/c/acheteurs"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA of an administration (``ca.pem``) and a server certificate it issued for
    127.0.0.1 (``server.pem`` + ``server.key``)."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("AC Interministérielle de test"))
        .issuer_name(_name("AC Interministérielle de test"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(_pem(server_key))
    return folder


class TlsServer:
    """HTTPS on 127.0.0.1: GET answers ``DOCUMENT``, POST 202; ``requests`` counts the
    requests that got through the TLS handshake."""

    def __init__(self, pki):
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                body = json.dumps(DOCUMENT).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests += 1
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki / "server.pem", pki / "server.key")
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tls_server(app, pki, monkeypatch):
    app.config.update(FEDERATION_ALLOW_LOOPBACK=True, FEDERATION_MODE="open")
    monkeypatch.setattr(
        delivery, "signing_key_resolver", lambda ap_id: (f"{ap_id}#main-key", signing_pem())
    )
    server = TlsServer(pki)
    yield server
    server.close()


_KEY: list[str] = []


def signing_pem() -> str:
    if not _KEY:
        from cryptography.hazmat.primitives.asymmetric import rsa

        _KEY.append(_pem(rsa.generate_private_key(65537, 2048)).decode())
    return _KEY[0]


def test_own_ca_is_refused_without_the_setting_and_trusted_with_it(app, pki, tls_server):
    with pytest.raises(FetchError, match="network error"):
        fetch_object(f"{tls_server.url}/u/alice")
    with pytest.raises(FetchError, match="network error"):
        post_signed(f"{tls_server.url}/inbox", b"{}", f"{SIGNER}#main-key", signing_pem())
    assert tls_server.requests == 0  # no request went past the handshake

    app.config["FEDERATION_EXTRA_CA_BUNDLE"] = str(pki / "ca.pem")
    assert fetch_object(f"{tls_server.url}/u/alice") == DOCUMENT
    status, _headers = post_signed(
        f"{tls_server.url}/inbox", b"{}", f"{SIGNER}#main-key", signing_pem()
    )
    assert status == 202
    assert tls_server.requests == 2


def test_delivery_outbox_uses_the_extra_bundle(app, pki, tls_server):
    activity = {"id": f"{SIGNER}/activities/1", "type": "Announce", "actor": SIGNER}
    enqueue_delivery(activity, [f"{tls_server.url}/inbox"], SIGNER)
    db.session.commit()
    row = db.session.scalar(select(Delivery))
    assert (row.status, tls_server.requests) == ("pending", 0)
    assert "network error" in row.last_error  # the certificate was not trusted

    app.config["FEDERATION_EXTRA_CA_BUNDLE"] = str(pki / "ca.pem")
    delivery.deliver_due("127.0.0.1", now=row.next_attempt_at + dt.timedelta(seconds=1))
    db.session.expire_all()
    assert db.session.scalar(select(Delivery)).status == "delivered"
    assert tls_server.requests == 1


def test_certifi_authorities_stay_trusted_and_a_bad_bundle_is_an_error(app, pki, tmp_path):
    from maillage.federation.transport.fetch import tls_context

    app.config["FEDERATION_EXTRA_CA_BUNDLE"] = str(pki / "ca.pem")
    subjects = {
        dict(item[0] for item in cert["subject"]).get("commonName")
        for cert in tls_context().get_ca_certs()
    }
    assert "AC Interministérielle de test" in subjects
    assert len(subjects) > 50  # certifi's roots are still there
    broken = tmp_path / "broken.pem"
    broken.write_text("not a certificate")
    app.config["FEDERATION_EXTRA_CA_BUNDLE"] = str(broken)
    with pytest.raises(FetchError, match="extra CA bundle"):
        tls_context()
    app.config["FEDERATION_EXTRA_CA_BUNDLE"] = str(tmp_path / "missing.pem")
    with pytest.raises(FetchError, match="extra CA bundle"):
        tls_context()
