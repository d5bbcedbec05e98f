"""HTTP message signatures as the fediverse speaks them, on ``cryptography`` only.

Sending: draft-cavage-http-signatures-12 with ``rsa-sha256`` over
``(request-target) host date digest content-type`` (``(request-target) host date accept`` for a GET
without body), a SHA-256 ``Digest`` header, and ``Host`` as HTTP defines it (:func:`host_header`):
the host name, with the port when the URL has a non-default one.  The request carries that same
``Host`` header, so the receiver verifies against what it got.

Receiving: draft-cavage (``rsa-sha256`` and ``hs2019``, from ``Signature`` or ``Authorization:
Signature``) and RFC 9421 (``Signature-Input`` + ``Signature``; ``rsa-v1_5-sha256``,
``rsa-pss-sha512``, ``ed25519``; ``Content-Digest``).  In an application context the signed
host must be our own ``BASE_URL`` authority, with or without its port (peers that sign the bare
host name, or the default port spelled out), whatever ``Host`` was received: a request signed
for another server — even one on our host name with another port — is not ours to accept, and
a reverse proxy passing ``$host`` may drop the port the sender signed.  Without an application
context (test vectors, tools) the ``Host`` header received is the only reference.  A signature
is accepted only when it covers the request target, the host and a time (Date or ``created``),
and, when a body is present, its digest; the time must be inside the window
(``FEDERATION_SIGNATURE_WINDOW`` seconds, default 3600, either way) and every digest present
must match the body.

This module is self-contained (no database, no Flask request); it reads two configuration keys
(the window, ``BASE_URL``) when an application context exists.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
from collections.abc import Callable
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

DEFAULT_WINDOW = 3600
ACTIVITY_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
DIGEST_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
MIN_RSA_BITS = 1024

PublicKeyFor = Callable[[str, bool], "str | None"]


class SignatureError(Exception):
    """The request is not validly signed; ``reason`` says why (logged, never shown to peers)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# -- signing -----------------------------------------------------------------------------------


