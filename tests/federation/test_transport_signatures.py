"""HTTP signatures: published test vectors, our own signatures checked both ways, rejections.

Vectors: draft-cavage-http-signatures-12 Appendix C (its 1024-bit test key, C.1 and C.2); RFC 9421
Appendix B.1.1 ``test-key-rsa`` with the ``rsa-v1_5-sha256`` example of the httpbis draft -07
§4.3, RFC 9421 B.2.6 (``test-key-ed25519``) received end to end, and the RFC's Content-Digest
and the cavage Digest of ``{"hello": "world"}``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256

from maillage.federation.transport import signatures
from maillage.federation.transport.signatures import (
    SignatureError,
    sign_request,
    signature_key_id,
    verify_request,
)

CAVAGE_KEY = """-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----
"""
CAVAGE_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
"""
CAVAGE_DATE = "Sun, 05 Jan 2014 21:31:40 GMT"
CAVAGE_C1 = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q2"
    "5WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)
CAVAGE_C2 = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8V"
    "fEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)

# RFC 9421 Appendix B.1.1, "test-key-rsa".
RFC_KEY = """-----BEGIN RSA PRIVATE KEY-----
MIIEqAIBAAKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsP
BRrwWEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsd
JKFqMGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75
jfZgkne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKI
lE0PuKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZ
SFlQPSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQABAoIBAG/JZuSWdoVHbi56
vjgCgkjg3lkO1KrO3nrdm6nrgA9P9qaPjxuKoWaKO1cBQlE1pSWp/cKncYgD5WxE
CpAnRUXG2pG4zdkzCYzAh1i+c34L6oZoHsirK6oNcEnHveydfzJL5934egm6p8DW
+m1RQ70yUt4uRc0YSor+q1LGJvGQHReF0WmJBZHrhz5e63Pq7lE0gIwuBqL8SMaA
yRXtK+JGxZpImTq+NHvEWWCu09SCq0r838ceQI55SvzmTkwqtC+8AT2zFviMZkKR
Qo6SPsrqItxZWRty2izawTF0Bf5S2VAx7O+6t3wBsQ1sLptoSgX3QblELY5asI0J
YFz7LJECgYkAsqeUJmqXE3LP8tYoIjMIAKiTm9o6psPlc8CrLI9CH0UbuaA2JCOM
cCNq8SyYbTqgnWlB9ZfcAm/cFpA8tYci9m5vYK8HNxQr+8FS3Qo8N9RJ8d0U5Csw
DzMYfRghAfUGwmlWj5hp1pQzAuhwbOXFtxKHVsMPhz1IBtF9Y8jvgqgYHLbmyiu1
mwJ5AL0pYF0G7x81prlARURwHo0Yf52kEw1dxpx+JXER7hQRWQki5/NsUEtv+8RT
qn2m6qte5DXLyn83b1qRscSdnCCwKtKWUug5q2ZbwVOCJCtmRwmnP131lWRYfj67
B/xJ1ZA6X3GEf4sNReNAtaucPEelgR2nsN0gKQKBiGoqHWbK1qYvBxX2X3kbPDkv
9C+celgZd2PW7aGYLCHq7nPbmfDV0yHcWjOhXZ8jRMjmANVR/eLQ2EfsRLdW69bn
f3ZD7JS1fwGnO3exGmHO3HZG+6AvberKYVYNHahNFEw5TsAcQWDLRpkGybBcxqZo
81YCqlqidwfeO5YtlO7etx1xLyqa2NsCeG9A86UjG+aeNnXEIDk1PDK+EuiThIUa
/2IxKzJKWl1BKr2d4xAfR0ZnEYuRrbeDQYgTImOlfW6/GuYIxKYgEKCFHFqJATAG
IxHrq1PDOiSwXd2GmVVYyEmhZnbcp8CxaEMQoevxAta0ssMK3w6UsDtvUvYvF22m
qQKBiD5GwESzsFPy3Ga0MvZpn3D6EJQLgsnrtUPZx+z2Ep2x0xc5orneB5fGyF1P
WtP+fG5Q6Dpdz3LRfm+KwBCWFKQjg7uTxcjerhBWEYPmEMKYwTJF5PBG9/ddvHLQ
EQeNC8fHGg4UXU8mhHnSBt3EA10qQJfRDs15M38eG2cYwB1PZpDHScDnDA0=
-----END RSA PRIVATE KEY-----
"""
# draft-ietf-httpbis-message-signatures-07 §4.3: signature base and its rsa-v1_5-sha256 value.
RFC_43_BASE = (
    '"signature";key="sig1": :P0wLUszWQjoi54udOtydf9IWTfNhy+r53jGFj9XZuP4uKwxyJo1RSHi+oEF1FuX6O29d'
    "+lbxwwBao1BAgadijW+7O/PyezlTnqAOVPWx9GlyntiCiHzC87qmSQjvu1CFyFuWSjdGa3qLYYlNm7pVaJFalQiKWnUaqfT4"
    "LyttaXyoyZW84jS8gyarxAiWI97mPXU+OVM64+HVBHmnEsS+lTeIsEQo36T3NFf2CujWARPQg53r58RmpZ+J9eKR2CD6IJQ"
    "vacn5A4Ix5BUAVGqlyp8JYm+S/CWJi31PNUjRRCusCVRj05NrxABNFv3r5S9IXf2fYJK+eyW4AiGVMvMcOg==:\n"
    '"forwarded": for=192.0.2.123\n'
    '"@signature-params": ("signature";key="sig1" "forwarded");created=1618884480'
    ';keyid="test-key-rsa";alg="rsa-v1_5-sha256"'
)
RFC_43_SIGNATURE = (
    "cjGvZwbsq9JwexP9TIvdLiivxqLINwp/ybAc19KOSQuLvtmMt3EnZxNiE+797dXK2cjPPUFqoZxO8WWx1SnKhAU9SiXBr9"
    "9NTXRmA1qGBjqus/1Yxwr8keB8xzFt4inv3J3zP0k6TlLkRJstkVnNjuhRIUA/ZQCo8jDYAl4zWJJjppy6Gd1XSg03iUa0s"
    "ju1yj6rcKbMABBuzhUz4G0u1hZkIGbQprCnk/FOsqZHpwaWvY8P3hmcDHkNaavcokmq+3EBDCQTzgwLqfDmV0vLCXtDda6C"
    "NO2Zyum/pMGboCnQn/VkQ+j8kSydKoFg6EbVuGbrQijth6I0dDX2/HYcJg=="
)
# RFC 9421 B.1.4 and B.2.6.
ED25519_PUBLIC = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)
RFC_BODY = b'{"hello": "world"}'
RFC_CONTENT_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHW"
    "XvJwew==:"
)
RFC_DATE = "Tue, 20 Apr 2021 02:07:55 GMT"
CAVAGE_DIGEST = "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="


