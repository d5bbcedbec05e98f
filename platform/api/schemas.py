"""API (de)serialisation: what the JSON looks like, in code and as JSON Schema for OpenAPI.

The ``*_json`` functions write objects out; ``SCHEMAS`` describes the same shapes (the OpenAPI
document publishes them and the tests check responses against them); the ``parse_*`` functions
read and validate input, raising :class:`ApiError` with a message per field.
"""

from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from maillage.communities.community.models import Community, JoinPolicy, Visibility
from maillage.communities.organisations.models import OrganisationKind
from maillage.communities.posts.models import Post
from maillage.communities.users.models import User
from maillage.platform.api.errors import ApiError

TITLE_MAX = 200
QUERY_MAX = 200


def _time(value) -> str | None:
    return value.isoformat() if value is not None else None


# -- writing out -------------------------------------------------------------------------------


def community_json(community: Community) -> dict:
    return {
        "slug": community.slug,
        "name": community.name,
        "description": community.description,
        "visibility": community.visibility,
        "join_policy": community.join_policy,
        "member_count": community.member_count,
        "post_count": community.post_count,
        "topics": [{"slug": topic.slug, "name": topic.name} for topic in community.topics],
        "local": community.local,
        "created_at": _time(community.created_at),
        "url": url_for("community.show", slug=community.slug, _external=True),
        "api_url": url_for("api.community", slug=community.slug, _external=True),
    }


def community_detail_json(
    community: Community, mix: dict[str, int], role: str | None, permissions: dict[str, bool]
) -> dict:
    organisation = community.organisation
    return {
        **community_json(community),
        "organisation": (
            {"name": organisation.name, "kind": organisation.kind} if organisation else None
        ),
        "organisation_kinds": mix,
        "viewer": {"role": role, **permissions},
        "posts_url": url_for("api.community_posts", slug=community.slug, _external=True),
    }


def author_json(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "organisation": user.organisation.name if user.organisation else None,
        "url": url_for("users.profile", username=user.username, _external=True),
    }


def post_json(post: Post) -> dict:
    return {
        "id": post.id,
        "title": post.title,
        "body": post.body_source,
        "body_html": post.body_html,
        "comment_count": post.comment_count,
        "created_at": _time(post.created_at),
        "updated_at": _time(post.updated_at),
        "community": {
            "slug": post.community.slug,
            "name": post.community.name,
            "api_url": url_for("api.community", slug=post.community.slug, _external=True),
        },
        "author": author_json(post.author),
        "url": url_for("posts.show", post_id=post.id, _external=True),
        "api_url": url_for("api.post", post_id=post.id, _external=True),
    }


def search_item_json(item) -> dict:
    return {
        "type": item.kind,
        "id": item.obj.id,
        "title": str(item.title.striptags()),
        "excerpt": str(item.excerpt.striptags()),
        "excerpt_html": str(item.excerpt),
        "url": item.url if "://" in item.url else request.host_url.rstrip("/") + item.url,
        "score": round(item.score, 4),
    }


# -- reading in --------------------------------------------------------------------------------


def int_param(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    message = _l("Un entier entre %(min)d et %(max)d est attendu.", min=minimum, max=maximum)
    if not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise ApiError(400, _l("Paramètre « %(name)s » invalide.", name=name), {name: message})
    return int(raw)


def choice_param(name: str, choices) -> str:
    raw = request.args.get(name, "").strip()
    if raw and raw not in set(choices):
        raise ApiError(
            400,
            _l("Paramètre « %(name)s » invalide.", name=name),
            {name: _l("Valeurs possibles : %(values)s.", values=", ".join(choices))},
        )
    return raw


def text_param(name: str, maximum: int = QUERY_MAX, required: bool = False) -> str:
    raw = " ".join(request.args.get(name, "").split())
    if required and not raw:
        raise ApiError(
            400,
            _l("Paramètre « %(name)s » manquant.", name=name),
            {name: _l("Ce paramètre est obligatoire.")},
        )
    if len(raw) > maximum:
        raise ApiError(
            400,
            _l("Paramètre « %(name)s » trop long.", name=name),
            {name: _l("%(n)d caractères au plus.", n=maximum)},
        )
    return raw


def json_body() -> dict:
    """The request's JSON object (415 if it is not JSON, 400 if it does not parse)."""
    if not request.is_json:
        raise ApiError(
            415, _l("Envoyez le corps en JSON (en-tête « Content-Type: application/json »).")
        )
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, _l("Le corps de la requête doit être un objet JSON valide."))
    return data


def _string_field(data: dict, name: str, maximum: int, required: bool) -> tuple[str, str | None]:
    value = data.get(name)
    if value is None:
        return "", (_l("Ce champ est obligatoire.") if required else None)
    if not isinstance(value, str):
        return "", _l("Une chaîne de caractères est attendue.")
    if required and not value.strip():
        return "", _l("Ce champ ne peut pas être vide.")
    if len(value) > maximum:
        return "", _l("%(n)d caractères au plus.", n=maximum)
    return value, None


