"""The JSON API over HTTP: what each caller may see, token-only writes, error shapes, pagination
bounds, query counts, and an OpenAPI document that matches the routes and the responses."""

from __future__ import annotations

import re

import pytest

from maillage.auth.tokens.operations import create_token, revoke_token
from maillage.communities.community.models import Membership
from maillage.communities.community.operations import create_topic
from maillage.platform.extensions import db
from tests.conftest import login

# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def visit(client):
    """``visit(user)`` signs the client's session in as ``user`` (``None``: anonymous)."""

    def as_(user):
        login(client, user)
        return client

    return as_


@pytest.fixture
def token_for(app):
    def make(user) -> dict:
        _token, secret = create_token(user, "Tests")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


def owner_of(community):
    membership = db.session.scalar(
        db.select(Membership).where(
            Membership.community_id == community.id, Membership.role == "owner"
        )
    )
    return membership.user


@pytest.fixture
def world(create_user, create_community, create_post):
    """A public, a private and a secret community with a post each; ``member`` is in all."""
    member, outsider = create_user("membre"), create_user("dehors")
    public = create_community("Achats publics", slug="achats", members=[member])
    private = create_community(
        "Entre pairs", slug="pairs", visibility="private", join_policy="request", members=[member]
    )
    secret = create_community(
        "Cellule", slug="cellule", visibility="secret", join_policy="invite", members=[member]
    )
    # Secret communities get an unguessable suffix on their slug: key the posts by a label.
    posts = {
        label: create_post(community, owner_of(community), f"Note {label}")
        for label, community in (("achats", public), ("pairs", private), ("cellule", secret))
    }
    return {
        "member": member,
        "outsider": outsider,
        "posts": posts,
        "public": public,
        "private": private,
        "secret": secret,
    }


# -- a small JSON Schema checker (the subset the OpenAPI document uses) -------------------------


PYTHON_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _has_type(value, name: str) -> bool:
    if isinstance(value, bool) and name in {"integer", "number"}:
        return False
    return isinstance(value, PYTHON_TYPES[name])


def check(value, schema: dict, components: dict, path: str = "$") -> None:
    if "$ref" in schema:
        check(value, components[schema["$ref"].rsplit("/", 1)[1]], components, path)
        return
    for part in schema.get("allOf", []):
        check(value, part, components, path)
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        assert any(_has_type(value, name) for name in types), f"{path}: {value!r} not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    if isinstance(value, dict):
        _check_object(value, schema, components, path)
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            check(item, schema["items"], components, f"{path}[{index}]")


def _check_object(value: dict, schema: dict, components: dict, path: str) -> None:
    for name in schema.get("required", []):
        assert name in value, f"{path}: missing {name}"
    for name, item in value.items():
        if name in schema.get("properties", {}):
            check(item, schema["properties"][name], components, f"{path}.{name}")
        elif isinstance(schema.get("additionalProperties"), dict):
            check(item, schema["additionalProperties"], components, f"{path}.{name}")


@pytest.fixture
def conforms(client):
    components = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]

    def validate(value, name: str) -> None:
        check(value, {"$ref": f"#/components/schemas/{name}"}, components)

    return validate


def assert_error(response, status: int, **fields_expected):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == status
    assert error["title"]
    assert error["message"]
    for name, fragment in fields_expected.items():
        assert fragment in error["fields"][name], error
    return error


# -- communities -------------------------------------------------------------------------------


def test_listing_shows_what_each_caller_may_see(visit, world, token_for, conforms):
    response = visit(None).get("/api/v1/communities")
    assert response.status_code == 200
    body = response.get_json()
    conforms(body, "CommunityPage")
    assert {item["slug"] for item in body["items"]} == {"achats", "pairs"}
    assert body["total"] == 2
    achats = next(item for item in body["items"] if item["slug"] == "achats")
    assert achats["url"] == "http://localhost/c/achats"
    assert achats["member_count"] == 2
    assert achats["visibility"] == "public"

    by_token = visit(None).get("/api/v1/communities", headers=token_for(world["member"]))
    assert {item["slug"] for item in by_token.get_json()["items"]} == {
        "achats",
        "pairs",
        world["secret"].slug,
    }
    by_session = visit(world["member"]).get("/api/v1/communities")
    assert by_session.get_json()["total"] == 3
    outsider = visit(world["outsider"]).get("/api/v1/communities")
    assert outsider.get_json()["total"] == 2


