"""Discovery (WebFinger, NodeInfo), actor documents, collections and content negotiation.

Objects are served as ``application/activity+json`` at their id, the same URL as their HTML
page: a ``before_app_request`` hook answers requests that ask for ActivityStreams and leaves the
others to the existing HTML views (``Vary: Accept`` on both).
"""

from __future__ import annotations

import datetime as dt
import json
import re

from flask import abort, current_app, redirect, request, url_for
from sqlalchemy import func, select

from maillage.communities.community.models import Visibility
from maillage.federation.actors import access, collections, queries, serialize
from maillage.federation.actors.blueprint import blueprint
from maillage.federation.ids import base_url, instance_actor_id, local_domain, parse_local_id
from maillage.platform.extensions import db

ACTIVITY_JSON = "application/activity+json"
AP_TYPES = ("application/activity+json", "application/ld+json")
#: Local object URLs that answer ActivityStreams to clients asking for it.
NEGOTIATED = re.compile(r"^/(u|c|post|comment|topic|reply|event)/([^/]+)$")
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{}"


def wants_activity_json() -> bool:
    """An explicit ActivityStreams type at least as wanted as HTML (browsers never list one)."""
    accept = request.accept_mimetypes
    explicit = [
        quality for value, quality in accept if value.split(";")[0].strip().lower() in AP_TYPES
    ]
    return bool(explicit) and max(explicit) > 0 and max(explicit) >= accept.quality("text/html")


def activity_response(document: dict, status: int = 200):
    response = current_app.response_class(
        json.dumps(document, ensure_ascii=False), status=status, mimetype=ACTIVITY_JSON
    )
    response.headers["Content-Type"] = ACTIVITY_JSON
    response.vary.add("Accept")
    return response


def _json_response(document: dict, content_type: str):
    response = current_app.response_class(json.dumps(document, ensure_ascii=False))
    response.headers["Content-Type"] = content_type
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _committed(document: dict) -> dict:
    """Commit what serialising made (a key generated on first use) before it leaves."""
    db.session.commit()
    return document


# -- content negotiation -----------------------------------------------------------------------


@blueprint.before_app_request
def negotiate():
    if request.method not in ("GET", "HEAD"):
        return None
    match = NEGOTIATED.match(request.path)
    if match is None:
        return None
    kind, key = match.groups()
    if not wants_activity_json():
        return _comment_page(key) if kind == "comment" else None
    obj = access.load_local(kind, key)
    if obj is None:
        return _gone(kind, key)
    if not obj.ap_id or not access.readable(obj):
        abort(404)
    if obj.ap_id != f"{base_url()}{request.path}":
        return redirect(obj.ap_id, code=308)  # e.g. /u/Alice -> /u/alice
    document = _committed(serialize.object_for(obj))
    # A deleted reply that others quote stays as a placeholder: gone all the same.
    return activity_response(document, 410 if document.get("type") == "Tombstone" else 200)


def _gone(kind: str, key: str):
    """``410 Gone`` with a ``Tombstone`` for the id of a deleted local object that anyone could
    read, else the 404 of an unknown id: a secret or members-only object's tombstone must not
    say that it existed, what it was or when it went (see ``tombstones``)."""
    from maillage.federation.actors.tombstones import tombstone_for

    name = key.lower() if kind in ("u", "c") else key
    ap_id = f"{base_url()}/{kind}/{name}"
    tombstone = tombstone_for(db.session, ap_id)
    if tombstone is None or not tombstone.public:
        abort(404)
    return activity_response(
        serialize.tombstone(ap_id, tombstone.type, tombstone.deleted_at), status=410
    )


def _comment_page(key: str):
    """A comment has no page of its own: browsers go to its place in the post's page."""
    from maillage.communities.permissions import can
    from maillage.platform.views_util import current_viewer

    comment = access.load_local("comment", key)
    if comment is None or not can(current_viewer(), "view", comment.post):
        abort(404)
    return redirect(f"{url_for('posts.show', post_id=comment.post_id)}#comment-{comment.id}")


