"""Which local rows an incoming activity is about: the community, a post or comment."""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.community.models import Community
from maillage.communities.posts.models import Comment, Post
from maillage.federation.groups.registry import Incoming, ids_in
from maillage.platform.extensions import db

ADDRESS_FIELDS = ("audience", "to", "cc", "target", "object")


def community_by_ap_id(ap_id: str) -> Community | None:
    return db.session.scalar(select(Community).where(Community.ap_id == ap_id)) if ap_id else None


def content_by_ap_id(ap_id: str) -> Post | Comment | None:
    """The post or comment whose id is ``ap_id`` (ours or a remote one we stored)."""
    if not ap_id:
        return None
    post = db.session.scalar(select(Post).where(Post.ap_id == ap_id))
    if post is not None:
        return post
    return db.session.scalar(select(Comment).where(Comment.ap_id == ap_id))


def addressed_ids(*documents: dict) -> list[str]:
    """Every id an activity and its object are addressed or attached to, in order: audience
    first, then to/cc/target, then mentions (how Mastodon reaches a group)."""
    found: list[str] = []
    for field in ADDRESS_FIELDS:
        for document in documents:
            if isinstance(document, dict):
                found.extend(ids_in(document.get(field)))
    for document in documents:
        if isinstance(document, dict):
            for tag in document.get("tag") or []:
                if isinstance(tag, dict) and tag.get("type") == "Mention":
                    found.extend(ids_in(tag.get("href")))
    return found


def addressed_community(incoming: Incoming, obj: dict | None = None) -> Community | None:
    """The (local or shadow) community the activity is for: its inbox, then addressing."""
    group = incoming.announced_by
    if group is not None and group.community is not None:
        return group.community  # checked by the Announce handler: it belongs to that group
    candidates = [incoming.inbox_owner_id] if incoming.inbox_owner_id else []
    candidates.extend(addressed_ids(incoming.activity, obj or {}))
    candidates = [c.removesuffix("/followers") for c in candidates]
    if not candidates:
        return None
    rows = db.session.scalars(select(Community).where(Community.ap_id.in_(candidates))).all()
    by_id = {row.ap_id: row for row in rows}
    for candidate in candidates:
        if candidate in by_id:
            return by_id[candidate]
    return None


def community_of(content: Post | Comment) -> Community:
    return content.community if isinstance(content, Post) else content.post.community