def sign_request(
    method: str,
    url: str,
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    *,
    content_type: str = "application/activity+json",
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """The headers to send with this request, the ``Signature`` among them (cavage-12)."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Host": host_header(url),
        "Date": http_date(now or dt.datetime.now(dt.UTC)),
    }
    if body is None:
        headers["Accept"] = ACTIVITY_ACCEPT
        signed = ["(request-target)", "host", "date", "accept"]
    else:
        headers["Digest"] = "SHA-256=" + _b64(hashlib.sha256(body).digest())
        headers["Content-Type"] = content_type
        signed = ["(request-target)", "host", "date", "digest", "content-type"]
    lowered = {name.lower(): value for name, value in headers.items()}
    lines = [
        f"(request-target): {method.lower()} {target}"
        if name == "(request-target)"
        else f"{name}: {lowered[name]}"
        for name in signed
    ]
    key = _private_key(private_key_pem)
    signature = key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(signed)}",'
        f'signature="{_b64(signature)}"'
    )
    return headers


DEFAULT_PORTS = {"http": 80, "https": 443}


def host_header(url: str) -> str:
    """The ``Host`` header for a request to ``url`` (RFC 9110 §7.2): the lowercased host name
    (an IPv6 address in brackets), with ``:port`` only when the port is not the scheme's
    default.  Sender and receiver both use it, so what is signed is what is sent."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a malformed port: the request is refused later (fetch.check_url)
        return host
    if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"


@functools.lru_cache(maxsize=512)
def _private_key(pem: str):
    """Parsed once per key: loading checks the RSA key, which takes a good part of a second."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


@functools.lru_cache(maxsize=2048)
def _public_key(pem: str):
    return serialization.load_pem_public_key(pem.encode())


def http_date(moment: dt.datetime) -> str:
    """An IMF-fixdate (``Tue, 07 Jun 2014 20:51:35 GMT``)."""
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- reading headers ---------------------------------------------------------------------------


def _lowered(headers) -> dict[str, str]:
    """Header names lowercased; repeated fields joined with ``", "`` as HTTP allows."""
    items = headers.items() if hasattr(headers, "items") else headers
    result: dict[str, str] = {}
    for name, raw in items:
        key, value = name.lower(), str(raw).strip()
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result


_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,\s]+))\s*(?:,|$)')


def _cavage_params(value: str) -> dict[str, str]:
    value = value.strip()
    if value.lower().startswith("signature "):
        value = value[len("signature ") :]
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _CAVAGE_PARAM.match(value, position)
        if match is None:
            raise SignatureError("malformed Signature header")
        if match.group(1) in params:
            # Two Signature headers (joined by _lowered) or a repeated parameter: which keyId
            # or signature counts would depend on the parser; refuse instead of guessing.
            raise SignatureError(f"repeated {match.group(1)} in the Signature header")
        params[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    return params


def _cavage_header(headers: dict[str, str]) -> str | None:
    if "signature" in headers and "signature-input" not in headers:
        return headers["signature"]
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("signature "):
        return authorization
    return None


def signature_key_id(headers) -> str | None:
    """The ``keyId`` a request claims (cavage or RFC 9421), without verifying anything."""
    lowered = _lowered(headers)
    try:
        if "signature-input" in lowered:
            for member in _rfc9421_inputs(lowered["signature-input"]).values():
                if member.params.get("keyid"):
                    return member.params["keyid"]
            return None
        raw = _cavage_header(lowered)
        return _cavage_params(raw).get("keyId") if raw else None
    except SignatureError:
        return None


# -- verification ------------------------------------------------------------------------------


def verify_request(
    method: str,
    path: str,
    headers,
    body: bytes,
    public_key_for: PublicKeyFor,
    *,
    now: dt.datetime | None = None,
    scheme: str = "https",
    require_digest: bool = True,
) -> str:
    """Return the keyId that validly signed this request, or raise :class:`SignatureError`.

    ``path`` is the request target as received, query included (Flask's ``request.full_path``;
    a lone trailing ``?`` is ignored).  ``public_key_for(key_id, refresh)`` returns a PEM public
    key or ``None``; it is asked once, then once more with ``refresh=True`` if the signature does
    not verify with the first answer (the actor may have rotated its key).
    ``require_digest=False`` only exists to check published test vectors that sign a body without
    covering its digest; inbound federation never sets it.
    """
    lowered = _lowered(headers)
    now = now or dt.datetime.now(dt.UTC)
    target = path[:-1] if path.endswith("?") else path
    if "signature-input" in lowered and "signature" in lowered:
        message = _Rfc9421(method, target, lowered, body, scheme, require_digest)
    else:
        raw = _cavage_header(lowered)
        if raw is None:
            raise SignatureError("no signature")
        message = _Cavage(method, target, lowered, body, raw, require_digest)
    key_id = message.check(now, _window())
    _check_digests(lowered, body)
    _verify_with_refresh(message, key_id, public_key_for)
    return key_id


def _our_authority() -> str | None:
    """Our ``BASE_URL`` as a sender writes it in ``Host`` (None without an app context)."""
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover - Flask is always installed with the app
        return None
    if not has_app_context() or not current_app.config.get("BASE_URL"):
        return None
    return host_header(current_app.config["BASE_URL"])


def _our_authorities() -> list[str] | None:
    """The host values a signature made for us may cover: our ``BASE_URL`` authority with and
    without its port (the default port spelled out, when it has none); None without an app
    context."""
    ours = _our_authority()
    if ours is None:
        return None
    from flask import current_app

    port = _port_of(current_app.config["BASE_URL"])
    if port is None:
        return [ours]
    bare = ours.removesuffix(f":{port}")
    return list(dict.fromkeys([ours, bare, f"{bare}:{port}"]))


def _port_of(url: str) -> int | None:
    parts = urlsplit(url)
    try:
        return parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None


def _signed_hosts(received: str) -> list[str]:
    """The host values a valid signature of this request may have covered, in order: ours in
    an application context (never the ``Host`` received: it may name another server), else the
    ``Host`` received."""
    return _our_authorities() or [received.strip().lower()]


def _window() -> int:
    try:
        from flask import current_app, has_app_context

        if has_app_context():
            return int(current_app.config.get("FEDERATION_SIGNATURE_WINDOW", DEFAULT_WINDOW))
    except ImportError:  # pragma: no cover - Flask is always installed with the app
        pass
    return DEFAULT_WINDOW


def _verify_with_refresh(message, key_id: str, public_key_for: PublicKeyFor) -> None:
    last_error = SignatureError("unknown key")
    for refresh in (False, True):
        pem = public_key_for(key_id, refresh)
        if not pem:
            continue
        try:
            key = _public_key(pem)
        except ValueError:
            last_error = SignatureError("unreadable public key")
            continue
        if message.verify_with(key):
            return
        last_error = SignatureError("signature does not verify")
    raise last_error


def _check_digests(headers: dict[str, str], body: bytes) -> None:
    """Every digest the peer sent (``Digest``, ``Content-Digest``) must match the body."""
    for name in ("digest", "content-digest"):
        if name not in headers:
            continue
        known = 0
        for algorithm, expected in _digest_values(headers[name], structured=name != "digest"):
            function = DIGEST_ALGORITHMS.get(algorithm)
            if function is None:
                continue
            known += 1
            if not hmac.compare_digest(_b64(function(body).digest()), expected):
                raise SignatureError(f"{name} does not match the body")
        if not known:
            raise SignatureError(f"{name} uses no supported algorithm")


def _digest_values(value: str, *, structured: bool) -> list[tuple[str, str]]:
    pairs = []
    for part in value.split(","):
        algorithm, _, encoded = part.strip().partition("=")
        if structured:
            encoded = encoded.strip().strip(":")
        pairs.append((algorithm.strip().lower().replace("sha256", "sha-256"), encoded.strip()))
    return pairs


def _within(moment: dt.datetime, now: dt.datetime, window: int) -> bool:
    return abs((now - moment).total_seconds()) <= window


def _http_date_value(value: str) -> dt.datetime:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise SignatureError("unreadable Date") from exc
    if moment is None:
        raise SignatureError("unreadable Date")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _verify_rsa_or_ed(key, signature: bytes, data: bytes, algorithm: str) -> bool:
    """Check ``signature`` over ``data`` with the algorithms ``algorithm`` allows for ``key``."""
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            if algorithm not in {"ed25519", "hs2019", ""}:
                return False
            key.verify(signature, data)
            return True
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
            return False
    except InvalidSignature:
        return False
    for scheme in _rsa_schemes(algorithm):
        try:
            key.verify(signature, data, *scheme)
        except InvalidSignature:
            continue
        return True
    return False


def _rsa_schemes(algorithm: str) -> list[tuple]:
    pkcs1 = (padding.PKCS1v15(), hashes.SHA256())
    pss = (
        padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
        hashes.SHA512(),
    )
    return {
        "rsa-sha256": [pkcs1],
        "rsa-v1_5-sha256": [pkcs1],
        # hs2019: the key decides; Mastodon and Lemmy mean RSASSA-PKCS1-v1_5 SHA-256 by it, the
        # draft means RSASSA-PSS SHA-512 for RSA keys.
        "hs2019": [pkcs1, pss],
        "": [pkcs1, pss],
        "rsa-pss-sha512": [pss],
    }.get(algorithm, [])


# -- draft-cavage-12 ---------------------------------------------------------------------------


class _Cavage:
    def __init__(self, method, target, headers, body, raw, require_digest):
        self.params = _cavage_params(raw)
        self.method, self.target, self.headers = method, target, headers
        self.body, self.require_digest = body, require_digest
        self.algorithm = self.params.get("algorithm", "hs2019").lower()
        self.covered = self.params.get("headers", "date").lower().split()
        try:
            self.signature = base64.b64decode(self.params.get("signature", ""), validate=True)
        except ValueError as exc:
            raise SignatureError("signature is not base64") from exc

    def check(self, now: dt.datetime, window: int) -> str:
        key_id = self.params.get("keyId")
        if not key_id or not self.signature:
            raise SignatureError("keyId or signature missing")
        if self.algorithm not in {"rsa-sha256", "hs2019"}:
            raise SignatureError(f"unsupported algorithm {self.algorithm}")
        covered = set(self.covered)
        if "(request-target)" not in covered or "host" not in covered:
            raise SignatureError("signature must cover (request-target) and host")
        if self.body and self.require_digest and "digest" not in covered:
            raise SignatureError("signature must cover the digest of the body")
        if "digest" in covered and "digest" not in self.headers:
            raise SignatureError("Digest header missing")
        self._check_time(covered, now, window)
        return key_id

    def _check_time(self, covered: set[str], now: dt.datetime, window: int) -> None:
        if "(created)" in covered:
            created = self._epoch("created")
            if not _within(created, now, window):
                raise SignatureError("signature created outside the accepted window")
        elif "date" in covered and "date" in self.headers:
            if not _within(_http_date_value(self.headers["date"]), now, window):
                raise SignatureError("Date outside the accepted window")
        else:
            raise SignatureError("signature must cover date or (created)")
        if "(expires)" in covered and self._epoch("expires") < now:
            raise SignatureError("signature expired")

    def _epoch(self, name: str) -> dt.datetime:
        try:
            return dt.datetime.fromtimestamp(float(self.params[name]), dt.UTC)
        except (KeyError, ValueError, OverflowError) as exc:
            raise SignatureError(f"({name}) missing or unreadable") from exc

    def signing_strings(self):
        for candidate in _signed_hosts(self.headers.get("host", "")):
            yield self._signing_string(candidate).encode()

    def _signing_string(self, host: str) -> str:
        lines = []
        for name in self.covered:
            if name == "(request-target)":
                value = f"{self.method.lower()} {self.target}"
            elif name in {"(created)", "(expires)"}:
                value = self.params.get(name[1:-1], "")
            elif name == "host":
                value = host
            elif name in self.headers:
                value = self.headers[name]
            else:
                raise SignatureError(f"signed header {name} missing")
            lines.append(f"{name}: {value}")
        return "\n".join(lines)

    def verify_with(self, key) -> bool:
        return any(
            _verify_rsa_or_ed(key, self.signature, data, self.algorithm)
            for data in self.signing_strings()
        )


# -- RFC 9421 ----------------------------------------------------------------------------------


class _Member:
    def __init__(self, components: list[str], params: dict[str, str], raw: str):
        self.components, self.params, self.raw = components, params, raw


_ITEM = re.compile(r'"([^"]*)"((?:;[A-Za-z0-9*_.-]+(?:=(?:"[^"]*"|[^;\s)"]+))?)*)')
_PARAM = re.compile(r';\s*([a-z0-9*_.-]+)(?:=("[^"]*"|[^;\s]+))?')


def _split_members(value: str) -> list[str]:
    """Split a structured-field Dictionary at top-level commas."""
    members, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            members.append(value[start:index])
            start = index + 1
    members.append(value[start:])
    return [member.strip() for member in members if member.strip()]


def _rfc9421_inputs(value: str) -> dict[str, _Member]:
    inputs = {}
    for member in _split_members(value):
        label, _, raw = member.partition("=")
        raw = raw.strip()
        if not raw.startswith("(") or ")" not in raw:
            raise SignatureError("malformed Signature-Input")
        inner, _, tail = raw[1:].partition(")")
        components = []
        for match in _ITEM.finditer(inner):
            if match.group(2):
                raise SignatureError("component parameters are not supported")
            components.append(match.group(1))
        params = {name: (val or "").strip('"') for name, val in _PARAM.findall(tail)}
        inputs[label.strip()] = _Member(components, params, raw)
    return inputs


def _rfc9421_signatures(value: str) -> dict[str, bytes]:
    signatures = {}
    for member in _split_members(value):
        label, _, raw = member.partition("=")
        raw = raw.strip()
        if not (raw.startswith(":") and raw.endswith(":")):
            raise SignatureError("malformed Signature")
        try:
            signatures[label.strip()] = base64.b64decode(raw[1:-1], validate=True)
        except ValueError as exc:
            raise SignatureError("signature is not base64") from exc
    return signatures


class _Rfc9421:
    def __init__(self, method, target, headers, body, scheme, require_digest):
        self.method, self.headers, self.body = method, headers, body
        self.scheme, self.require_digest = scheme, require_digest
        self.path, _, query = target.partition("?")
        self.query = f"?{query}"
        self.inputs = _rfc9421_inputs(headers["signature-input"])
        self.signatures = _rfc9421_signatures(headers["signature"])
        self.label: str | None = None

    def check(self, now: dt.datetime, window: int) -> str:
        errors = []
        for label, member in self.inputs.items():
            try:
                self._check_member(label, member, now, window)
            except SignatureError as exc:
                errors.append(exc)
                continue
            self.label = label
            return member.params["keyid"]
        raise errors[0] if errors else SignatureError("no signature")

    def _check_member(self, label, member: _Member, now, window) -> None:
        if label not in self.signatures or not member.params.get("keyid"):
            raise SignatureError("keyid or signature missing")
        covered = set(member.components)
        if "@method" not in covered and "@request-target" not in covered:
            raise SignatureError("signature must cover @method")
        if not covered & {"@target-uri", "@path", "@request-target"}:
            raise SignatureError("signature must cover the target")
        if not covered & {"@target-uri", "@authority", "host"}:
            raise SignatureError("signature must cover the authority")
        if self.body and self.require_digest and "content-digest" not in covered:
            raise SignatureError("signature must cover content-digest")
        self._check_time(member, covered, now, window)

    def _check_time(self, member: _Member, covered, now, window) -> None:
        params = member.params
        try:
            if "created" in params:
                moment = dt.datetime.fromtimestamp(int(params["created"]), dt.UTC)
            elif "date" in covered and "date" in self.headers:
                moment = _http_date_value(self.headers["date"])
            else:
                raise SignatureError("signature must carry created or cover date")
            expired = "expires" in params and int(params["expires"]) < now.timestamp()
        except (ValueError, OverflowError) as exc:
            raise SignatureError("unreadable created/expires") from exc
        if not _within(moment, now, window):
            raise SignatureError("signature created outside the accepted window")
        if expired:
            raise SignatureError("signature expired")

    def _authorities(self) -> list[str]:
        """``@authority`` candidates: our own (see the module docstring), or without an
        application context the Host received, its default port dropped (RFC 9421 §2.2.3)."""
        ours = _our_authorities()
        if ours is not None:
            return ours
        host = self.headers.get("host", "").strip().lower()
        for default in (":443", ":80"):
            if host.endswith(default):
                host = host[: -len(default)]
        return [host]

    def _component(self, name: str, authority: str) -> str:
        derived = {
            "@method": self.method.upper(),
            "@authority": authority,
            "@scheme": self.scheme,
            "@path": self.path or "/",
            "@query": self.query,
            "@request-target": (self.path or "/") + (self.query if self.query != "?" else ""),
            "@target-uri": f"{self.scheme}://{authority}{self.path or '/'}"
            + (self.query if self.query != "?" else ""),
        }
        if name in derived:
            return derived[name]
        if name.startswith("@") or name not in self.headers:
            raise SignatureError(f"covered component {name} missing")
        return self.headers[name]

    def signature_base(self, label: str, authority: str | None = None) -> bytes:
        member = self.inputs[label]
        authority = self._authorities()[0] if authority is None else authority
        lines = [f'"{name}": {self._component(name, authority)}' for name in member.components]
        lines.append(f'"@signature-params": {member.raw}')
        return "\n".join(lines).encode()

    def verify_with(self, key) -> bool:
        label = self.label
        algorithm = self.inputs[label].params.get("alg", "").lower()
        bases = {self.signature_base(label, authority) for authority in self._authorities()}
        return any(
            _verify_rsa_or_ed(key, self.signatures[label], base, algorithm) for base in bases
        )