def test_listing_pages_are_bounded(client, create_community, visit):
    for number in range(5):
        create_community(f"Réseau {number}")
    body = client.get("/api/v1/communities?per_page=2").get_json()
    assert len(body["items"]) == 2
    assert body["total"] == 5
    assert body["previous"] is None
    assert "page=2" in body["next"]
    assert "per_page=2" in body["next"]
    last = client.get("/api/v1/communities?per_page=2&page=3").get_json()
    assert len(last["items"]) == 1
    assert last["next"] is None
    assert "page=2" in last["previous"]
    assert client.get("/api/v1/communities?per_page=100").status_code == 200
    assert_error(client.get("/api/v1/communities?per_page=101"), 400, per_page="entre 1 et 100")
    assert_error(client.get("/api/v1/communities?per_page=0"), 400, per_page="entier")
    assert_error(client.get("/api/v1/communities?page=abc"), 400, page="entier")
    assert_error(client.get("/api/v1/communities?kind=ministere"), 400, kind="state_service")


def test_listing_filters_by_kind_and_topic(
    client, create_user, create_organisation, create_community
):
    mairie = create_user(organisation=create_organisation("Mairie", kind="local_authority"))
    topic = create_topic("Numérique", slug="numerique")
    db.session.commit()
    local = create_community("Élus locaux", owner=mairie)
    local.topics = [topic]
    db.session.commit()
    create_community("Services de l'État")
    by_kind = client.get("/api/v1/communities?kind=local_authority").get_json()
    assert [item["slug"] for item in by_kind["items"]] == ["elus-locaux"]
    by_topic = client.get("/api/v1/communities?topic=numerique").get_json()
    assert [item["slug"] for item in by_topic["items"]] == ["elus-locaux"]
    assert by_topic["items"][0]["topics"] == [{"slug": "numerique", "name": "Numérique"}]


def test_listing_costs_a_fixed_number_of_queries(
    visit, create_user, create_community, count_queries
):
    member = create_user()
    for number in range(3):
        create_community(f"Petit {number}", members=[member])
    client = visit(member)
    with count_queries() as few:
        assert len(client.get("/api/v1/communities").get_json()["items"]) == 3
    for number in range(12):
        create_community(f"Grand {number}", visibility="secret", members=[member])
    visit(member)
    with count_queries() as many:
        assert len(client.get("/api/v1/communities").get_json()["items"]) == 15
    assert len(many) == len(few)
    assert len(many) <= 6


def test_community_detail(visit, world, token_for, conforms):
    response = visit(None).get("/api/v1/communities/achats")
    assert response.status_code == 200
    body = response.get_json()
    conforms(body, "CommunityDetail")
    assert body["viewer"] == {"role": None, "read": True, "post": False}
    assert body["organisation_kinds"] == {"state_service": 2}
    member_view = visit(None).get(
        f"/api/v1/communities/{world['secret'].slug}", headers=token_for(world["member"])
    )
    assert member_view.get_json()["viewer"] == {"role": "member", "read": True, "post": True}


def test_a_secret_community_is_exactly_as_unknown_to_outsiders(visit, world, token_for):
    for client_headers in ({}, token_for(world["outsider"])):
        secret = visit(None).get(
            f"/api/v1/communities/{world['secret'].slug}", headers=client_headers
        )
        unknown = visit(None).get("/api/v1/communities/nulle-part", headers=client_headers)
        assert_error(secret, 404)
        assert secret.get_json() == unknown.get_json()
        assert secret.headers.get("Content-Length") == unknown.headers.get("Content-Length")
        posts = visit(None).get(
            f"/api/v1/communities/{world['secret'].slug}/posts", headers=client_headers
        )
        assert posts.get_json() == unknown.get_json()


# -- posts -------------------------------------------------------------------------------------


def test_reading_posts_by_community(visit, world, token_for, conforms):
    public = visit(None).get("/api/v1/communities/achats/posts")
    assert public.status_code == 200
    conforms(public.get_json(), "PostPage")
    [item] = public.get_json()["items"]
    assert item["title"] == "Note achats"
    assert item["body"] == "Du **texte**."
    assert item["body_html"] == "<p>Du <strong>texte</strong>.</p>\n"
    assert item["author"]["username"] == owner_of(world["public"]).username
    assert_error(visit(None).get("/api/v1/communities/pairs/posts"), 403)
    assert_error(visit(world["outsider"]).get("/api/v1/communities/pairs/posts"), 403)
    assert visit(world["member"]).get("/api/v1/communities/pairs/posts").status_code == 200
    by_token = visit(None).get(
        f"/api/v1/communities/{world['secret'].slug}/posts", headers=token_for(world["member"])
    )
    assert [item["title"] for item in by_token.get_json()["items"]] == ["Note cellule"]


