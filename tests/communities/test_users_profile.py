"""A person's profile (what each viewer may see of it) and editing one's own profile."""

from __future__ import annotations

import re
from html import unescape

import pytest

from maillage.platform.extensions import db

PASSWORD = "correct horse battery"


def csrf_token(html: str) -> str:
    return re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def sign_in(client):
    def do(user):
        token = csrf_token(client.get("/login").text)
        response = client.post(
            "/login", data={"login": user.username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        return client

    return do


@pytest.fixture
def world(create_user, create_organisation, create_community, create_post):
    """Dominique belongs to a public, a private and a secret community and posted in each."""
    region = create_organisation("Région Bretagne", "local_authority")
    dominique = create_user("dominique", organisation=region, display_name="Dominique Le Goff")
    dominique.job_title = "Cheffe de projet numérique"
    dominique.bio = "Achats publics responsables.\n\nDeuxième paragraphe."
    insider = create_user("insider")
    outsider = create_user("outsider")
    public = create_community("Acheteurs publics", owner=dominique)
    private = create_community("Club des DSI", owner=dominique, visibility="private")
    secret = create_community(
        "Cellule confidentielle", owner=dominique, visibility="secret", members=[insider]
    )
    posts = {
        "public": create_post(public, dominique, "Retour sur le salon des achats"),
        "private": create_post(private, dominique, "Budget des DSI"),
        "secret": create_post(secret, dominique, "Dossier sensible"),
    }
    db.session.commit()
    return dominique, insider, outsider, posts


def test_profile_shows_the_person_and_their_organisation(client, world):
    html = client.get("/u/dominique").text
    assert html.count("<h1") == 1
    assert '<h1 id="profile-name">Dominique Le Goff</h1>' in html
    assert "Région Bretagne" in html
    assert "Collectivités territoriales" in html
    assert "Cheffe de projet numérique" in html
    assert "<p>Achats publics responsables.</p>" in html
    assert "Modifier mon profil" not in html


@pytest.mark.parametrize("viewer", ["anonymous", "outsider"])
def test_secret_communities_and_unreadable_posts_are_hidden(client, sign_in, world, viewer):
    _dominique, _insider, outsider, _posts = world
    if viewer == "outsider":
        sign_in(outsider)
    html = client.get("/u/dominique").text
    assert "Acheteurs publics" in html
    assert "Club des DSI" in html  # private communities are listed
    assert "Cellule confidentielle" not in html
    assert "Retour sur le salon des achats" in html
    assert "Budget des DSI" not in html  # private content is for members
    assert "Dossier sensible" not in html


def test_members_see_what_they_share(client, sign_in, world):
    _dominique, insider, _outsider, posts = world
    sign_in(insider)
    html = client.get("/u/dominique").text
    assert "Cellule confidentielle" in html
    assert "Dossier sensible" in html
    assert f'href="/post/{posts["secret"].id}"' in html
    assert "Budget des DSI" not in html


def test_own_profile_offers_edition(client, sign_in, world):
    dominique, *_ = world
    sign_in(dominique)
    html = client.get("/u/dominique").text
    assert 'href="/account/profile"' in html
    assert "Cellule confidentielle" in html
    assert "Budget des DSI" in html


def test_unknown_and_deactivated_people_are_not_found(client, create_user):
    assert client.get("/u/nobody").status_code == 404
    gone = create_user("gone")
    gone.is_active = False
    db.session.commit()
    assert client.get("/u/gone").status_code == 404


def test_profile_runs_a_bounded_number_of_queries(
    client, world, create_community, create_post, count_queries
):
    dominique, *_ = world
    with count_queries() as few:
        assert client.get("/u/dominique").status_code == 200
    for index in range(8):
        community = create_community(f"Réseau {index}", owner=dominique)
        create_post(community, dominique, f"Publication {index}")
    with count_queries() as many:
        html = client.get("/u/dominique").text
    assert "Réseau 7" in html
    assert len(many) == len(few)
    assert len(many) <= 4, many


# -- editing ------------------------------------------------------------------------------------


def test_edit_profile_requires_sign_in(client):
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Faccount%2Fprofile")


def test_edit_profile_form_is_prefilled(client, sign_in, world):
    dominique, *_ = world
    sign_in(dominique)
    html = client.get("/account/profile").text
    assert html.count("<h1") == 1
    assert 'value="Dominique Le Goff"' in html
    assert f'<option selected value="{dominique.organisation_id}">Région Bretagne</option>' in html
    assert '<label for="display_name">Nom affiché</label>' in html


def test_edit_profile_saves(client, sign_in, world, create_organisation):
    dominique, *_ = world
    ministry = create_organisation("Ministère de la Culture", "state_service")
    sign_in(dominique)
    token = csrf_token(client.get("/account/profile").text)
    response = client.post(
        "/account/profile",
        data={
            "display_name": "  Dominique Le Goff-Martin ",
            "job_title": "Directrice",
            "organisation": str(ministry.id),
            "bio": "Nouvelle présentation",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/u/dominique"
    db.session.refresh(dominique)
    assert dominique.display_name == "Dominique Le Goff-Martin"
    assert dominique.job_title == "Directrice"
    assert dominique.organisation_id == ministry.id
    assert "Votre profil a été mis à jour." in client.get("/u/dominique").text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"display_name": ""}, "Indiquez le nom sous lequel les autres membres vous voient."),
        ({"display_name": "x" * 121}, "Le nom affiché fait 120 caractères au plus."),
        ({"job_title": "x" * 201}, "La fonction fait 200 caractères au plus."),
        ({"bio": "x" * 2001}, "La présentation fait 2000 caractères au plus."),
        ({"organisation": ""}, "Choisissez votre organisation."),
        ({"organisation": "424242"}, "Choisissez une organisation dans la liste."),
    ],
)
def test_edit_profile_explains_bad_input_and_stores_nothing(
    client, sign_in, world, changes, message
):
    dominique, *_ = world
    sign_in(dominique)
    token = csrf_token(client.get("/account/profile").text)
    data = {
        "display_name": "Autre nom",
        "job_title": "",
        "organisation": str(dominique.organisation_id),
        "bio": "",
        "csrf_token": token,
    }
    response = client.post("/account/profile", data={**data, **changes})
    assert response.status_code == 400
    assert message in unescape(response.text)
    assert 'role="alert"' in response.text
    db.session.refresh(dominique)
    assert dominique.display_name == "Dominique Le Goff"


def test_edit_profile_refuses_a_missing_csrf_token(csrf_client, create_user):
    create_user("dominique")
    login_page = csrf_client.get("/login").text
    csrf_client.post(
        "/login",
        data={"login": "dominique", "password": PASSWORD, "csrf_token": csrf_token(login_page)},
    )
    response = csrf_client.post("/account/profile", data={"display_name": "Pirate"})
    assert response.status_code == 400
    assert "jeton de sécurité" in response.text
