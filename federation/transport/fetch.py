"""Safe outgoing HTTP for federation: every fetch and delivery goes through here.

A remote server chooses the URLs we request (actor ids, inboxes, object ids, redirects), so each
request is checked before it leaves, and again after every redirect:

- the scheme is https (plain http only when ``FEDERATION_ALLOW_LOOPBACK`` is set, for tests,
  and then only to a loopback address: any host name resolving to loopback, e.g. ``localhost``
  or a name of /etc/hosts, so that multi-instance tests can use names);
- the host name is resolved once and *every* address must be public: loopback, private (10/8,
  172.16/12, 192.168/16, fc00::/7), link-local and cloud metadata (169.254/16, fe80::/10),
  ``0.0.0.0``/``::``, multicast, carrier-grade NAT, reserved and documentation ranges are refused,
  including when hidden in IPv4-mapped (``::ffff:127.0.0.1``), NAT64, 6to4 or Teredo addresses.
  ``FEDERATION_ALLOW_LOOPBACK`` allows 127/8 and ``::1`` only (nothing else private);
- the connection goes to the address that was checked (no second DNS answer can swap it: the TLS
  certificate is still checked against the host name);
- redirects are followed here, at most :data:`MAX_REDIRECTS`, each one checked again, and only
  on the same host (same host name and port; ``http`` → ``https`` on the default ports is the
  one change allowed).  A redirect to another host is refused: a peer with an open redirect
  must not make us accept, as its own, a document served by someone else (the Mastodon
  CVE-2024-23832 class).  :func:`fetch_object_with_url` returns the URL that answered, and
  origin checks compare a document's ``id`` with *that* URL;
- the instance trust policy (``policy.domain_allowed``) is checked for the host of every hop,
  before connecting (when an application context is there: without one there is no policy);
- TLS certificates are checked against certifi's authorities, plus those of the PEM file
  ``FEDERATION_EXTRA_CA_BUNDLE`` names (an administration's own CA) when set;
- connect and read timeouts, plus an overall deadline while reading the body
  (``FEDERATION_FETCH_TIMEOUT``, 10 s); bodies are read in chunks and abandoned past
  ``FEDERATION_MAX_BODY`` bytes (1 MB);
- :class:`FetchBudget` bounds how many fetches one incoming activity may cause (20).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import os
import socket
import ssl
import time
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.util.ssl_ import create_urllib3_context

from maillage.federation.transport.signatures import ACTIVITY_ACCEPT, host_header, sign_request

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BODY = 1024 * 1024
USER_AGENT = "Maillage (+ActivityPub)"
# WebFinger answers in JRD (Mastodon: application/jrd+json), actors and objects in AS2.
JSON_TYPES = (
    "application/activity+json",
    "application/ld+json",
    "application/json",
    "application/jrd+json",
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(Exception):
    """A remote request was refused or failed; ``status`` is the HTTP status when there was one.

    ``answered``: the server did answer (an HTTP status, or a 200 whose body is no usable
    document): it is reachable, what was asked is what it could not give.
    """

    def __init__(self, reason: str, status: int | None = None, *, answered: bool = False):
        super().__init__(reason if status is None else f"{reason} (HTTP {status})")
        self.reason = reason
        self.status = status
        self.answered = answered or status is not None

    @property
    def transient(self) -> bool:
        """Worth retrying later: the network failed, or the peer is overloaded or erring (408,
        429, 5xx).  Refusals (addresses, schemes, sizes, budget) and other answers are not."""
        if self.status is not None:
            return self.status in (408, 429) or self.status >= 500
        return self.reason.startswith(("network error", "timed out"))


class FetchBudget:
    """How many remote fetches one piece of work (an incoming activity) may still cause."""

    def __init__(self, limit: int = 20):
        self.limit = limit
        self.used = 0

    def spend(self) -> None:
        if self.used >= self.limit:
            raise FetchError("fetch budget exhausted")
        self.used += 1

    def __repr__(self) -> str:
        return f"<FetchBudget {self.used}/{self.limit}>"


# -- configuration -----------------------------------------------------------------------------


def _config(key: str, default):
    from flask import current_app, has_app_context

    return current_app.config.get(key, default) if has_app_context() else default


def allow_loopback() -> bool:
    return bool(_config("FEDERATION_ALLOW_LOOPBACK", False))


def max_body() -> int:
    return int(_config("FEDERATION_MAX_BODY", DEFAULT_MAX_BODY))


def timeout() -> float:
    return float(_config("FEDERATION_FETCH_TIMEOUT", DEFAULT_TIMEOUT))


# -- address checks ----------------------------------------------------------------------------


def _embedded_ipv4(address) -> ipaddress.IPv4Address | None:
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: str, *, loopback: bool | None = None) -> bool:
    """May we connect to this IP address?  (``loopback``: defaults to the configuration.)"""
    loopback = allow_loopback() if loopback is None else loopback
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    embedded = _embedded_ipv4(ip)
    if embedded is not None and not address_allowed(str(embedded), loopback=loopback):
        return False
    if ip.is_loopback:
        return loopback
    special = ip.is_multicast or ip.is_private or ip.is_link_local or ip.is_reserved
    if ip.version == 6:
        special = special or ip.is_site_local or ip.is_unspecified
    return ip.is_global and not special


def _resolve(host: str, port: int) -> str:
    """The checked address to connect to; refuse if any address of ``host`` is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise FetchError(f"cannot resolve {host}")
    loopback = allow_loopback()
    refused = [address for address in addresses if not address_allowed(address, loopback=loopback)]
    if refused:
        raise FetchError(f"refused address {refused[0]} for {host}")
    return addresses[0]


