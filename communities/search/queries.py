"""Searching as a given viewer: the index narrows by audience, the permission policy decides.

The index only knows audiences (``public``, ``c:<id>``) and may lag behind the database for a
moment (a community made secret, a post deleted, a member who left).  So every hit is loaded
(in bulk, per kind) and shown only when ``can(viewer, "view", obj)`` still says yes; hits whose
object is gone are dropped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from html import unescape

import nh3
from flask import url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from maillage.communities.community.models import Community
from maillage.communities.permissions import can, roles_of
from maillage.communities.posts.models import Post
from maillage.communities.search.providers import COMMUNITY, POST, USER
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.search.backend import PUBLIC, community_audience, get_backend

log = logging.getLogger(__name__)

KINDS = (COMMUNITY, POST, USER)
MAX_QUERY_LENGTH = 200
MAX_RESULTS = 500
EXCERPT_LENGTH = 240


class SearchUnavailable(RuntimeError):
    """The search backend failed (index missing or damaged): say so rather than a 500."""


@dataclass
class SearchItem:
    """One result, ready to show: ``title`` and ``excerpt`` are safe HTML with ``<mark>``."""

    kind: str
    obj: object
    url: str
    title: Markup
    excerpt: Markup
    score: float


@dataclass
class SearchResults:
    query: str
    kinds: frozenset[str] | None
    items: list[SearchItem] = field(default_factory=list)
    total: int = 0
    facets: dict[str, int] = field(default_factory=dict)
    has_more: bool = False


def viewer_of(user) -> User | None:
    """The signed-in, active user, or None for anonymous visitors (Flask-Login's included)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user


def audiences(viewer: User | None) -> set[str] | None:
    """What the viewer may find: public documents and their communities'; None for admins."""
    if viewer is None:
        return {PUBLIC}
    if viewer.is_admin:
        return None
    return {PUBLIC} | {community_audience(community_id) for community_id in roles_of(viewer)}


def search(
    viewer,
    q: str,
    kinds: set[str] | frozenset[str] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchResults:
    """Results ``offset`` to ``offset + limit`` of ``q`` that ``viewer`` may see."""
    viewer = viewer_of(viewer)
    query = " ".join(q.split())
    kinds = frozenset(kinds) & frozenset(KINDS) if kinds else None
    results = SearchResults(query=query, kinds=kinds or None)
    if not query:
        return results
    wanted = min(offset + limit, MAX_RESULTS)
    backend = get_backend()
    try:
        found = backend.search(
            query, audiences(viewer), kinds=set(kinds) if kinds else None, limit=wanted
        )
    except Exception as exc:
        log.exception("search backend failed for a query of %d characters", len(query))
        raise SearchUnavailable from exc
    hits = found.hits[offset:wanted]
    results.total, results.facets = found.total, found.facets
    results.has_more = found.total > wanted and wanted < MAX_RESULTS
    loaded = load_objects(hits)
    for hit in hits:
        obj = loaded[hit.kind].get(hit.object_id)
        if obj is None or not can(viewer, "view", obj):
            # Gone, or no longer visible: the index has not caught up yet.  Counts must not
            # betray it either.
            results.total -= 1
            results.facets[hit.kind] = max(results.facets.get(hit.kind, 1) - 1, 0)
            continue
        results.items.append(_item(backend, query, hit.kind, obj, hit.score))
    return results


# -- loading in bulk ---------------------------------------------------------------------------


def load_objects(hits) -> dict[str, dict[int, object]]:
    """``{kind: {id: object}}`` for a page of hits, one query (two for communities) per kind."""
    ids: dict[str, list[int]] = defaultdict(list)
    for hit in hits:
        ids[hit.kind].append(hit.object_id)
    loaded: dict[str, dict[int, object]] = defaultdict(dict)
    for kind, object_ids in ids.items():
        loader = LOADERS.get(kind)
        if loader is not None:
            loaded[kind] = {obj.id: obj for obj in loader(object_ids)}
    return loaded


def _load_communities(ids: list[int]) -> list[Community]:
    return list(
        db.session.scalars(
            select(Community).where(Community.id.in_(ids)).options(selectinload(Community.topics))
        )
    )


def _load_posts(ids: list[int]) -> list[Post]:
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.id.in_(ids))
            .options(
                joinedload(Post.community), joinedload(Post.author).joinedload(User.organisation)
            )
        ).unique()
    )


def _load_users(ids: list[int]) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(ids))).unique())


LOADERS = {COMMUNITY: _load_communities, POST: _load_posts, USER: _load_users}


# -- presenting --------------------------------------------------------------------------------


def plain_text(html: str) -> str:
    """The text of sanitised HTML, for excerpts (tags dropped, entities decoded)."""
    return " ".join(unescape(nh3.clean(html, tags=set())).split())


def _item(backend, query: str, kind: str, obj, score: float) -> SearchItem:
    title, text, url = _describe(kind, obj)
    return SearchItem(
        kind=kind,
        obj=obj,
        url=url,
        title=backend.excerpt(query, title, length=len(title) + 1),
        excerpt=backend.excerpt(query, text, length=EXCERPT_LENGTH),
        score=score,
    )


def _describe(kind: str, obj) -> tuple[str, str, str]:
    """``(title, plain text, url)`` of a result."""
    if kind == COMMUNITY:
        topics = ", ".join(topic.name for topic in obj.topics)
        text = " — ".join(filter(None, [obj.description, topics]))
        return obj.name, text, url_for("community.show", slug=obj.slug)
    if kind == POST:
        return obj.title, plain_text(obj.body_html), url_for("posts.show", post_id=obj.id)
    organisation = obj.organisation.name if obj.organisation else ""
    text = " · ".join(filter(None, [obj.job_title, organisation]))
    return obj.display_name, text, url_for("users.profile", username=obj.username)