def _public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _date(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, _public_pem(private)


def keys(mapping: dict[str, str]):
    """A ``public_key_for`` answering from ``mapping`` and recording its calls."""
    calls = []

    def public_key_for(key_id, refresh):
        calls.append((key_id, refresh))
        return mapping.get(key_id)

    public_key_for.calls = calls
    return public_key_for


# -- published vectors -------------------------------------------------------------------------


def test_cavage_c1_default_vector_and_its_refusal():
    key = serialization.load_pem_public_key(CAVAGE_PUBLIC.encode())
    data = f"date: {CAVAGE_DATE}".encode()
    assert signatures._verify_rsa_or_ed(key, base64.b64decode(CAVAGE_C1), data, "rsa-sha256")
    # Valid, but it covers only the date: anyone could replay it to any URL.
    headers = {
        "Date": CAVAGE_DATE,
        "Host": "example.com",
        "Signature": f'keyId="Test",algorithm="rsa-sha256",signature="{CAVAGE_C1}"',
    }
    with pytest.raises(SignatureError, match="request-target"):
        verify_request(
            "POST", "/foo", headers, b"", keys({"Test": CAVAGE_PUBLIC}), now=_date(CAVAGE_DATE)
        )


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "hs2019"])
@pytest.mark.parametrize("header", ["Signature", "Authorization"])
def test_cavage_c2_basic_vector_verifies(algorithm, header):
    value = (
        f'keyId="Test",algorithm="{algorithm}",headers="(request-target) host date",'
        f'signature="{CAVAGE_C2}"'
    )
    headers = {
        "Host": "example.com",
        "Date": CAVAGE_DATE,
        "Content-Type": "application/json",
        "Digest": CAVAGE_DIGEST,
        header: value if header == "Signature" else f"Signature {value}",
    }
    lookup = keys({"Test": CAVAGE_PUBLIC})
    key_id = verify_request(
        "POST",
        "/foo?param=value&pet=dog",
        headers,
        RFC_BODY,
        lookup,
        now=_date(CAVAGE_DATE),
        require_digest=False,  # the vector signs no digest; the Digest header is still checked
    )
    assert key_id == "Test"
    assert lookup.calls == [("Test", False)]
    with pytest.raises(SignatureError, match="digest"):
        verify_request(
            "POST", "/foo?param=value&pet=dog", headers, RFC_BODY, lookup, now=_date(CAVAGE_DATE)
        )


