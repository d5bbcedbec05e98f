"""Images of remote posts and comments, shown from our own copy.

An image attached to a remote object (Lemmy's ``Image``, Mastodon's and Mobilizon's ``Document``,
PeerTube's thumbnail) is fetched once, during the processing of the activity, through the same
safe path as every federation request (https only, every address checked, same-host redirects
only, the trust policy, a time limit, ``FEDERATION_MEDIA_MAX_BYTES`` at most — 5 MB by default),
within the activity's fetch budget.  It is then decoded and encoded again by the document
previews' thumbnailer (PNG, JPEG, GIF or WebP only, metadata dropped, bounded in pixels and
size) and stored; pages show ``/media/remote/<key>``, never the remote URL.  The same URL is
fetched only once.  An image that cannot be had becomes a plain link the reader may follow.
"""

from __future__ import annotations

import hashlib
import logging
import time
from urllib.parse import urljoin

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maillage.federation.actors.models import RemoteMedia
from maillage.federation.ids import base_url
from maillage.platform.extensions import db

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MEDIA_PATH = "/media/remote/"
#: Leading bytes of the image formats we decode (the remote ``Content-Type`` is not trusted).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def media_url(media: RemoteMedia) -> str:
    return f"{base_url()}{MEDIA_PATH}{media.storage_key}"


def image_type(head: bytes) -> str | None:
    """``png``, ``jpeg``, ``gif`` or ``webp`` from the file's first bytes, else None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)


def cached_image(url: str, budget=None) -> str | None:
    """Our URL for the image at ``url`` (fetched and stored now if new), or None."""
    digest = hashlib.sha256(url.encode()).hexdigest()
    known = db.session.scalar(select(RemoteMedia).where(RemoteMedia.url_digest == digest))
    if known is not None:
        return media_url(known)
    from maillage.federation.transport.fetch import FetchError

    try:
        data = fetch_bytes(url, budget=budget)
    except FetchError as exc:
        log.info("image %s not fetched: %s", url, exc)
        return None
    media = _store(url, digest, data)
    return media_url(media) if media is not None else None


def _store(url: str, digest: str, data: bytes) -> RemoteMedia | None:
    from maillage.communities.documents.previews import READY, make_thumbnail
    from maillage.platform.storage import get_storage

    kind = image_type(data[:16])
    if kind is None:
        return None
    storage = get_storage()
    original = storage.store_bytes(data)
    thumbnail = make_thumbnail(storage, original, kind)
    storage.delete_after_commit(original)
    if thumbnail.status != READY:
        return None
    media = RemoteMedia(
        url_digest=digest,
        url=url[:2000],
        storage_key=storage.store_bytes(thumbnail.data),
        mime=thumbnail.mime,
        width=thumbnail.width or None,
        height=thumbnail.height or None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(media)
    except IntegrityError:  # stored meanwhile by another worker: use theirs
        return db.session.scalar(select(RemoteMedia).where(RemoteMedia.url_digest == digest))
    return media


def max_bytes() -> int:
    return int(current_app.config.get("FEDERATION_MEDIA_MAX_BYTES", DEFAULT_MAX_BYTES))


def fetch_bytes(url: str, *, budget=None) -> bytes:
    """GET ``url`` through the federation's safe path (see ``transport.fetch``), any content
    type, at most :func:`max_bytes`; raises ``FetchError``.

    The checks are ``fetch_object_with_url``'s, hop by hop: scheme, every address, same host
    after a redirect, trust policy, deadline, size."""
    from maillage.federation.transport import fetch

    if budget is not None:
        budget.spend()
    deadline = time.monotonic() + 2 * fetch.timeout()
    previous = None
    for _hop in range(fetch.MAX_REDIRECTS + 1):
        parts = fetch.check_url(url)
        address = fetch._resolve(parts[1], parts[2])
        if previous is not None and not fetch._same_host(previous, parts):
            raise fetch.FetchError(f"refused redirect to another host ({parts[1]})")
        fetch._check_policy(parts[1])
        response, pool = fetch._send("GET", parts, address, {"Accept": "image/*"}, None)
        try:
            location = response.headers.get("Location")
            if response.status in {301, 302, 303, 307, 308} and location:
                url, previous = urljoin(url, location), parts
                continue
            if response.status != 200:
                raise fetch.FetchError("unexpected answer", status=response.status)
            return fetch._read_body(response, max_bytes(), deadline)
        finally:
            fetch._close(response, pool)
    raise fetch.FetchError("too many redirects")