def parse_new_post(data: dict) -> tuple[str, str]:
    """``(title, body)`` of a new post, or an ApiError listing every invalid field."""
    errors = {name: _l("Champ inconnu.") for name in data if name not in {"title", "body"}}
    title, problem = _string_field(data, "title", TITLE_MAX, required=True)
    if problem:
        errors["title"] = problem
    body_max = current_app.config["MAX_MARKDOWN_LENGTH"]
    body, problem = _string_field(data, "body", body_max, required=False)
    if problem:
        errors["body"] = problem
    if errors:
        raise ApiError(400, _l("La publication n'est pas valide."), errors)
    return title, body


# -- JSON Schema (OpenAPI 3.1 components) ------------------------------------------------------

_DATE_TIME = {"type": "string", "format": "date-time"}
_URL = {"type": "string", "format": "uri"}
_TOPIC = {
    "type": "object",
    "required": ["slug", "name"],
    "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
}

SCHEMAS: dict[str, dict] = {
    "Community": {
        "type": "object",
        "required": [
            "slug",
            "name",
            "description",
            "visibility",
            "join_policy",
            "member_count",
            "post_count",
            "topics",
            "local",
            "created_at",
            "url",
            "api_url",
        ],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "visibility": {"type": "string", "enum": [str(v) for v in Visibility]},
            "join_policy": {"type": "string", "enum": [str(v) for v in JoinPolicy]},
            "member_count": {"type": "integer", "minimum": 0},
            "post_count": {"type": "integer", "minimum": 0},
            "topics": {"type": "array", "items": _TOPIC},
            "local": {"type": "boolean"},
            "created_at": _DATE_TIME,
            "url": {**_URL, "description": "The community's web page."},
            "api_url": _URL,
        },
    },
    "CommunityDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Community"},
            {
                "type": "object",
                "required": ["organisation", "organisation_kinds", "viewer", "posts_url"],
                "properties": {
                    "organisation": {
                        "type": ["object", "null"],
                        "required": ["name", "kind"],
                        "properties": {
                            "name": {"type": "string"},
                            "kind": {"type": "string", "enum": [str(k) for k in OrganisationKind]},
                        },
                    },
                    "organisation_kinds": {
                        "type": "object",
                        "description": "Members per kind of organisation: the mix it gathers.",
                        "additionalProperties": {"type": "integer"},
                    },
                    "viewer": {
                        "type": "object",
                        "required": ["role", "read", "post"],
                        "properties": {
                            "role": {"type": ["string", "null"]},
                            "read": {"type": "boolean"},
                            "post": {"type": "boolean"},
                        },
                    },
                    "posts_url": _URL,
                },
            },
        ]
    },
    "CommunityPage": {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "next", "previous"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Community"}},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "next": {"type": ["string", "null"], "format": "uri"},
            "previous": {"type": ["string", "null"], "format": "uri"},
        },
    },
    "Author": {
        "type": "object",
        "required": ["username", "display_name", "organisation", "url"],
        "properties": {
            "username": {"type": "string"},
            "display_name": {"type": "string"},
            "organisation": {"type": ["string", "null"]},
            "url": _URL,
        },
    },
    "Post": {
        "type": "object",
        "required": [
            "id",
            "title",
            "body",
            "body_html",
            "comment_count",
            "created_at",
            "updated_at",
            "community",
            "author",
            "url",
            "api_url",
        ],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "body": {"type": "string", "description": "Markdown source."},
            "body_html": {"type": "string", "description": "Rendered and sanitised HTML."},
            "comment_count": {"type": "integer", "minimum": 0},
            "created_at": _DATE_TIME,
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "community": {
                "type": "object",
                "required": ["slug", "name", "api_url"],
                "properties": {
                    "slug": {"type": "string"},
                    "name": {"type": "string"},
                    "api_url": _URL,
                },
            },
            "author": {"$ref": "#/components/schemas/Author"},
            "url": _URL,
            "api_url": _URL,
        },
    },
    "PostPage": {
        "type": "object",
        "required": ["items", "next_cursor", "next"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Post"}},
            "next_cursor": {"type": ["string", "null"]},
            "next": {"type": ["string", "null"], "format": "uri"},
        },
    },
    "NewPost": {
        "type": "object",
        "required": ["title"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
            "body": {"type": "string", "description": "Markdown.", "default": ""},
        },
    },
    "SearchItem": {
        "type": "object",
        "required": ["type", "id", "title", "excerpt", "excerpt_html", "url", "score"],
        "properties": {
            "type": {"type": "string", "enum": ["community", "post", "user"]},
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "excerpt": {"type": "string"},
            "excerpt_html": {
                "type": "string",
                "description": "Escaped HTML; the matched words are in <mark>.",
            },
            "url": _URL,
            "score": {"type": "number"},
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["query", "total", "facets", "items", "page", "per_page", "next"],
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "facets": {
                "type": "object",
                "description": "Matches per type, whatever the type filter.",
                "additionalProperties": {"type": "integer"},
            },
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/SearchItem"}},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "next": {"type": ["string", "null"], "format": "uri"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "title", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "title": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "description": "What is wrong with each invalid input field.",
                        "additionalProperties": {"type": "string"},
                    },
                },
            }
        },
    },
}