@blueprint.after_app_request
def vary_on_accept(response):
    if NEGOTIATED.match(request.path):
        response.vary.add("Accept")
    return response


# -- actors and collections --------------------------------------------------------------------


@blueprint.get("/actor")
def instance_actor():
    return activity_response(_committed(serialize.instance_actor()))


@blueprint.get("/actor/outbox")
def instance_outbox():
    return activity_response(collections.empty(f"{instance_actor_id()}/outbox"))


def _page_args() -> tuple[bool, int | None]:
    before = request.args.get("before", "")
    return "page" in request.args, int(before) if before.isdigit() else None


def _readable_community(slug: str):
    community = queries.local_community(slug)
    if community is None or not access.readable(community):
        abort(404)
    return community


@blueprint.get("/c/<slug>/outbox")
def community_outbox(slug: str):
    page, before = _page_args()
    community = _readable_community(slug)
    return activity_response(collections.community_outbox(community, page=page, before=before))


@blueprint.get("/c/<slug>/followers")
def community_followers(slug: str):
    community = _readable_community(slug)
    allowed_peer = access.signed_peer_domain() is not None
    return activity_response(collections.followers(community, with_items=allowed_peer))


@blueprint.get("/c/<slug>/moderators")
def community_moderators(slug: str):
    return activity_response(collections.moderators(_readable_community(slug)))


@blueprint.get("/c/<slug>/featured")
def community_featured(slug: str):
    return activity_response(collections.featured(_readable_community(slug)))


@blueprint.get("/u/<username>/outbox")
def user_outbox(username: str):
    user = queries.local_user(username)
    if user is None:
        abort(404)
    page, before = _page_args()
    return activity_response(collections.user_outbox(user, page=page, before=before))


# -- images of remote content ------------------------------------------------------------------

#: A re-encoded image: shown, never run, framed only by our pages.
MEDIA_CSP = "default-src 'none'; sandbox; frame-ancestors 'self'"


@blueprint.get("/media/remote/<key>")
def remote_media(key: str):
    """Our copy of an image of remote content (see ``federation.groups.media``).

    The key is the storage's random key (128 bits): it names one image and cannot be guessed,
    so the copy of an image of a members-only post is not listed anywhere for others to find."""
    from flask import send_file

    from maillage.federation.actors.models import RemoteMedia
    from maillage.platform.storage import KEY_RE, UnknownKey, get_storage

    if not KEY_RE.fullmatch(key):
        abort(404)
    media = db.session.scalar(select(RemoteMedia).where(RemoteMedia.storage_key == key))
    if media is None:
        abort(404)
    try:
        path = get_storage().local_path(key)
    except UnknownKey:
        abort(404)
    response = send_file(path, mimetype=media.mime, conditional=True, etag=key, max_age=None)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.headers["Cache-Control"] = "private, max-age=604800, immutable"
    return response


# -- WebFinger ---------------------------------------------------------------------------------


def _webfinger_name(resource: str) -> str | None:
    """The local name ``resource`` asks for (``acct:name@host`` or one of our actor URLs)."""
    if resource.startswith("acct:"):
        name, _, host = resource[5:].lstrip("@!").rpartition("@")
        return name.lower() if name and host.lower() == local_domain() else None
    parsed = parse_local_id(resource)
    if parsed is None or parsed[0] not in ("user", "community", "instance"):
        return None
    return str(parsed[1]) if parsed[0] != "instance" else local_domain()


def _actors_named(name: str) -> list[tuple[str, str]]:
    """``(ap_id, type)`` of the local actors with this name: a person and/or a community (as in
    Lemmy, both answer to ``acct:``), or the instance actor under our domain name."""
    found = []
    user = queries.local_user(name)
    if user is not None:
        found.append((user.ap_id, "Person"))
    community = queries.local_community(name)
    if community is not None and community.visibility != Visibility.SECRET:
        found.append((community.ap_id, "Group"))
    if not found and name == local_domain():
        found.append((instance_actor_id(), "Application"))
    return found