def test_posts_are_paged_by_cursor(client, create_community, create_post):
    community = create_community("Fil", slug="fil")
    for number in range(5):
        create_post(community, owner_of(community), f"Message {number}")
    seen, url = [], "/api/v1/communities/fil/posts?limit=2"
    while url:
        body = client.get(url).get_json()
        assert len(body["items"]) <= 2
        seen += [item["title"] for item in body["items"]]
        url = body["next"]
        if url:
            assert body["next_cursor"] in url
    assert seen == [f"Message {number}" for number in reversed(range(5))]
    assert_error(
        client.get("/api/v1/communities/fil/posts?after=nimportequoi"), 400, after="next_cursor"
    )
    assert_error(client.get("/api/v1/communities/fil/posts?limit=500"), 400, limit="100")


def test_one_post(visit, world, token_for, conforms):
    posts = world["posts"]
    response = visit(None).get(f"/api/v1/posts/{posts['achats'].id}")
    assert response.status_code == 200
    conforms(response.get_json(), "Post")
    assert response.get_json()["url"] == f"http://localhost/post/{posts['achats'].id}"
    assert_error(visit(None).get(f"/api/v1/posts/{posts['pairs'].id}"), 403)
    secret = visit(None).get(f"/api/v1/posts/{posts['cellule'].id}")
    assert secret.get_json() == visit(None).get("/api/v1/posts/999999").get_json()
    assert_error(secret, 404)
    member = visit(None).get(
        f"/api/v1/posts/{posts['cellule'].id}", headers=token_for(world["member"])
    )
    assert member.status_code == 200


# -- writing -----------------------------------------------------------------------------------


def test_publishing_with_a_token(client, world, token_for, conforms):
    headers = token_for(world["member"])
    response = client.post(
        f"/api/v1/communities/{world['secret'].slug}/posts",
        json={"title": "  Compte rendu  ", "body": "Décisions du *comité*."},
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    conforms(created, "Post")
    assert created["title"] == "Compte rendu"
    assert created["body_html"] == "<p>Décisions du <em>comité</em>.</p>\n"
    assert created["author"]["username"] == "membre"
    assert response.headers["Location"] == created["api_url"]
    assert "Set-Cookie" not in response.headers  # token calls stay stateless
    assert client.get(response.headers["Location"], headers=headers).get_json() == created
    # published through the same operation: counted, and searchable by members only
    assert (
        client.get(f"/api/v1/communities/{world['secret'].slug}", headers=headers).get_json()[
            "post_count"
        ]
        == 2
    )
    found = client.get("/api/v1/search?q=comité", headers=headers).get_json()
    assert [item["title"] for item in found["items"]] == ["Compte rendu"]
    assert client.get("/api/v1/search?q=comité").get_json()["items"] == []


def test_writes_need_a_valid_token(visit, world, token_for):
    client = visit(world["member"])  # a session cookie is not enough to write
    no_token = client.post("/api/v1/communities/achats/posts", json={"title": "Salut"})
    assert_error(no_token, 401)
    assert no_token.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.post(
        "/api/v1/communities/achats/posts",
        json={"title": "Salut"},
        headers={"Authorization": "Bearer mlg_faux"},
    )
    assert_error(bad, 401)
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    assert_error(client.get("/api/v1/communities", headers={"Authorization": "Basic abc"}), 401)
    assert_error(
        client.get("/api/v1/communities", headers={"Authorization": "Bearer mlg_x"}), 401
    )  # a bad token on a read is refused too, never read as anonymous


def test_a_revoked_token_is_refused_at_once(client, world):
    token, secret = create_token(world["member"], "Éphémère")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert (
        client.get(f"/api/v1/communities/{world['secret'].slug}", headers=headers).status_code
        == 200
    )
    revoke_token(token, world["member"])
    db.session.commit()
    assert_error(client.get(f"/api/v1/communities/{world['secret'].slug}", headers=headers), 401)


def test_publishing_is_for_members(client, world, token_for):
    headers = token_for(world["outsider"])
    assert_error(
        client.post("/api/v1/communities/achats/posts", json={"title": "Hé"}, headers=headers), 403
    )
    secret = client.post(
        f"/api/v1/communities/{world['secret'].slug}/posts", json={"title": "Hé"}, headers=headers
    )
    assert_error(secret, 404)
    assert_error(
        client.post("/api/v1/communities/inconnue/posts", json={"title": "Hé"}, headers=headers),
        404,
    )


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"title": "obligatoire"}),
        ({"title": "   "}, {"title": "vide"}),
        ({"title": 12}, {"title": "chaîne"}),
        ({"title": "x" * 201}, {"title": "200"}),
        ({"title": "Bon", "body": ["liste"]}, {"body": "chaîne"}),
        ({"title": "Bon", "body": "x" * 50_001}, {"body": "50000"}),
        ({"title": "Bon", "tags": ["x"]}, {"tags": "inconnu"}),
    ],
)
def test_invalid_fields_are_each_explained(client, world, token_for, payload, fields):
    response = client.post(
        "/api/v1/communities/achats/posts", json=payload, headers=token_for(world["member"])
    )
    error = assert_error(response, 400, **fields)
    assert error["message"] == "La publication n'est pas valide."
    assert set(error["fields"]) == set(fields)


