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

from markupsafe import Markup
from sqlalchemy import select

from maillage.communities.community.models import Community
from maillage.communities.permissions import can, content_community_ids
from maillage.communities.search.kinds import SEARCH_KINDS, Presentation
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.search.backend import PUBLIC, community_audience, get_backend

log = logging.getLogger(__name__)

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
    presentation: Presentation | None = None


@dataclass
class SearchResults:
    query: str
    kinds: frozenset[str] | None
    items: list[SearchItem] = field(default_factory=list)
    total: int = 0
    facets: dict[str, int] = field(default_factory=dict)
    #: ``[(community, count)]`` for the communities the viewer may see, most matches first
    communities: list[tuple[Community, int]] = field(default_factory=list)
    community: Community | None = None
    has_more: bool = False


def viewer_of(user) -> User | None:
    """The signed-in, active user, or None for anonymous visitors (Flask-Login's included)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user


def audiences(viewer: User | None) -> set[str] | None:
    """What the viewer may find: public documents and those of the communities whose content the
    policy lets them read (memberships; an administrator's running access grants)."""
    if viewer is None:
        return {PUBLIC}
    return {PUBLIC} | {
        community_audience(community_id) for community_id in content_community_ids(viewer)
    }


def search(
    viewer,
    q: str,
    kinds: set[str] | frozenset[str] | None = None,
    limit: int = 20,
    offset: int = 0,
    community: Community | None = None,
) -> SearchResults:
    """Results ``offset`` to ``offset + limit`` of ``q`` that ``viewer`` may see (in
    ``community`` only, when given: the caller checked the viewer may read it)."""
    viewer = viewer_of(viewer)
    query = " ".join(q.split())
    kinds = frozenset(kinds) & frozenset(SEARCH_KINDS) if kinds else None
    results = SearchResults(query=query, kinds=kinds or None, community=community)
    if not query:
        return results
    wanted = min(offset + limit, MAX_RESULTS)
    backend = get_backend()
    try:
        found = backend.search(
            query,
            audiences(viewer),
            kinds=set(kinds) if kinds else None,
            limit=wanted,
            community_id=community.id if community is not None else None,
        )
    except Exception as exc:
        log.exception("search backend failed for a query of %d characters", len(query))
        raise SearchUnavailable from exc
    hits = found.hits[offset:wanted]
    results.total, results.facets = found.total, found.facets
    results.has_more = found.total > wanted and wanted < MAX_RESULTS
    results.communities = _community_facets(viewer, found.community_facets)
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


#: Communities offered as facets, at most.
COMMUNITY_FACETS = 10


def _community_facets(viewer, counts: dict[int, int]) -> list[tuple[Community, int]]:
    """The communities with the most matches that ``viewer`` may see, with their counts."""
    if not counts:
        return []
    communities = db.session.scalars(select(Community).where(Community.id.in_(list(counts))))
    visible = [
        (community, counts[community.id])
        for community in communities
        if can(viewer, "view", community)
    ]
    visible.sort(key=lambda pair: (-pair[1], pair[0].name))
    return visible[:COMMUNITY_FACETS]


# -- loading in bulk ---------------------------------------------------------------------------


def load_objects(hits) -> dict[str, dict[int, object]]:
    """``{kind: {id: object}}`` for a page of hits, one query (two for communities) per kind."""
    ids: dict[str, list[int]] = defaultdict(list)
    for hit in hits:
        ids[hit.kind].append(hit.object_id)
    loaded: dict[str, dict[int, object]] = defaultdict(dict)
    for kind, object_ids in ids.items():
        registered = SEARCH_KINDS.get(kind)
        if registered is not None:
            loaded[kind] = {obj.id: obj for obj in registered.load(object_ids)}
    return loaded


# -- presenting --------------------------------------------------------------------------------


def _item(backend, query: str, kind: str, obj, score: float) -> SearchItem:
    shown = SEARCH_KINDS[kind].present(obj)
    return SearchItem(
        kind=kind,
        obj=obj,
        url=shown.url,
        title=backend.excerpt(query, shown.title, length=len(shown.title) + 1),
        excerpt=backend.excerpt(query, shown.text, length=EXCERPT_LENGTH),
        score=score,
        presentation=shown,
    )
