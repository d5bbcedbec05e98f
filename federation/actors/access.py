"""Who may read which ActivityPub document, and the local objects behind our URLs.

The rules of the platform apply unchanged: public content is readable by anyone (the anonymous
viewer of ``can``); secret communities and everything in them are never served (404); private
communities and their content only to a GET signed by an actor of an allow-listed instance
(``transport.policy.domain_allow_listed``).  Remote shadow rows and remote content are never
served as ours.
"""

from __future__ import annotations

import logging

from flask import g, request

from maillage.communities.community.models import Community, Visibility
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.federation.actors import queries
from maillage.federation.ids import host_header_is_ours, hostname_of
from maillage.platform.db import id_from_text
from maillage.platform.extensions import db

log = logging.getLogger(__name__)


def load_local(kind: str, key: str):
    """The local object a negotiated URL names (``kind`` is a path prefix: u, c, post…)."""
    if kind == "u":
        return queries.local_user(key)
    if kind == "c":
        return queries.local_community(key)
    object_id = id_from_text(key)  # None for what no row can have: too large for the column
    if object_id is None:
        return None
    model = _content_models().get(kind)
    obj = db.session.get(model, object_id) if model is not None else None
    return obj if obj is not None and obj.local else None


def _content_models() -> dict:
    from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
    from maillage.communities.events.models import Event
    from maillage.communities.posts.models import Comment, Post

    return {
        "post": Post,
        "comment": Comment,
        "topic": DiscussionTopic,
        "reply": DiscussionReply,
        "event": Event,
    }


def community_of(obj) -> Community | None:
    if isinstance(obj, Community):
        return obj
    if isinstance(obj, User):
        return None
    for path in ("community", "post", "topic"):
        parent = getattr(obj, path, None)
        if parent is not None:
            return community_of(parent)
    return None


def _hidden(obj) -> bool:
    """Hidden by moderation (deleted replies are served as Tombstones instead)."""
    return getattr(obj, "hidden_at", None) is not None


def _public_view(obj) -> bool:
    """``can(anonymous, "view", obj)``, or of its parent when the type has no view rule."""
    try:
        return can(None, "view", obj)
    except LookupError:
        parent = getattr(obj, "post", None) or getattr(obj, "topic", None)
        return parent is not None and not _hidden(obj) and _public_view(parent)


def readable(obj) -> bool:
    """Whether the current request may read ``obj``'s ActivityPub document."""
    if isinstance(obj, User):
        return obj.local and obj.is_active
    community = community_of(obj)
    if community is None or community.visibility == Visibility.SECRET:
        return False
    if community.visibility == Visibility.PUBLIC:
        return _public_view(obj)
    if signed_peer_domain() is None:
        return False
    return not _hidden(obj)


def signed_peer_domain() -> str | None:
    """The host of the allow-listed instance that signed this request, else None (cached)."""
    if "federation_peer" not in g:
        g.federation_peer = _verify_peer()
    return g.federation_peer


def _verify_peer() -> str | None:
    if "Signature" not in request.headers and "Signature-Input" not in request.headers:
        return None
    try:
        from maillage.federation.transport.policy import domain_allow_listed
        from maillage.federation.transport.signatures import SignatureError, verify_request
    except ImportError:  # no transport: nobody can prove who they are
        return None
    from maillage.federation.actors.operations import public_key_for

    path = request.full_path.rstrip("?")
    if not host_header_is_ours(request.headers):
        log.info("signed GET %s refused: Host header is not the host of BASE_URL", path)
        return None
    try:
        key_id = verify_request(
            request.method, path, dict(request.headers), request.get_data(), public_key_for
        )
    except SignatureError as exc:
        log.info("signed GET %s refused: %s", path, exc)
        return None
    domain = hostname_of(key_id)
    return domain if domain and domain_allow_listed(domain) else None
