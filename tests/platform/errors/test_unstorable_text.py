"""NUL bytes and lone surrogates: PostgreSQL cannot store or even compare them (500 before).
One check refuses them everywhere — forms, API JSON, query strings, URL path segments — with a
clear 400, before any view or hook sends them to the database."""

from __future__ import annotations

import json

import pytest

from maillage.auth.tokens.operations import create_token
from maillage.communities.posts.models import Post
from maillage.platform.extensions import db
from tests.conftest import login
from tests.platform.errors.conftest import form_token

REFUSAL = "caractère non autorisé"


@pytest.fixture
def member(create_user, create_community):
    person = create_user("camille")
    create_community("Achats responsables", slug="achats", members=[person])
    return person


@pytest.fixture
def api_headers(member):
    _token, secret = create_token(member, "Tests")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def assert_refused(response, json_expected: bool = False) -> None:
    assert response.status_code == 400
    if json_expected:
        error = response.get_json()["error"]
        assert error["status"] == 400
        assert REFUSAL in error["message"]
    else:
        assert REFUSAL in response.text


def no_post_stored() -> None:
    assert db.session.scalar(db.select(db.func.count()).select_from(Post)) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "Bonjour\x00"), ("body", "Un texte avec \x00 au milieu"), ("titre\x00", "x")],
)
def test_a_post_form(client, member, field, value):
    login(client, member)
    data = {"csrf_token": form_token(client, "/c/achats/posts/new"), "title": "Titre", "body": ""}
    data[field] = value
    assert_refused(client.post("/c/achats/posts", data=data))
    no_post_stored()


def test_a_comment_form(client, member, create_post):
    post = create_post(_community(), member)
    login(client, member)
    token = form_token(client, f"/post/{post.id}")
    response = client.post(f"/post/{post.id}/comments", data={"csrf_token": token, "body": "\x00"})
    assert_refused(response)


def _community():
    from maillage.communities.community.models import Community

    return db.session.scalar(db.select(Community).where(Community.slug == "achats"))


@pytest.mark.parametrize(
    "raw_body",
    [
        '{"title": "Bonjour\\u0000", "body": ""}',  # NUL, escaped in JSON
        '{"title": "Bonjour", "body": "texte \\ud800 coupé"}',  # a lone surrogate
        '{"title": "Bonjour", "body": "ok", "\\u0000": 1}',  # in a key
        '{"title": "Bonjour", "body": ["\\udfff"]}',  # nested
    ],
)
def test_an_api_write(client, api_headers, raw_body):
    json.loads(raw_body)  # valid JSON: only its text is unstorable
    response = client.post(
        "/api/v1/communities/achats/posts",
        data=raw_body,
        headers={**api_headers, "Content-Type": "application/json"},
    )
    assert_refused(response, json_expected=True)
    no_post_stored()


def test_a_valid_api_write_still_goes_through(client, api_headers):
    """The check reads the body; the view still gets it (and astral characters are fine)."""
    response = client.post(
        "/api/v1/communities/achats/posts",
        json={"title": "Bonjour 🌱", "body": "Un texte"},
        headers=api_headers,
    )
    assert response.status_code == 201
    assert response.get_json()["title"] == "Bonjour 🌱"


@pytest.mark.parametrize(
    "url",
    [
        "/search?q=%00",
        "/search?q=achats&community=%00",
        "/communities?q=a%00b",
        "/api/v1/search?q=%00",
    ],
)
def test_a_query_string(client, member, url):
    login(client, member)
    assert_refused(client.get(url), json_expected=url.startswith("/api/"))


@pytest.mark.parametrize(
    "url",
    [
        "/c/ach%00ats",
        "/u/cam%00ille",
        "/api/v1/communities/%00/posts",
    ],
)
def test_a_path_segment(client, member, url):
    login(client, member)
    assert_refused(client.get(url), json_expected=url.startswith("/api/"))


def test_a_path_segment_asking_for_activity_json(client, member):
    """Federation's content negotiation looks the object up by path before any view."""
    response = client.get("/u/cam%00ille", headers={"Accept": "application/activity+json"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("name", "fields"),
    [("compte-rendu.pdf", {"title": "Compte\x00rendu"}), ("compte\x00rendu.pdf", {})],
)
def test_an_upload_form(client, member, name, fields):
    """Upload views parse the body themselves, under a raised size limit: the check runs when
    the body is parsed, not before."""
    from maillage.communities.documents.models import Document
    from tests.communities.test_documents_support import pdf, upload

    login(client, member)
    assert_refused(upload(client, "achats", name, pdf(), **fields))
    assert db.session.scalar(db.select(db.func.count()).select_from(Document)) == 0
