"""Sign-up: the whole journey, the switch, validation messages, and what a taken address shows."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.outbox.models import OutboxItem

PASSWORD = "correct horse battery"


@pytest.fixture
def organisation(create_organisation):
    return create_organisation("Direction interministérielle du numérique", "state_service")


def form_data(organisation, /, **changes):
    data = {
        "username": "camille.martin",
        "display_name": "Camille Martin",
        "email": "camille.martin@numerique.gouv.fr",
        "organisation": str(organisation.id),
        "password": PASSWORD,
        "confirm": PASSWORD,
        "accept_platform_charter": "y",
    }
    data.update(changes)
    return data


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_signup_page_is_accessible_form(client, organisation):
    response = client.get("/signup")
    html = response.text
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert '<label for="username">Identifiant</label>' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="email"' in html
    assert html.count('autocomplete="new-password"') == 2
    assert f'<option value="{organisation.id}">{organisation.name}</option>' in html
    assert '<optgroup label="Services de l&#39;État">' in html


def test_signup_login_logout_journey(client, submit, sign_in, mails, organisation):
    response = submit("/signup", form_data(organisation))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signup/sent")

    sent = client.get(response.headers["Location"])
    assert "Vérifiez votre messagerie" in sent.text

    user = db.session.scalar(select(User).where(User.username == "camille.martin"))
    assert user.display_name == "Camille Martin"
    assert user.organisation_id == organisation.id
    assert user.password_hash.startswith("$argon2id$")
    ((subject, body, links),) = mails("camille.martin@numerique.gouv.fr")
    assert subject == "Bienvenue sur Maillage"
    assert "« camille.martin »" in body
    assert links == ["https://maillage.test/login"]

    response = sign_in("camille.martin")
    assert response.status_code == 302
    home = client.get("/")
    assert "Se déconnecter" in home.text
    assert "Camille Martin" in home.text

    response = submit("/", {}, action="/logout")
    assert response.status_code == 302, response.text
    assert "Vous êtes déconnecté." in client.get("/").text
    assert client.get("/account/profile").status_code == 302  # back to the sign-in page


def test_signup_follows_a_safe_next_through_the_mail(client, submit, mails, organisation):
    response = submit(
        "/signup?next=/invitations/abc", {**form_data(organisation), "next": "/invitations/abc"}
    )
    assert response.status_code == 302
    sent = client.get(response.headers["Location"])
    assert 'href="/login?next=/invitations/abc"' in sent.text
    ((_subject, _body, links),) = mails()
    assert links == ["https://maillage.test/login?next=/invitations/abc"]


def test_signup_drops_an_unsafe_next(client, submit, mails, organisation):
    evil = "https://evil.example/phish"
    response = submit(f"/signup?next={evil}", {**form_data(organisation), "next": evil})
    assert "evil" not in response.headers["Location"]
    ((_subject, body, _links),) = mails()
    assert "evil" not in body


def test_signup_disabled_is_not_found(app, client, submit, organisation):
    app.config["SIGNUP_ENABLED"] = False
    assert client.get("/signup").status_code == 404
    assert submit("/", form_data(organisation), action="/signup").status_code == 404
    assert user_count() == 0
    assert client.get("/signup/sent").status_code == 404
    assert "Créer un compte" not in client.get("/").text


def test_taken_address_shows_the_same_outcome_and_warns_its_owner(
    client, submit, mails, create_user, organisation
):
    owner = create_user("dominique", email="dominique@numerique.gouv.fr", locale="fr")
    before = user_count()

    response = submit(
        "/signup",
        form_data(organisation, username="intrus", email="Dominique@Numerique.gouv.fr"),
    )

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signup/sent")
    assert user_count() == before
    ((subject, body, links),) = mails(owner.email)
    assert subject == "Tentative de création de compte sur Maillage"
    assert "« dominique »" in body
    assert "https://maillage.test/password/forgot" in links
    assert mails("intrus@numerique.gouv.fr") == []


def test_new_and_taken_addresses_render_the_same_page(client, submit, create_user, organisation):
    create_user("dominique", email="dominique@numerique.gouv.fr")
    fresh = submit("/signup", form_data(organisation))
    taken = submit(
        "/signup", form_data(organisation, username="autre", email="dominique@numerique.gouv.fr")
    )
    assert fresh.status_code == taken.status_code == 302
    assert fresh.headers["Location"] == taken.headers["Location"]
    assert main(client.get(fresh.headers["Location"])) == main(
        client.get(taken.headers["Location"])
    )


def main(response) -> str:
    html = response.text
    return html[html.index("<main") : html.index("</main>")]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"password": "court", "confirm": "court"},
            "Le mot de passe doit faire au moins 10 caractères.",
        ),
        ({"confirm": "another long password"}, "Les deux mots de passe ne correspondent pas."),
        ({"username": "Camille Martin!"}, "L'identifiant doit faire 3 à 64 caractères"),
        ({"username": "admin"}, "L'identifiant doit faire 3 à 64 caractères"),
        ({"email": "pas-une-adresse"}, "Adresse e-mail invalide."),
        ({"email": ""}, "Indiquez votre adresse e-mail."),
        ({"display_name": "   "}, "Indiquez le nom sous lequel les autres membres vous verront."),
        ({"organisation": ""}, "Choisissez votre organisation, ou indiquez son nom"),
        ({"accept_platform_charter": ""}, "Acceptez la charte d'utilisation pour continuer."),
        ({"organisation": "999999"}, "Choisissez une organisation dans la liste."),
        ({"organisation": "abc"}, "Choisissez une organisation dans la liste."),
    ],
)
def test_bad_input_is_explained_in_french_and_nothing_is_stored(
    client, submit, mails, organisation, changes, message
):
    before = user_count()
    response = submit("/signup", form_data(organisation, **changes))
    assert response.status_code == 400
    assert message in unescape(response.text)
    assert 'role="alert"' in response.text
    assert "<title>Erreur : Créer un compte" in response.text
    assert 'aria-invalid="true"' in response.text
    assert user_count() == before
    assert db.session.scalar(select(func.count()).select_from(OutboxItem)) == 0
    assert mails() == []


def test_taken_username_is_said(client, submit, create_user, organisation):
    create_user("camille.martin", email="autre@example.gouv.fr")
    response = submit("/signup", form_data(organisation))
    assert response.status_code == 400
    assert "Cet identifiant est déjà pris." in response.text


def test_signed_in_person_is_sent_on(client, submit, sign_in, create_user):
    create_user("dominique")
    sign_in("dominique")
    response = client.get("/signup?next=/members")
    assert response.status_code == 302
    assert response.headers["Location"] == "/members"
