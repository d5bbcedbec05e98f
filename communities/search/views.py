"""``/search``: one box for communities, posts and people, filtered by the permission policy."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from maillage.communities.search import queries
from maillage.communities.search.blueprint import blueprint

PER_PAGE = 20
MAX_PAGE = queries.MAX_RESULTS // PER_PAGE

KIND_LABELS = {
    queries.COMMUNITY: (_l("Communauté"), _l("Communautés")),
    queries.POST: (_l("Publication"), _l("Publications")),
    queries.USER: (_l("Personne"), _l("Personnes")),
}


def _page() -> int:
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() else 1
    return min(max(page, 1), MAX_PAGE)


def _facet_links(q: str, active: str, results: queries.SearchResults | None) -> list[dict]:
    facets = results.facets if results else {}
    links = [
        {
            "label": _l("Tout"),
            "count": sum(facets.values()),
            "url": url_for(".search", q=q),
            "current": not active,
        }
    ]
    links.extend(
        {
            "label": KIND_LABELS[kind][1],
            "count": facets.get(kind, 0),
            "url": url_for(".search", q=q, type=kind),
            "current": active == kind,
        }
        for kind in queries.KINDS
    )
    return links


def _pages(q: str, kind: str, page: int, results: queries.SearchResults | None) -> dict:
    def at(number: int) -> str:
        return url_for(".search", q=q, type=kind or None, page=number)

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
        labels=KIND_LABELS,
        results=results,
        error=error,
        invalid=invalid,
        facets=_facet_links(q, kind, results) if results is not None else [],
        pages=_pages(q, kind, page, results),
    ), status


@blueprint.get("/search")
def search():
    q = " ".join(request.args.get("q", "").split())
    kind = request.args.get("type", "")
    kind = kind if kind in queries.KINDS else ""
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
            current_user, q, {kind} if kind else None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
    except queries.SearchUnavailable:
        error = _l("La recherche est momentanément indisponible. Réessayez dans un instant.")
        return _render(q, kind, page, error=error, status=503)
    return _render(q, kind, page, results)
