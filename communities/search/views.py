"""``/search``: one box for everything the viewer may read, filtered by the permission policy;
facets by kind and by community."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from maillage.communities.community.models import Community
from maillage.communities.permissions import can
from maillage.communities.search import queries
from maillage.communities.search.blueprint import blueprint
from maillage.communities.search.kinds import SEARCH_KINDS
from maillage.platform.extensions import db

PER_PAGE = 20
MAX_PAGE = queries.MAX_RESULTS // PER_PAGE


def _page() -> int:
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() else 1
    return min(max(page, 1), MAX_PAGE)


def _kind_labels() -> dict[str, tuple]:
    return {kind: (found.singular, found.plural) for kind, found in SEARCH_KINDS.items()}


def _community_filter() -> Community | None:
    """The community named by ``?community=<slug>``; 404 when the viewer may not read it
    (a secret community is never confirmed to exist)."""
    slug = request.args.get("community", "")
    if not slug:
        return None
    community = db.session.scalar(select(Community).where(Community.slug == slug))
    if community is None or not can(current_user, "read", community):
        abort(404)
    return community


def _link(q: str, kind: str = "", community: Community | None = None, **extra) -> str:
    return url_for(
        ".search", q=q, type=kind or None, community=community.slug if community else None, **extra
    )


def _facet_links(q: str, active: str, results: queries.SearchResults | None) -> list[dict]:
    facets = results.facets if results else {}
    community = results.community if results else None
    links = [
        {
            "label": _l("Tout"),
            "count": sum(facets.values()),
            "url": _link(q, community=community),
            "current": not active,
        }
    ]
    links.extend(
        {
            "label": found.plural,
            "count": facets.get(kind, 0),
            "url": _link(q, kind, community),
            "current": active == kind,
        }
        for kind, found in SEARCH_KINDS.items()
        if facets.get(kind, 0) or active == kind
    )
    return links


def _community_links(q: str, kind: str, results: queries.SearchResults | None) -> list[dict]:
    if results is None:
        return []
    current = results.community
    links = [
        {
            "label": community.name,
            "count": count,
            "url": _link(q, kind, community),
            "current": current is not None and current.id == community.id,
        }
        for community, count in results.communities
    ]
    if current is not None and not any(link["current"] for link in links):
        links.insert(0, {"label": current.name, "count": None, "url": "", "current": True})
    return links


def _pages(q: str, kind: str, page: int, results: queries.SearchResults | None) -> dict:
    community = results.community if results else None

    def at(number: int) -> str:
        return _link(q, kind, community, page=number)

    has_next = results is not None and results.has_more and page < MAX_PAGE
    return {
        "previous": at(page - 1) if page > 1 and results is not None else None,
        "next": at(page + 1) if has_next else None,
    }


def _render(q: str, kind: str, page: int, results=None, error=None, invalid=False, status=200):
    return render_template(
        "search/search.html",
        q=q,
        kind=kind,
        page=page,
        per_page=PER_PAGE,
        labels=_kind_labels(),
        results=results,
        error=error,
        invalid=invalid,
        facets=_facet_links(q, kind, results) if results is not None else [],
        community_facets=_community_links(q, kind, results),
        pages=_pages(q, kind, page, results),
    ), status


@blueprint.get("/search")
def search():
    q = " ".join(request.args.get("q", "").split())
    kind = request.args.get("type", "")
    kind = kind if kind in SEARCH_KINDS else ""
    community = _community_filter()
    page = _page()
    if len(q) > queries.MAX_QUERY_LENGTH:
        error = _l(
            "La recherche est trop longue : %(n)d caractères au plus (vous en avez saisi %(m)d).",
            n=queries.MAX_QUERY_LENGTH,
            m=len(q),
        )
        return _render(q, kind, page, error=error, invalid=True, status=400)
    if not q:
        return _render(q, kind, page)
    try:
        results = queries.search(
            current_user,
            q,
            {kind} if kind else None,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
            community=community,
        )
    except queries.SearchUnavailable:
        error = _l("La recherche est momentanément indisponible. Réessayez dans un instant.")
        return _render(q, kind, page, error=error, status=503)
    return _render(q, kind, page, results)