@blueprint.get("/.well-known/webfinger")
def webfinger():
    resource = request.args.get("resource", "").strip()
    if not resource:
        abort(400)
    name = _webfinger_name(resource)
    actors = _actors_named(name) if name else []
    if not actors:
        abort(404)
    links = []
    for ap_id, kind in actors:
        links.append(
            {
                "rel": "self",
                "type": ACTIVITY_JSON,
                "href": ap_id,
                "properties": {"https://www.w3.org/ns/activitystreams#type": kind},
            }
        )
        links.append(
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": ap_id}
        )
    document = {
        "subject": f"acct:{name}@{local_domain()}",
        "aliases": [ap_id for ap_id, _kind in actors],
        "links": links,
    }
    return _json_response(document, "application/jrd+json")


# -- NodeInfo ----------------------------------------------------------------------------------


@blueprint.get("/.well-known/nodeinfo")
def nodeinfo_discovery():
    links = [
        {"rel": NODEINFO_SCHEMA.format(version), "href": f"{base_url()}/nodeinfo/{version}"}
        for version in ("2.0", "2.1")
    ]
    return _json_response({"links": links}, "application/json")


@blueprint.get("/nodeinfo/<version>")
def nodeinfo(version: str):
    if version not in ("2.0", "2.1"):
        abort(404)
    document = _nodeinfo(version)
    content_type = f'application/json; profile="{NODEINFO_SCHEMA.format(version)}#"'
    return _json_response(document, content_type)


def _software_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("maillage")
    except PackageNotFoundError:
        return "0"


def _nodeinfo(version: str) -> dict:
    from maillage.communities.users.models import User
    from maillage.platform.db import utcnow

    software = {"name": "maillage", "version": _software_version()}
    if version == "2.1":
        software["homepage"] = base_url()
    local_users = select(func.count(User.id)).where(User.local.is_(True), User.is_active)
    now = utcnow()

    def active_since(days: int) -> int:
        cutoff = now - dt.timedelta(days=days)
        return db.session.scalar(local_users.where(User.last_seen_at >= cutoff)) or 0

    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": bool(current_app.config.get("SIGNUP_ENABLED", False)),
        "usage": {
            "users": {
                "total": db.session.scalar(local_users) or 0,
                "activeMonth": active_since(30),
                "activeHalfyear": active_since(180),
            },
            **_public_content_counts(),
        },
        "metadata": {"nodeName": current_app.config.get("INSTANCE_NAME", "Maillage")},
    }


#: ``app.extensions`` entry: ``(computed at, counts)`` of :func:`_public_content_counts`.
_COUNTS_CACHE = "maillage.nodeinfo_counts"


def _public_content_counts() -> dict:
    """``localPosts``/``localComments``: what our people wrote that anyone may read.

    Only posts and comments of public communities, not hidden by moderation — a secret or
    private community's content is nobody's business outside it, its volume included.  Two
    counts over an index-backed join; peers fetch NodeInfo often, so the numbers are kept for
    ``NODEINFO_COUNTS_SECONDS`` (300) per process.
    """
    import time

    ttl = float(current_app.config.get("NODEINFO_COUNTS_SECONDS", 300))
    cached = current_app.extensions.get(_COUNTS_CACHE)
    if cached is not None and time.monotonic() - cached[0] < ttl:
        return cached[1]
    counts = _count_public_content()
    current_app.extensions[_COUNTS_CACHE] = (time.monotonic(), counts)
    return counts


def _count_public_content() -> dict:
    from maillage.communities.community.models import Community
    from maillage.communities.posts.models import Comment, Post

    readable_posts = (
        select(Post.id)
        .join(Community, Community.id == Post.community_id)
        .where(Community.visibility == Visibility.PUBLIC, Post.hidden_at.is_(None))
    )
    posts = db.session.scalar(
        select(func.count()).select_from(readable_posts.where(Post.local.is_(True)).subquery())
    )
    comments = db.session.scalar(
        select(func.count(Comment.id)).where(
            Comment.local.is_(True),
            Comment.hidden_at.is_(None),
            Comment.post_id.in_(readable_posts),
        )
    )
    return {"localPosts": posts or 0, "localComments": comments or 0}