def test_rfc9421_test_key_rsa_v1_5_sha256_vector():
    private = serialization.load_pem_private_key(RFC_KEY.encode(), password=None)
    signature = private.sign(RFC_43_BASE.encode(), padding.PKCS1v15(), SHA256())
    assert base64.b64encode(signature).decode() == RFC_43_SIGNATURE
    public = private.public_key()
    assert signatures._verify_rsa_or_ed(public, signature, RFC_43_BASE.encode(), "rsa-v1_5-sha256")
    assert not signatures._verify_rsa_or_ed(
        public, signature, RFC_43_BASE.encode() + b" ", "rsa-v1_5-sha256"
    )


def _b26_headers(**changes) -> dict:
    headers = {
        "Host": "example.com",
        "Date": RFC_DATE,
        "Content-Type": "application/json",
        "Content-Digest": RFC_CONTENT_DIGEST,
        "Content-Length": "18",
        "Signature-Input": 'sig-b26=("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"',
        "Signature": f"sig-b26=:{B26_SIGNATURE}:",
    }
    headers.update(changes)
    return headers


def test_rfc9421_b26_request_received():
    lookup = keys({"test-key-ed25519": ED25519_PUBLIC})
    now = _date(RFC_DATE)
    arguments = ("POST", "/foo?param=Value&Pet=dog", _b26_headers(), RFC_BODY, lookup)
    assert verify_request(*arguments, now=now, require_digest=False) == "test-key-ed25519"
    # Inbound federation insists that a body be covered by its digest.
    with pytest.raises(SignatureError, match="content-digest"):
        verify_request(*arguments, now=now)
    changed = _b26_headers(**{"Content-Type": "text/plain"})
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request("POST", "/foo", changed, RFC_BODY, lookup, now=now, require_digest=False)


def test_digest_vectors_are_checked():
    lookup = keys({"test-key-ed25519": ED25519_PUBLIC})
    with pytest.raises(SignatureError, match="content-digest does not match"):
        verify_request(
            "POST",
            "/foo",
            _b26_headers(),
            b'{"hello": "world!"}',
            lookup,
            now=_date(RFC_DATE),
            require_digest=False,
        )
    assert base64.b64encode(hashlib.sha256(RFC_BODY).digest()).decode() == CAVAGE_DIGEST[8:]


def _rfc9421_headers(private_pem, body, *, created, components, digest=True):
    headers = {"Host": "inbox.example", "Content-Type": "application/activity+json"}
    if digest:
        encoded = base64.b64encode(hashlib.sha256(body).digest()).decode()
        headers["Content-Digest"] = f"sha-256=:{encoded}:"
    values = {
        "@method": "POST",
        "@authority": "inbox.example",
        "@path": "/inbox",
        "@target-uri": "https://inbox.example/inbox",
        "content-digest": headers.get("Content-Digest"),
        "content-type": "application/activity+json",
    }
    covered = " ".join(f'"{name}"' for name in components)
    params = f'({covered});created={created};keyid="https://peer.example/u/a#main-key"'
    base = "\n".join([f'"{name}": {values[name]}' for name in components])
    base += f'\n"@signature-params": {params}'
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    signature = base64.b64encode(key.sign(base.encode(), padding.PKCS1v15(), SHA256())).decode()
    headers["Signature-Input"] = f"sig1={params}"
    headers["Signature"] = f"sig1=:{signature}:"
    return headers


