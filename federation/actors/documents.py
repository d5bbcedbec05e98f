"""Reading remote actor documents: validation and sanitising, without any I/O.

A document is trusted only for its own origin: its ``id`` must be on the host it was fetched
from, and its ``publicKey`` must belong to it (owner == id, key id on the same host).  Text is
sanitised like local content before anything is stored.
"""

from __future__ import annotations

import hashlib
import re

import nh3
from flask_babel import lazy_gettext as _l

from maillage.federation.actors.keys import is_public_key_pem
from maillage.federation.actors.models import ACTOR_TYPES
from maillage.federation.ids import domain_of
from maillage.federation.text import html_to_text
from maillage.platform.errors import OperationError
from maillage.platform.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

SUMMARY_MAX = 5000
SHADOW_NAME_MAX = 64
_HANDLE_UNSAFE = re.compile(r"[^a-z0-9_.\-]")


class ActorError(OperationError):
    """A remote actor could not be found, fetched or trusted; ``reason`` says why (logs)."""

    status = 422

    def __init__(self, reason: str, message=None) -> None:
        super().__init__(message or _l("Ce compte ou cette communauté distante est introuvable."))
        self.reason = reason

    def __repr__(self) -> str:
        return f"<ActorError {self.reason!r}>"


def sanitise_html(value) -> str:
    """Remote HTML cleaned with the same rules as our rendered Markdown."""
    if not isinstance(value, str):
        return ""
    return nh3.clean(
        value[: SUMMARY_MAX * 4],
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(value: str) -> str:
    """The text of sanitised HTML, paragraphs kept as blank lines (for bio/description)."""
    return html_to_text(value, SUMMARY_MAX)


def _text(value, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _url(value) -> str | None:
    """An http(s) URL from a string, a Link/Image object or a list of them."""
    if isinstance(value, list):
        value = next((item for item in value if _url(item)), None)
    if isinstance(value, dict):
        value = value.get("href") or value.get("url")
        if isinstance(value, (list, dict)):
            return _url(value)
    if isinstance(value, str) and domain_of(value) and len(value) <= 1000:
        return value
    return None


def actor_type(doc: dict) -> str | None:
    kinds = doc.get("type")
    for kind in kinds if isinstance(kinds, list) else [kinds]:
        if kind in ACTOR_TYPES:
            return "Service" if kind == "Organization" else kind
    return None


def _public_key(doc: dict, actor_id: str) -> tuple[str | None, str | None]:
    """``(key_id, pem)`` of the actor's own key; a key owned by someone else is refused."""
    keys = doc.get("publicKey")
    if not keys:
        return None, None
    for key in keys if isinstance(keys, list) else [keys]:
        if not isinstance(key, dict):
            continue
        owner = key.get("owner") or actor_id
        key_id, pem = key.get("id"), key.get("publicKeyPem")
        if owner != actor_id:
            raise ActorError("public key owner is not the actor")
        if not isinstance(key_id, str) or domain_of(key_id) != domain_of(actor_id):
            raise ActorError("public key id not on the actor's host")
        if not isinstance(pem, str) or not is_public_key_pem(pem):
            raise ActorError("public key unreadable")
        return key_id, pem
    return None, None


def parse_actor(doc, fetched_url: str) -> dict:
    """The RemoteActor fields of an actor document fetched from ``fetched_url``.

    ``fetched_url`` must be the URL that answered (``fetch_object_with_url``'s final URL), not
    the one asked for: a redirect must never lend its host to a document served elsewhere."""
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise ActorError("not an object")
    actor_id = doc["id"]
    if not domain_of(actor_id) or domain_of(actor_id) != domain_of(fetched_url):
        raise ActorError("actor id not on the host it was fetched from")
    kind = actor_type(doc)
    if kind is None:
        raise ActorError("not an actor")
    inbox = _url(doc.get("inbox"))
    if inbox is None:
        raise ActorError("actor without inbox")
    key_id, pem = _public_key(doc, actor_id)
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    username = _text(doc.get("preferredUsername"), 255) or actor_id.rstrip("/").rsplit("/")[-1]
    return {
        "ap_id": actor_id,
        "type": kind,
        "preferred_username": username,
        "domain": domain_of(actor_id),
        "inbox": inbox,
        "shared_inbox": _url(endpoints.get("sharedInbox")),
        "outbox": _url(doc.get("outbox")),
        "followers": _url(doc.get("followers")),
        "featured": _url(doc.get("featured")),
        "moderators": _url(doc.get("moderators")) or _url(_attributed_to(doc, kind)),
        "public_key_id": key_id,
        "public_key_pem": pem,
        "name": _text(doc.get("name"), 255) or username,
        "summary": sanitise_html(doc.get("summary"))[: SUMMARY_MAX * 2],
        "icon_url": _url(doc.get("icon")),
        "url": _url(doc.get("url")) or actor_id,
    }


def _attributed_to(doc: dict, kind: str):
    """Lemmy names a Group's moderators collection in ``attributedTo``."""
    value = doc.get("attributedTo")
    return value if kind == "Group" and isinstance(value, str) else None


def shadow_name(preferred_username: str, domain: str, ap_id: str, *, digest: bool = False) -> str:
    """``name@domain`` in lowercase, safe in our URLs, at most 64 characters.

    Unsafe characters become ``_``; a name too long (or ``digest=True``, when the plain name is
    taken by another actor) keeps a short digest of the actor id, so two actors never share one.
    """
    name = _HANDLE_UNSAFE.sub("_", preferred_username.lower()) or "_"
    domain = domain.lower()
    handle = f"{name}@{domain}"
    if len(handle) <= SHADOW_NAME_MAX and not digest:
        return handle
    mark = hashlib.sha256(ap_id.encode()).hexdigest()[:8]
    room = max(SHADOW_NAME_MAX - len(domain) - 10, 1)
    return f"{name[:room]}~{mark}@{domain}"[:SHADOW_NAME_MAX]
