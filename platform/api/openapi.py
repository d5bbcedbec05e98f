"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand next to the schemas it references; a test checks that every route of the
blueprint is described, with its methods.
"""

from __future__ import annotations

from flask import current_app, jsonify, request

from maillage.communities.organisations.models import OrganisationKind
from maillage.communities.search.kinds import SEARCH_KINDS
from maillage.platform.api import schemas
from maillage.platform.api.blueprint import blueprint

ERROR_STATUSES = {
    "400": "Invalid parameters or body; `fields` says what is wrong with each input.",
    "401": "Missing, invalid or revoked token.",
    "403": "The caller may see the community but not do this (e.g. read a private one).",
    "404": "Unknown — or secret and the caller is not a member (the two are identical).",
    "413": "The body exceeds the instance's size limit.",
    "415": "The body is not JSON.",
    "429": "Too many requests; retry later.",
    "503": "The search index is unavailable for the moment.",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: str) -> dict:
    return {status: {"$ref": f"#/components/responses/Error{status}"} for status in statuses}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _path(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


SLUG = _path("slug", {"type": "string"}, "The community's address, e.g. `acheteurs-publics`.")
POST_ID = _path("post_id", {"type": "integer"}, "The post's id.")
PAGE = _query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number.")
PER_PAGE = _query(
    "per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size."
)
READ_SECURITY = [{}, {"bearerAuth": []}, {"sessionCookie": []}]
WRITE_SECURITY = [{"bearerAuth": []}]


def _communities_paths() -> dict:
    kinds = [str(kind) for kind in OrganisationKind]
    return {
        "/communities": {
            "get": {
                "operationId": "listCommunities",
                "summary": "Communities the caller may see (secret ones only to their members).",
                "tags": ["communities"],
                "security": READ_SECURITY,
                "parameters": [
                    PAGE,
                    PER_PAGE,
                    _query("q", {"type": "string", "maxLength": 200}, "Words in the name."),
                    _query(
                        "kind",
                        {"type": "string", "enum": kinds},
                        "Only communities gathering members of this kind of organisation.",
                    ),
                    _query("topic", {"type": "string"}, "Only communities with this topic slug."),
                ],
                "responses": {
                    "200": _json(_ref("CommunityPage"), "One page of communities."),
                    **_errors("400", "401"),
                },
            }
        },
        "/communities/{slug}": {
            "get": {
                "operationId": "getCommunity",
                "summary": "One community, with the organisations it gathers.",
                "tags": ["communities"],
                "security": READ_SECURITY,
                "parameters": [SLUG],
                "responses": {
                    "200": _json(_ref("CommunityDetail"), "The community."),
                    **_errors("401", "404"),
                },
            }
        },
    }


def _create_post_operation() -> dict:
    return {
        "operationId": "createPost",
        "summary": "Publish a post in a community the token's owner is a member of.",
        "tags": ["posts"],
        "security": WRITE_SECURITY,
        "parameters": [SLUG],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("NewPost")}},
        },
        "responses": {
            "201": {
                **_json(_ref("Post"), "The post, as published."),
                "headers": {
                    "Location": {
                        "description": "The post's API address.",
                        "schema": {"type": "string", "format": "uri"},
                    }
                },
            },
            **_errors("400", "401", "403", "404", "413", "415", "429"),
        },
    }


def _posts_paths() -> dict:
    return {
        "/communities/{slug}/posts": {
            "get": {
                "operationId": "listCommunityPosts",
                "summary": "A community's posts, newest first, paginated by cursor.",
                "tags": ["posts"],
                "security": READ_SECURITY,
                "parameters": [
                    SLUG,
                    _query(
                        "after",
                        {"type": "string"},
                        "The `next_cursor` of the previous page.",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                        "Page size.",
                    ),
                ],
                "responses": {
                    "200": _json(_ref("PostPage"), "One page of posts."),
                    **_errors("400", "401", "403", "404"),
                },
            },
            "post": _create_post_operation(),
        },
        "/posts/{post_id}": {
            "get": {
                "operationId": "getPost",
                "summary": "One post.",
                "tags": ["posts"],
                "security": READ_SECURITY,
                "parameters": [POST_ID],
                "responses": {
                    "200": _json(_ref("Post"), "The post."),
                    **_errors("401", "403", "404"),
                },
            }
        },
    }


def _other_paths() -> dict:
    return {
        "/search": {
            "get": {
                "operationId": "search",
                "summary": "Search communities, posts and people the caller may see.",
                "description": "Every word must match, accents and word endings aside, in "
                "French or English; quote a phrase to find it as is.",
                "tags": ["search"],
                "security": READ_SECURITY,
                "parameters": [
                    _query(
                        "q",
                        {"type": "string", "minLength": 1, "maxLength": 200},
                        "Words.",
                        required=True,
                    ),
                    _query(
                        "type",
                        {"type": "string", "enum": sorted(SEARCH_KINDS)},
                        "Only results of this type.",
                    ),
                    PAGE,
                    PER_PAGE,
                ],
                "responses": {
                    "200": _json(_ref("SearchResults"), "Results, best first."),
                    **_errors("400", "401", "503"),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "tags": ["meta"],
                "security": [{}],
                "responses": {"200": {"description": "The OpenAPI 3.1 document."}},
            }
        },
    }


def document() -> dict:
    config = current_app.config
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{config['INSTANCE_NAME']} API",
            "version": "1.0.0",
            "description": (
                "Read communities, posts and search results as the caller may see them; publish "
                "posts with a personal token (`Authorization: Bearer mlg_…`, created from your "
                'account).  Errors are `{"error": {status, title, message, fields?}}`, in the '
                "language of `Accept-Language` (French by default)."
            ),
        },
        "servers": [{"url": request.host_url.rstrip("/") + blueprint.url_prefix}],
        "paths": {**_communities_paths(), **_posts_paths(), **_other_paths()},
        "components": {
            "schemas": schemas.SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (`mlg_…`); required for writes.",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": config.get("SESSION_COOKIE_NAME", "session"),
                    "description": "The web session; accepted for reads only.",
                },
            },
            "responses": {
                f"Error{status}": _json(_ref("Error"), description)
                for status, description in ERROR_STATUSES.items()
            },
        },
    }


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(document())