@pytest.mark.parametrize(
    "components",
    [
        ("@method", "@authority", "@path", "content-digest"),
        ("@method", "@target-uri", "content-type", "content-digest"),
    ],
)
def test_rfc9421_made_with_test_key_rsa_both_ways(components):
    now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    body = b'{"type": "Follow"}'
    headers = _rfc9421_headers(RFC_KEY, body, created=int(now.timestamp()), components=components)
    lookup = keys({"https://peer.example/u/a#main-key": _public_pem(RFC_KEY)})
    assert verify_request("POST", "/inbox", headers, body, lookup, now=now).endswith("#main-key")
    assert signature_key_id(headers) == "https://peer.example/u/a#main-key"
    with pytest.raises(SignatureError, match="content-digest does not match"):
        verify_request("POST", "/inbox", headers, b'{"type": "Block"}', lookup, now=now)
    with pytest.raises(SignatureError, match="outside"):
        verify_request("POST", "/inbox", headers, body, lookup, now=now + dt.timedelta(hours=2))


def test_rfc9421_without_target_is_refused():
    now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    headers = _rfc9421_headers(
        RFC_KEY, b"{}", created=int(now.timestamp()), components=("@method", "content-digest")
    )
    lookup = keys({"https://peer.example/u/a#main-key": _public_pem(RFC_KEY)})
    with pytest.raises(SignatureError, match="target"):
        verify_request("POST", "/inbox", headers, b"{}", lookup, now=now)


# -- our own signatures ------------------------------------------------------------------------

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
KEY_ID = "https://maillage.test/c/acheteurs#main-key"