def test_bodies_that_are_not_json_objects(client, world, token_for):
    headers = token_for(world["member"])
    url = "/api/v1/communities/achats/posts"
    broken = client.post(url, data="{title:", content_type="application/json", headers=headers)
    assert "objet JSON" in assert_error(broken, 400)["message"]
    assert_error(client.post(url, json=["title"], headers=headers), 400)
    assert_error(client.post(url, data="title=x", headers=headers), 415)


def test_csrf_protection_does_not_block_token_writes(csrf_client, world):
    _token, secret = create_token(world["member"], "CI")
    db.session.commit()
    response = csrf_client.post(
        "/api/v1/communities/achats/posts",
        json={"title": "Depuis un script"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert_error(csrf_client.post("/api/v1/communities/achats/posts", json={"title": "x"}), 401)


class TestSizeLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "MAX_CONTENT_LENGTH": 1024}

    def test_oversized_bodies_get_a_json_413(self, client, world, token_for):
        response = client.post(
            "/api/v1/communities/achats/posts",
            json={"title": "Gros", "body": "x" * 2000},
            headers=token_for(world["member"]),
        )
        assert_error(response, 413)


# -- search ------------------------------------------------------------------------------------


def test_search_through_the_api(visit, world, token_for, conforms):
    anonymous = visit(None).get("/api/v1/search?q=note").get_json()
    conforms(anonymous, "SearchResults")
    assert [item["title"] for item in anonymous["items"]] == ["Note achats"]
    assert anonymous["items"][0]["url"] == f"http://localhost/post/{world['posts']['achats'].id}"
    member = visit(None).get("/api/v1/search?q=notes", headers=token_for(world["member"]))
    assert {item["title"] for item in member.get_json()["items"]} == {
        "Note achats",
        "Note pairs",
        "Note cellule",
    }
    assert member.get_json()["facets"] == {"post": 3}
    communities = (
        visit(None)
        .get("/api/v1/search?q=cellule&type=community", headers=token_for(world["member"]))
        .get_json()
    )
    assert [item["type"] for item in communities["items"]] == ["community"]
    [highlighted] = visit(None).get("/api/v1/search?q=textes").get_json()["items"]
    assert highlighted["excerpt_html"] == "Du <mark>texte</mark>."
    assert highlighted["excerpt"] == "Du texte."
    assert_error(visit(None).get("/api/v1/search"), 400, q="obligatoire")
    assert_error(visit(None).get("/api/v1/search?q=" + "x" * 201), 400, q="200")
    assert_error(visit(None).get("/api/v1/search?q=x&type=groupe"), 400, type="community")


# -- routes and document -----------------------------------------------------------------------


def test_unknown_api_routes_answer_json(client):
    assert_error(client.get("/api/v1/nulle-part"), 404)
    assert_error(client.get("/api/v2/communities"), 404)
    assert_error(client.delete("/api/v1/communities"), 405)


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.removeprefix("/api/v1"))


def test_openapi_describes_every_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    routes = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    assert len(routes) >= 7
    for rule in routes:
        path = openapi_path(rule.rule)
        assert path in document["paths"], f"{rule.rule} is missing from the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path].get(method.lower())
            assert operation, f"{method} {rule.rule} is not described"
            placeholders = set(re.findall(r"{(\w+)}", path))
            described = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert placeholders == described, rule.rule
    write = document["paths"]["/communities/{slug}/posts"]["post"]
    assert write["security"] == [{"bearerAuth": []}]


def test_openapi_references_resolve(client):
    document = client.get("/api/v1/openapi.json").get_json()
    text = str(document)
    for reference in set(re.findall(r"#/components/(\w+)/(\w+)", text)):
        section, name = reference
        assert name in document["components"][section], reference
