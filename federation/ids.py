"""Stable ActivityPub ids for everything that can federate.

Every id is built from the configured public base URL (``MAILLAGE_BASE_URL``) so that local objects
carry a fetchable URL from the moment they are created; federation is never a retrofit.
"""

from __future__ import annotations

from flask import current_app

KIND_PATHS = {
    "user": "u",
    "community": "c",
    "post": "post",
    "comment": "comment",
    "wiki_page": "wiki",
    "topic": "topic",
    "reply": "reply",
    "event": "event",
    "poll": "poll",
}


def local_ap_id(kind: str, key: str | int) -> str:
    """The canonical URL id of a local object, e.g. ``https://example.org/c/acheteurs``."""
    return f"{current_app.config['BASE_URL']}/{KIND_PATHS[kind]}/{key}"


#: The path of the instance actor (an ``Application`` used to sign fetches).
INSTANCE_ACTOR_PATH = "/actor"
_NUMERIC_KINDS = frozenset(KIND_PATHS) - {"user", "community"}
_KINDS_BY_PATH = {path: kind for kind, path in KIND_PATHS.items()}


def base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def local_domain() -> str:
    """Our host as other servers see it (with the port when the base URL has one)."""
    from urllib.parse import urlsplit

    return urlsplit(base_url()).netloc.lower()


def instance_actor_id() -> str:
    return f"{base_url()}{INSTANCE_ACTOR_PATH}"


def domain_of(url: str) -> str:
    """The host (and port, if any) of ``url``, lowercase; "" when it is not an http(s) URL."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return parts.netloc.lower() if parts.scheme in ("http", "https") else ""


def is_local_id(url: str | None) -> bool:
    """Whether ``url`` names something of this instance (same scheme and host as BASE_URL)."""
    if not url:
        return False
    base = base_url()
    return url == base or url.startswith(f"{base}/") or url.startswith(f"{base}#")


def parse_local_id(url: str | None) -> tuple[str, str | int] | None:
    """``(kind, key)`` of a local id, e.g. ``("community", "acheteurs")`` or ``("post", 12)``.

    A fragment (``#main-key``) is ignored; ``("instance", "")`` is the instance actor.  Returns
    None for anything else (another host, another path, a sub-path such as ``/c/x/outbox``).
    """
    if not is_local_id(url):
        return None
    path = url[len(base_url()) :].split("#", 1)[0].split("?", 1)[0]
    if path == INSTANCE_ACTOR_PATH:
        return ("instance", "")
    parts = path.strip("/").split("/")
    if len(parts) != 2 or parts[0] not in _KINDS_BY_PATH or not parts[1]:
        return None
    kind, key = _KINDS_BY_PATH[parts[0]], parts[1]
    if kind in _NUMERIC_KINDS:
        return (kind, int(key)) if key.isdigit() else None
    return (kind, key)


def hostname_of(url: str) -> str:
    """The host name of ``url`` without port, lowercase (what trust policies list)."""
    from urllib.parse import urlsplit

    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def host_header_is_ours(headers) -> bool:
    """Whether the ``Host`` header of a request names us (the host of ``BASE_URL``).

    A signature covers the Host header, so a request signed for another server (and replayed to
    us with that server's Host) would verify: refuse it.  Compared with the configured
    ``BASE_URL`` host, not with where the request came in, so a reverse proxy must pass the
    original Host on (nginx: ``proxy_set_header Host $host;``).  The port is ignored: peers
    sign the host name without it.
    """
    from urllib.parse import urlsplit

    items = headers.items() if hasattr(headers, "items") else headers
    values = [str(value).strip() for name, value in items if name.lower() == "host"]
    if len(values) != 1 or not values[0]:
        return False
    try:
        received = urlsplit(f"//{values[0]}").hostname
    except ValueError:
        return False
    return bool(received) and received.lower() == hostname_of(base_url())
