"""The JSON API, ``/api/v1``: thin handlers over the same queries, policy and operations as the
web pages.  Secret communities (and their posts) are 404 to non-members, identical to unknown
ones; private communities are listed but their posts are 403 to non-members."""

from __future__ import annotations

from flask import current_app, jsonify, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from maillage.communities.community import queries as community_queries
from maillage.communities.community.models import Community
from maillage.communities.organisations.models import OrganisationKind
from maillage.communities.permissions import can, roles_of
from maillage.communities.posts.models import Post
from maillage.communities.posts.operations import create_post
from maillage.communities.posts.queries import community_posts as posts_of
from maillage.communities.posts.queries import decode_cursor
from maillage.communities.search import queries as search_queries
from maillage.communities.search.kinds import SEARCH_KINDS
from maillage.communities.users.models import User
from maillage.platform.api import schemas
from maillage.platform.api.auth import api_viewer, token_required
from maillage.platform.api.blueprint import blueprint
from maillage.platform.api.errors import ApiError
from maillage.platform.errors import OperationError
from maillage.platform.extensions import csrf, db, limiter

MAX_PER_PAGE = 100
MAX_PAGE = 10_000


def _not_found() -> ApiError:
    return ApiError(404, _l("La page demandée n'existe pas ou n'est pas accessible."))


def _visible_community(slug: str) -> Community:
    community = community_queries.community_by_slug(slug)
    if community is None or not can(api_viewer(), "view", community):
        raise _not_found()
    return community


def _readable(community: Community) -> None:
    if not can(api_viewer(), "read", community):
        raise ApiError(403, _l("Le contenu de cette communauté est réservé à ses membres."))


def _page_url(endpoint: str, **args) -> str:
    return url_for(endpoint, _external=True, **{k: v for k, v in args.items() if v})


# -- communities -------------------------------------------------------------------------------


@blueprint.get("/communities")
def communities():
    page = schemas.int_param("page", 1, 1, MAX_PAGE)
    per_page = schemas.int_param("per_page", 20, 1, MAX_PER_PAGE)
    filters = {
        "query": schemas.text_param("q"),
        "kind": schemas.choice_param("kind", [str(kind) for kind in OrganisationKind]),
        "topic": schemas.text_param("topic", maximum=64),
    }
    items, total = community_queries.directory(
        api_viewer(), page=page, per_page=per_page, **filters
    )
    args = {"q": filters["query"], "kind": filters["kind"], "topic": filters["topic"]}
    return jsonify(
        items=[schemas.community_json(community) for community in items],
        page=page,
        per_page=per_page,
        total=total,
        next=(
            _page_url(".communities", page=page + 1, per_page=per_page, **args)
            if page * per_page < total
            else None
        ),
        previous=(
            _page_url(".communities", page=page - 1, per_page=per_page, **args)
            if page > 1
            else None
        ),
    )


@blueprint.get("/communities/<slug>")
def community(slug: str):
    viewer = api_viewer()
    found = _visible_community(slug)
    permissions = {"read": can(viewer, "read", found), "post": can(viewer, "post", found)}
    return jsonify(
        schemas.community_detail_json(
            found,
            community_queries.organisation_mix([found.id]).get(found.id, {}),
            roles_of(viewer).get(found.id),
            permissions,
        )
    )


# -- posts -------------------------------------------------------------------------------------


@blueprint.get("/communities/<slug>/posts")
def community_posts(slug: str):
    found = _visible_community(slug)
    _readable(found)
    limit = schemas.int_param("limit", 20, 1, MAX_PER_PAGE)
    after = schemas.text_param("after", maximum=200)
    if after and decode_cursor(after) is None:
        raise ApiError(
            400,
            _l("Paramètre « %(name)s » invalide.", name="after"),
            {"after": _l("Utilisez la valeur « next_cursor » d'une page précédente.")},
        )
    page = posts_of(found, cursor=after or None, limit=limit)
    return jsonify(
        items=[schemas.post_json(post) for post in page.items],
        next_cursor=page.next_cursor,
        next=(
            _page_url(".community_posts", slug=slug, after=page.next_cursor, limit=limit)
            if page.next_cursor
            else None
        ),
    )


def _write_limit() -> str:
    return current_app.config.get("RATELIMIT_API_WRITE", "60 per minute")


@blueprint.post("/communities/<slug>/posts")
@csrf.exempt  # authenticated by the bearer token only; no cookie can make this request count
@limiter.limit(_write_limit)
@token_required
def create_community_post(slug: str, user: User):
    found = community_queries.community_by_slug(slug)
    if found is None or not can(user, "view", found):
        raise _not_found()
    if not can(user, "post", found):
        raise ApiError(403, _l("Seuls les membres peuvent publier dans cette communauté."))
    title, body = schemas.parse_new_post(schemas.json_body())
    try:
        post = create_post(found, user, title, body)
    except OperationError as exc:
        db.session.rollback()
        raise ApiError(exc.status, str(exc)) from exc
    db.session.commit()
    response = jsonify(schemas.post_json(post))
    response.status_code = 201
    response.headers["Location"] = url_for(".post", post_id=post.id, _external=True)
    return response


@blueprint.get("/posts/<int:post_id>")
def post(post_id: int):
    found = db.session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.community), joinedload(Post.author).joinedload(User.organisation))
    )
    viewer = api_viewer()
    if found is None or not can(viewer, "view", found.community):
        raise _not_found()
    if not can(viewer, "view", found):
        raise ApiError(403, _l("Le contenu de cette communauté est réservé à ses membres."))
    return jsonify(schemas.post_json(found))


# -- search ------------------------------------------------------------------------------------


@blueprint.get("/search")
def search():
    q = schemas.text_param("q", maximum=search_queries.MAX_QUERY_LENGTH, required=True)
    kind = schemas.choice_param("type", sorted(SEARCH_KINDS))
    per_page = schemas.int_param("per_page", 20, 1, MAX_PER_PAGE)
    page = schemas.int_param("page", 1, 1, search_queries.MAX_RESULTS // per_page)
    try:
        results = search_queries.search(
            api_viewer(), q, {kind} if kind else None, limit=per_page, offset=(page - 1) * per_page
        )
    except search_queries.SearchUnavailable as exc:
        raise ApiError(
            503, _l("La recherche est momentanément indisponible. Réessayez dans un instant.")
        ) from exc
    return jsonify(
        query=results.query,
        total=results.total,
        facets=results.facets,
        items=[schemas.search_item_json(item) for item in results.items],
        page=page,
        per_page=per_page,
        next=(
            _page_url(".search", q=q, type=kind, page=page + 1, per_page=per_page)
            if results.has_more
            else None
        ),
    )