def resolves_to_loopback(host: str) -> bool:
    """Does ``host`` (a name or an address) resolve to loopback addresses only?  False when it
    does not resolve.  For the test mode ``FEDERATION_ALLOW_LOOPBACK``: plain http is for them.
    """
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(_is_loopback(address) for address in addresses)


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    embedded = _embedded_ipv4(ip)
    return (embedded or ip).is_loopback


def check_url(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, target)`` of a URL we may request, or raise :class:`FetchError`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("malformed URL") from exc
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_loopback()):
        raise FetchError(f"refused scheme {scheme or '(none)'}")
    if not parts.hostname or parts.username or parts.password:
        raise FetchError("refused URL")
    port = port or (443 if scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname.lower(), port, target


# -- requests ----------------------------------------------------------------------------------


def extra_ca_bundle() -> str:
    """``FEDERATION_EXTRA_CA_BUNDLE``: a PEM file of authorities trusted besides certifi's."""
    return str(_config("FEDERATION_EXTRA_CA_BUNDLE", "") or "").strip()


def tls_context() -> ssl.SSLContext:
    """The TLS context of every outgoing request: certifi's authorities, plus those of
    ``FEDERATION_EXTRA_CA_BUNDLE`` (an administration's own CA).  Built once per bundle
    version (path, size and modification time): replacing the file takes effect at once.
    """
    path = extra_ca_bundle()
    if not path:
        return _tls_context("", 0, 0)
    try:
        status = os.stat(path)
    except OSError as exc:
        log.error("FEDERATION_EXTRA_CA_BUNDLE %s cannot be read: %s", path, exc)
        raise FetchError(
            f"TLS configuration error: cannot read the extra CA bundle {path}"
        ) from exc
    return _tls_context(path, status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=4)
def _tls_context(path: str, _mtime: int, _size: int) -> ssl.SSLContext:
    import certifi

    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.load_verify_locations(cafile=certifi.where())
    if path:
        try:
            context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            log.error("FEDERATION_EXTRA_CA_BUNDLE %s is not a PEM bundle: %s", path, exc)
            raise FetchError(
                f"TLS configuration error: the extra CA bundle {path} is not valid"
            ) from exc
    return context


def _pool(scheme: str, host: str, port: int, address: str, seconds: float):
    limits = urllib3.Timeout(connect=seconds, read=seconds)
    if scheme == "https":
        # urllib3 matches the certificate with ``host`` itself (assert_hostname): we connect
        # to the checked address, not to the name.
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=limits,
            retries=False,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
            ssl_context=tls_context(),
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=limits, retries=False)


def _request(method: str, url: str, headers: dict[str, str], body: bytes | None):
    """One checked request; returns ``(response, pool)`` with the body not yet read."""
    parts = check_url(url)
    return _send(method, parts, _resolve(parts[1], parts[2]), headers, body)


