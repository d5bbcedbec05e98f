"""ActivityStreams documents of our actors and objects, as Lemmy and PieFed write them (FEP-1b12).

Pure functions from domain objects to dicts; the views decide who may read them.  Private keys
are never read here: only ``ActorKey.public_key_pem`` is.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from maillage.communities.community.models import Community, JoinPolicy, Visibility
from maillage.communities.users.models import User
from maillage.federation.actors.operations import ensure_key, instance_actor_key
from maillage.federation.ids import base_url, instance_actor_id, local_domain
from maillage.platform.markdown import render

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
#: Our extension vocabulary (only ``maillage:visibility`` so far): other Maillage instances read
#: it, other software ignores it.  An identifier, not a document to fetch.
MAILLAGE_NS = "https://maillage.fr/ns#"
VISIBILITY_PROPERTY = "maillage:visibility"
CONTEXT = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "lemmy": "https://join-lemmy.org/ns#",
        "litepub": "http://litepub.social/ns#",
        "pt": "https://joinpeertube.org/ns#",
        "sc": "http://schema.org/",
        "toot": "http://joinmastodon.org/ns#",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "discoverable": "toot:discoverable",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "moderators": {"@type": "@id", "@id": "lemmy:moderators"},
        "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
        "stickied": "lemmy:stickied",
        "distinguished": "lemmy:distinguished",
        "commentsEnabled": "pt:commentsEnabled",
        "language": "sc:inLanguage",
        "identifier": "sc:identifier",
        "maillage": MAILLAGE_NS,
    },
]
MARKDOWN = "text/markdown"


def with_context(document: dict) -> dict:
    return {"@context": CONTEXT, **document}


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _source(markdown: str) -> dict:
    return {"content": markdown or "", "mediaType": MARKDOWN}


def _render(markdown: str) -> str:
    try:
        return render(markdown or "")
    except ValueError:  # longer than MAX_MARKDOWN_LENGTH: never refuse to describe an actor
        return ""


def _public_key(owner_id: str, key) -> dict:
    """Only the public half: the private key is never put in a document."""
    return {"id": key.key_id, "owner": owner_id, "publicKeyPem": key.public_key_pem}


def shared_inbox() -> str:
    return f"{base_url()}/inbox"


def language() -> dict:
    code = current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")
    return {"identifier": code, "name": {"fr": "Français", "en": "English"}.get(code, code)}


# -- actors ------------------------------------------------------------------------------------


def person(user: User) -> dict:
    """A local person as a ``Person`` (their key is made now if they have none; the caller
    commits)."""
    key = ensure_key(user)
    return with_context(
        {
            "id": user.ap_id,
            "type": "Person",
            "preferredUsername": user.username,
            "name": user.display_name,
            "summary": _render(user.bio),
            "source": _source(user.bio),
            "url": user.ap_id,
            "inbox": f"{user.ap_id}/inbox",
            "outbox": f"{user.ap_id}/outbox",
            "endpoints": {"sharedInbox": shared_inbox()},
            "publicKey": _public_key(user.ap_id, key),
            "manuallyApprovesFollowers": False,
            "discoverable": False,
            "published": iso(user.created_at),
        }
    )


def group(community: Community) -> dict:
    """A local community as a FEP-1b12 ``Group`` (key made if missing; the caller commits)."""
    key = ensure_key(community)
    ap_id = community.ap_id
    return with_context(
        {
            "id": ap_id,
            "type": "Group",
            "preferredUsername": community.slug,
            "name": community.name,
            "summary": _render(community.description),
            "source": _source(community.description),
            "mediaType": "text/html",
            "url": ap_id,
            "inbox": f"{ap_id}/inbox",
            "outbox": f"{ap_id}/outbox",
            "followers": f"{ap_id}/followers",
            "featured": f"{ap_id}/featured",
            "attributedTo": f"{ap_id}/moderators",
            "moderators": f"{ap_id}/moderators",
            "endpoints": {"sharedInbox": shared_inbox()},
            "publicKey": _public_key(ap_id, key),
            "postingRestrictedToMods": False,
            "sensitive": False,
            "manuallyApprovesFollowers": community.join_policy != JoinPolicy.OPEN
            or community.visibility != Visibility.PUBLIC,
            "discoverable": community.visibility == Visibility.PUBLIC,
            # "public" or "private" (secret communities are never served): a private community
            # stays members-only on the instances that follow it.
            VISIBILITY_PROPERTY: str(community.visibility),
            "language": [language()],
            "published": iso(community.created_at),
        }
    )


def instance_actor() -> dict:
    """The instance actor (``Application``) that signs our fetches, as Mastodon and Lemmy have."""
    key = instance_actor_key()
    ap_id = instance_actor_id()
    return with_context(
        {
            "id": ap_id,
            "type": "Application",
            "preferredUsername": local_domain(),
            "name": current_app.config.get("INSTANCE_NAME", "Maillage"),
            "url": f"{base_url()}/",
            "inbox": f"{ap_id}/inbox",
            "outbox": f"{ap_id}/outbox",
            "endpoints": {"sharedInbox": shared_inbox()},
            "publicKey": _public_key(ap_id, key),
            "manuallyApprovesFollowers": True,
            "discoverable": False,
        }
    )


# -- objects -----------------------------------------------------------------------------------


def _addressing(community: Community) -> dict:
    """Public communities address the world; private ones only their members (followers)."""
    if community.visibility == Visibility.PUBLIC:
        return {"to": [community.ap_id, PUBLIC], "cc": []}
    return {"to": [community.ap_id], "cc": [f"{community.ap_id}/followers"]}


def _content(obj, source: str, html: str) -> dict:
    return {
        "content": html or "",
        "mediaType": "text/html",
        "source": _source(source),
        "published": iso(obj.created_at),
        "updated": iso(getattr(obj, "updated_at", None)),
        "language": language(),
    }


def _clean(document: dict) -> dict:
    return with_context({k: v for k, v in document.items() if v is not None})


def _page(obj, community: Community, author: User, title: str, *, stickied=False) -> dict:
    return _clean(
        {
            "id": obj.ap_id,
            "type": "Page",
            "attributedTo": author.ap_id,
            "audience": community.ap_id,
            **_addressing(community),
            "name": title,
            "url": obj.ap_id,
            **_content(obj, obj.body_source, obj.body_html),
            "sensitive": False,
            "stickied": stickied,
            "commentsEnabled": not getattr(obj, "locked_at", None)
            and not getattr(obj, "locked", False),
        }
    )


def _note(obj, community: Community, author: User, in_reply_to: str, parent_author) -> dict:
    addressing = _addressing(community)
    if parent_author is not None and parent_author.ap_id not in addressing["cc"]:
        addressing["cc"] = [*addressing["cc"], parent_author.ap_id]
    return _clean(
        {
            "id": obj.ap_id,
            "type": "Note",
            "attributedTo": author.ap_id,
            "audience": community.ap_id,
            **addressing,
            "inReplyTo": in_reply_to,
            "url": obj.ap_id,
            **_content(obj, obj.body_source, obj.body_html),
            "distinguished": False,
        }
    )


def page(post) -> dict:
    """A post as a Lemmy ``Page`` in its community."""
    return _page(post, post.community, post.author, post.title)


def note(comment) -> dict:
    """A comment as a ``Note`` replying to its post (or to its parent comment, if any)."""
    parent = getattr(comment, "parent", None)
    target = parent if parent is not None else comment.post
    return _note(comment, comment.post.community, comment.author, target.ap_id, target.author)


def topic_page(topic) -> dict:
    """A discussion topic as a ``Page`` (pinned topics are ``stickied``, as in Lemmy)."""
    return _page(topic, topic.community, topic.author, topic.title, stickied=topic.pinned)


def reply_note(reply) -> dict:
    """A discussion reply as a ``Note`` answering its topic; a deleted one is a Tombstone."""
    if reply.deleted:
        return tombstone(reply.ap_id, "Note", reply.deleted_at)
    topic = reply.topic
    return _note(reply, topic.community, reply.author, topic.ap_id, topic.author)


def event(item) -> dict:
    """An event as an ActivityStreams ``Event`` (as Mobilizon sends them, simplified)."""
    community = item.community
    document = {
        "id": item.ap_id,
        "type": "Event",
        "attributedTo": community.ap_id,
        "actor": item.organiser.ap_id,
        "audience": community.ap_id,
        **_addressing(community),
        "name": item.title,
        "url": item.ap_id,
        **_content(item, item.description_source, item.description_html),
        "startTime": iso(item.starts_at),
        "endTime": iso(item.ends_at),
        "location": {"type": "Place", "name": item.place} if item.place else None,
        "maximumAttendeeCapacity": item.capacity,
    }
    return _clean(document)


def tombstone(ap_id: str, former_type: str, deleted: dt.datetime | None = None) -> dict:
    return _clean(
        {"id": ap_id, "type": "Tombstone", "formerType": former_type, "deleted": iso(deleted)}
    )


def object_for(obj) -> dict:
    """The document of any local object that federates (raises LookupError otherwise)."""
    from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
    from maillage.communities.events.models import Event
    from maillage.communities.posts.models import Comment, Post

    serializers = {
        User: person,
        Community: group,
        Post: page,
        Comment: note,
        DiscussionTopic: topic_page,
        DiscussionReply: reply_note,
        Event: event,
    }
    for kind, serializer in serializers.items():
        if isinstance(obj, kind):
            return serializer(obj)
    raise LookupError(f"no ActivityStreams document for {obj!r}")
