"""The journeys the README promises, driven over HTTP with CSRF enforced, as a browser does.

Sign up, sign in, join a public community, request to join a private one, have its facilitator
approve, post, comment, react, and find the post through search.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.communities.community.models import Membership
from maillage.communities.users.models import User
from maillage.platform.extensions import db

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def token_on(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, path
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def post_form(client, page: str, action: str, data: dict):
    return client.post(action, data={**data, "csrf_token": token_on(client, page)})


@pytest.fixture
def world(create_user, create_community, create_organisation):
    sophie = create_user("sophie", display_name="Sophie Martin")
    public = create_community("Réseau des acheteurs publics", owner=sophie, slug="acheteurs")
    private = create_community(
        "Club des animateurs",
        owner=sophie,
        slug="club",
        visibility="private",
        join_policy="request",
    )
    organisation = create_organisation("Département de la Gironde", "local_authority")
    return {"sophie": sophie, "public": public, "private": private, "organisation": organisation}


def sign_in(client, login: str, password: str):
    response = post_form(client, "/login", "/login", {"login": login, "password": password})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    return response


def test_newcomer_journey(csrf_client, world, outbox_mail):
    client = csrf_client
    signup = post_form(
        client,
        "/signup",
        "/signup",
        {
            "username": "thomas",
            "display_name": "Thomas Girard",
            "email": "thomas.girard@gironde.fr",
            "organisation": str(world["organisation"].id),
            "password": "un mot de passe solide",
            "confirm": "un mot de passe solide",
            "accept_platform_charter": "y",
        },
    )
    assert signup.status_code in (200, 302)
    thomas = db.session.scalar(select(User).where(User.username == "thomas"))
    assert thomas is not None
    assert thomas.organisation_id == world["organisation"].id

    sign_in(client, "thomas", "un mot de passe solide")
    assert "Thomas Girard" in client.get("/").get_data(as_text=True)

    # Join the open public community.
    joined = post_form(client, "/c/acheteurs", "/c/acheteurs/join", {})
    assert joined.status_code in (302, 303)
    assert world["public"].member_count == 2

    # Request to join the private one; its content stays closed meanwhile.
    requested = post_form(
        client, "/c/club", "/c/club/request", {"message": "Je débute l'animation d'un réseau."}
    )
    assert requested.status_code in (302, 303)
    assert "Quitter" not in client.get("/c/club").get_data(as_text=True)

    # The facilitator approves it from the requests page.
    client.post("/logout", data={"csrf_token": token_on(client, "/")})
    sign_in(client, "sophie", "correct horse battery")
    page = client.get("/c/club/requests").get_data(as_text=True)
    request_id = re.search(r'action="/c/club/requests/(\d+)"', page).group(1)
    decided = post_form(
        client,
        "/c/club/requests",
        f"/c/club/requests/{request_id}",
        {"decision": "approve", "message": "Bienvenue !"},
    )
    assert decided.status_code in (302, 303)
    assert (
        db.session.scalar(
            select(Membership.role).where(
                Membership.user_id == thomas.id, Membership.community_id == world["private"].id
            )
        )
        == "member"
    )
    assert any(
        "Club des animateurs" in m["Subject"]
        for m in outbox_mail()
        if m["To"] == "thomas.girard@gironde.fr"
    )

    # Back as Thomas: post, comment, react, then find the post through search.
    client.post("/logout", data={"csrf_token": token_on(client, "/")})
    sign_in(client, "thomas", "un mot de passe solide")
    created = post_form(
        client,
        "/c/club",
        "/c/club/posts",
        {
            "title": "Compte rendu de la réunion de lancement",
            "body": "Les **réunions** auront lieu chaque mois.",
        },
    )
    assert created.status_code in (302, 303)
    post_url = created.headers["Location"].split("#")[0]
    post_id = re.search(r"/post/(\d+)", post_url).group(1)
    commented = post_form(
        client, post_url, f"/post/{post_id}/comments", {"body": "Merci pour ce compte rendu."}
    )
    assert commented.status_code in (302, 303)
    reacted = post_form(client, post_url, f"/post/{post_id}/react", {"emoji": "👍"})
    assert reacted.status_code in (302, 303)
    page = client.get(post_url).get_data(as_text=True)
    assert "Merci pour ce compte rendu." in page
    assert 'aria-pressed="true"' in page

    found = client.get("/search?q=reunion").get_data(as_text=True)
    assert f'href="/post/{post_id}"' in found

    # The private community's post stays out of an outsider's search.
    client.post("/logout", data={"csrf_token": token_on(client, "/")})
    assert f'href="/post/{post_id}"' not in client.get("/search?q=reunion").get_data(as_text=True)