def _send(method: str, parts, address: str, headers: dict[str, str], body: bytes | None):
    """The request to the already checked ``address`` of ``parts = check_url(url)``."""
    scheme, host, port, target = parts
    if scheme == "http" and not _is_loopback(address):  # test mode: plain http on loopback only
        raise FetchError(f"refused scheme http for {host}: not a loopback address")
    headers = {"User-Agent": USER_AGENT, **headers}
    # The same value a signature covers (signed requests already carry it).
    headers.setdefault("Host", host_header(f"{scheme}://{_bracketed(host)}:{port}/"))
    pool = _pool(scheme, host, port, address, timeout())
    try:
        response = pool.urlopen(
            method,
            target,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        pool.close()
        raise FetchError(f"network error: {type(exc).__name__}") from exc
    return response, pool


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _read_body(response, limit: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError("response too large")
    chunks, size = [], 0
    try:
        # read1 returns what has arrived: a server dripping bytes meets the deadline.
        while chunk := response.read1(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise FetchError("response too large")
            if time.monotonic() > deadline:
                raise FetchError("timed out")
            chunks.append(chunk)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise FetchError(f"network error: {type(exc).__name__}") from exc
    return b"".join(chunks)


def _close(response, pool) -> None:
    response.release_conn()  # never drain an untrusted body: the pool is closed instead
    pool.close()


def _same_host(previous: tuple, current: tuple) -> bool:
    """May a redirect go from ``previous`` to ``current`` (both ``check_url`` results)?

    Same host name and port, same scheme or the upgrade ``http://host`` → ``https://host``."""
    (scheme, host, port, _), (new_scheme, new_host, new_port, _) = previous, current
    if new_host != host:
        return False
    if new_scheme == scheme:
        return new_port == port
    return (scheme, port, new_scheme, new_port) == ("http", 80, "https", 443)


def _check_policy(host: str) -> None:
    """Refuse an instance the trust policy does not allow (no app context: no policy)."""
    from flask import has_app_context

    if not has_app_context():
        return
    from maillage.federation.transport.policy import domain_allowed

    if not domain_allowed(host):
        raise FetchError(f"instance not allowed: {host}")


def fetch_object_with_url(
    url: str,
    *,
    signer: tuple[str, str] | None = None,
    budget: FetchBudget | None = None,
) -> tuple[dict, str]:
    """``(document, final_url)``: GET an ActivityPub document (signed with ``signer =
    (key_id, private_pem)`` if given), following same-host redirects only.

    ``final_url`` is the URL that answered: check the document's ``id`` against it, not against
    ``url``.  Every hop is checked before connecting: scheme, addresses, same host as the
    previous hop, trust policy.
    """
    if budget is not None:
        budget.spend()
    deadline = time.monotonic() + 2 * timeout()
    previous = None
    for _hop in range(MAX_REDIRECTS + 1):
        parts = check_url(url)
        address = _resolve(parts[1], parts[2])
        if previous is not None and not _same_host(previous, parts):
            raise FetchError(f"refused redirect to another host ({parts[1]})")
        _check_policy(parts[1])
        if signer is not None:
            headers = sign_request("GET", url, None, signer[0], signer[1])
        else:
            headers = {"Accept": ACTIVITY_ACCEPT}
        response, pool = _send("GET", parts, address, headers, None)
        try:
            location = response.headers.get("Location")
            if response.status in {301, 302, 303, 307, 308} and location:
                url, previous = urljoin(url, location), parts
                continue
            body = _read_body(response, max_body(), deadline)
        finally:
            _close(response, pool)
        return _parse_document(response, body), url
    raise FetchError("too many redirects")


def fetch_object(
    url: str,
    *,
    signer: tuple[str, str] | None = None,
    budget: FetchBudget | None = None,
) -> dict:
    """The document of :func:`fetch_object_with_url`, without the URL that answered.

    Only for documents whose origin does not matter (WebFinger answers…): a caller checking
    that a document comes from its own ``id``'s host wants :func:`fetch_object_with_url`."""
    return fetch_object_with_url(url, signer=signer, budget=budget)[0]


def _parse_document(response, body: bytes) -> dict:
    if response.status != 200:
        raise FetchError("unexpected answer", status=response.status)
    content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise FetchError(
            f"not an ActivityPub document ({content_type or 'no type'})", answered=True
        )
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise FetchError("invalid JSON", answered=True) from exc
    if not isinstance(document, dict):
        raise FetchError("not a JSON object", answered=True)
    return document


def post_signed(url: str, body: bytes, key_id: str, private_pem: str) -> tuple[int, dict]:
    """POST ``body`` signed by ``key_id``; return ``(status, headers)`` (header names lowercased).

    Redirects are not followed (a 3xx comes back as the status).  Raises :class:`FetchError`
    for a refused destination or a network failure.
    """
    headers = sign_request("POST", url, body, key_id, private_pem)
    response, pool = _request("POST", url, headers, body)
    try:
        # Read (and drop) a small answer so the peer sees a complete exchange.
        _read_body(response, 64 * 1024, time.monotonic() + timeout())
    except FetchError:
        pass
    finally:
        _close(response, pool)
    return response.status, {name.lower(): value for name, value in response.headers.items()}


def probe(url: str) -> bool:
    """Does a server answer at ``url``?  (Any HTTP status below 500; for dead-host probes.)"""
    try:
        response, pool = _request("GET", url, {"Accept": "application/json"}, None)
    except FetchError:
        return False
    _close(response, pool)
    return response.status < 500