def test_sign_request_post_headers_and_round_trip(keypair):
    private, public = keypair
    body = b'{"type": "Announce"}'
    headers = sign_request(
        "POST", "https://lemmy.example:8443/inbox?x=1", body, KEY_ID, private, now=NOW
    )
    assert headers["Host"] == "lemmy.example:8443"  # the port, as the request carries it
    assert headers["Date"] == "Fri, 01 May 2026 12:00:00 GMT"
    assert (
        headers["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    )
    assert headers["Content-Type"] == "application/activity+json"
    assert 'headers="(request-target) host date digest content-type"' in headers["Signature"]
    assert 'algorithm="rsa-sha256"' in headers["Signature"]
    assert signature_key_id(headers) == KEY_ID
    lookup = keys({KEY_ID: public})
    assert verify_request("POST", "/inbox?x=1", headers, body, lookup, now=NOW) == KEY_ID
    assert verify_request("post", "/inbox?x=1", headers, body, lookup, now=NOW) == KEY_ID


def test_sign_request_get_signs_accept(keypair):
    private, public = keypair
    headers = sign_request("GET", "https://peer.example/u/a", None, KEY_ID, private, now=NOW)
    assert "Digest" not in headers
    assert "Content-Type" not in headers
    assert headers["Accept"].startswith("application/activity+json")
    assert 'headers="(request-target) host date accept"' in headers["Signature"]
    assert verify_request("GET", "/u/a?", headers, b"", keys({KEY_ID: public}), now=NOW) == KEY_ID


def test_host_with_port_received_when_signed_without(app, keypair):
    app.config["BASE_URL"] = "https://ours.example:8443"
    private, public = keypair
    body = b"{}"
    headers = sign_request("POST", "https://ours.example/inbox", body, KEY_ID, private, now=NOW)
    headers["Host"] = "ours.example:8443"  # what the peer's HTTP client actually sent
    assert verify_request("POST", "/inbox", headers, body, keys({KEY_ID: public}), now=NOW)


def test_key_is_refetched_once_after_a_failure(keypair):
    private, public = keypair
    old_private = _rsa_private()
    headers = sign_request("POST", "https://ours.example/inbox", b"{}", KEY_ID, private, now=NOW)
    answers = {False: _public_pem(old_private), True: public}
    calls = []

    def rotated(key_id, refresh):
        calls.append(refresh)
        return answers[refresh]

    assert verify_request("POST", "/inbox", headers, b"{}", rotated, now=NOW) == KEY_ID
    assert calls == [False, True]

    calls.clear()
    answers[True] = _public_pem(old_private)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request("POST", "/inbox", headers, b"{}", rotated, now=NOW)
    assert calls == [False, True]


def _rsa_private() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


# -- rejections --------------------------------------------------------------------------------


@pytest.fixture
def signed(keypair):
    private, public = keypair
    body = b'{"type": "Create"}'
    headers = sign_request("POST", "https://ours.example/inbox", body, KEY_ID, private, now=NOW)
    return headers, body, keys({KEY_ID: public})


def test_tampered_body_is_refused(signed):
    headers, _body, lookup = signed
    with pytest.raises(SignatureError, match="digest does not match"):
        verify_request("POST", "/inbox", headers, b'{"type": "Delete"}', lookup, now=NOW)


def test_replaced_digest_is_refused(signed):
    headers, _body, lookup = signed
    forged = b'{"type": "Delete"}'
    headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(forged).digest()).decode()
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request("POST", "/inbox", headers, forged, lookup, now=NOW)


def test_other_target_is_refused(signed):
    headers, body, lookup = signed
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request("POST", "/c/other/inbox", headers, body, lookup, now=NOW)


@pytest.mark.parametrize("shift", [dt.timedelta(hours=-2), dt.timedelta(hours=2)])
def test_date_outside_the_window_is_refused(signed, shift):
    headers, body, lookup = signed
    with pytest.raises(SignatureError, match="window"):
        verify_request("POST", "/inbox", headers, body, lookup, now=NOW + shift)
    verify_request("POST", "/inbox", headers, body, lookup, now=NOW + shift / 3)


def test_window_comes_from_the_configuration(app, signed):
    headers, body, lookup = signed
    app.config["FEDERATION_SIGNATURE_WINDOW"] = 60
    with pytest.raises(SignatureError, match="window"):
        verify_request("POST", "/inbox", headers, body, lookup, now=NOW + dt.timedelta(minutes=5))


def test_missing_signature_unknown_key_and_garbage(signed):
    headers, body, lookup = signed
    unsigned = {name: value for name, value in headers.items() if name != "Signature"}
    with pytest.raises(SignatureError, match="no signature"):
        verify_request("POST", "/inbox", unsigned, body, lookup, now=NOW)
    with pytest.raises(SignatureError, match="unknown key"):
        verify_request("POST", "/inbox", headers, body, keys({}), now=NOW)
    garbage = dict(
        headers, Signature='keyId="x",headers="(request-target) host date digest",signature="%%%"'
    )
    with pytest.raises(SignatureError, match="base64"):
        verify_request("POST", "/inbox", garbage, body, lookup, now=NOW)
    assert signature_key_id({"Signature": "nonsense without equals"}) is None
    assert signature_key_id({}) is None


def test_unsupported_algorithm_and_missing_host_coverage(signed):
    headers, body, lookup = signed
    hmac_signed = dict(headers, Signature=headers["Signature"].replace("rsa-sha256", "hmac-sha256"))
    with pytest.raises(SignatureError, match="unsupported algorithm"):
        verify_request("POST", "/inbox", hmac_signed, body, lookup, now=NOW)
    no_host = dict(headers, Signature=headers["Signature"].replace(" host ", " "))
    with pytest.raises(SignatureError, match="host"):
        verify_request("POST", "/inbox", no_host, body, lookup, now=NOW)


def test_signature_by_another_key_is_refused(signed):
    headers, body, _lookup = signed
    with pytest.raises(SignatureError, match="does not verify"):
        verify_request(
            "POST", "/inbox", headers, body, keys({KEY_ID: _public_pem(_rsa_private())}), now=NOW
        )
