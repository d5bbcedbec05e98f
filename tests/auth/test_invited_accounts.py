"""Invited partner accounts: an invitation to an address without an account lets the invitee
create a local account with that address (verified) and join with the invited role, signed in, in
one go; once, before it expires, even when sign-up is closed.  An address with an account keeps
the sign-in-then-accept flow."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import func, select, update

from maillage.auth.passwords import verify_password
from maillage.communities.community.models import Invitation, Membership
from maillage.communities.community.operations import invite
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db

PASSWORD = "une phrase de passe solide"
ADDRESS = "camille@asso-quartiers.org"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SIGNUP_ENABLED": False}  # invitations are the way in


@pytest.fixture
def community(create_user, create_community):
    owner = create_user("karim", display_name="Karim Benali")
    return create_community(
        "Cellule de crise", slug="crise", visibility="private", join_policy="invite", owner=owner
    )


@pytest.fixture
def link(community):
    """The invitation link, as mailed: ``/invitations/<token>``."""
    _invitation, token = invite(community, community_owner(community), ADDRESS, "facilitator")
    db.session.commit()
    return f"/invitations/{token}"


def community_owner(community):
    membership = db.session.scalar(
        select(Membership).where(
            Membership.community_id == community.id, Membership.role == "owner"
        )
    )
    return membership.user


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def account_data(**changes) -> dict:
    return {
        "username": "camille.durand",
        "display_name": "Camille Durand",
        "organisation": "",
        "password": PASSWORD,
        "confirm": PASSWORD,
    } | changes


def create(submit, link, **changes):
    return submit(f"{link}/account", account_data(**changes))


def users_with(address: str) -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.email == address))


def role_of(community, user_id):
    return db.session.scalar(
        select(Membership.role).where(
            Membership.community_id == community.id, Membership.user_id == user_id
        )
    )


def test_the_link_offers_to_create_the_account(client, link):
    response = client.get(link)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{link}/account"
    assert response.headers["Cache-Control"] == "no-store"

    page = client.get(f"{link}/account")
    html = text(page)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert html.count("<h1") == 1
    assert "Créer votre compte pour rejoindre « Cellule de crise »" in html
    assert "Karim Benali vous invite à rejoindre cette communauté en tant que animateur" in html
    assert f'value="{ADDRESS}" readonly' in html
    assert 'name="email"' not in html  # the address is not a field
    for label in ("Identifiant", "Nom affiché", "Organisation (facultatif)", "Mot de passe"):
        assert f">{label}</label>" in html
    assert 'autocomplete="new-password"' in html


def test_creating_the_account_joins_and_signs_in(client, submit, mails, community, link):
    response = create(submit, link)
    assert response.status_code == 303
    assert response.headers["Location"] == "/c/crise"

    user = db.session.scalar(select(User).where(User.email == ADDRESS))
    assert user.username == "camille.durand"
    assert user.display_name == "Camille Durand"
    assert user.organisation is None
    assert user.email_verified_at is not None
    assert verify_password(user.password_hash, PASSWORD)
    assert role_of(community, user.id) == "facilitator"
    invitation = db.session.scalar(select(Invitation))
    assert invitation.used_by_id == user.id
    assert invitation.used_at is not None

    page = client.get("/c/crise")  # signed in: the private community is readable
    assert page.status_code == 200
    assert "Votre compte est créé. Bienvenue dans « Cellule de crise » !" in text(page)
    assert client.get("/account").status_code == 200
    actions = list(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
        )
    )
    assert actions[-3:] == ["auth.account_created", "community.invitation_accepted", "auth.login"]
    assert [subject for subject, _b, _l in mails(ADDRESS)][-1] == "Bienvenue sur Maillage"

    # The new password opens the account later on, by name or address.
    submit("/account", {}, action="/logout")
    assert submit("/login", {"login": ADDRESS, "password": PASSWORD}).status_code == 302


def test_the_link_works_once(client, new_client, submit, community, link):
    assert create(submit, link).status_code == 303
    other = new_client()
    assert other.get(link).status_code == 410
    assert "Invitation déjà utilisée" in text(other.get(link))
    response = other.get(f"{link}/account")
    assert response.status_code == 303
    assert response.headers["Location"] == link


def test_an_expired_or_unknown_link_explains_itself(client, submit, link):
    db.session.execute(
        update(Invitation).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    db.session.commit()
    assert client.get(f"{link}/account").headers["Location"] == link
    response = client.get(link)
    assert response.status_code == 410
    assert "Invitation expirée" in text(response)
    unknown = client.get("/invitations/pas-un-jeton/account", follow_redirects=True)
    assert unknown.status_code == 404
    assert "Invitation introuvable" in text(unknown)
    assert users_with(ADDRESS) == 0


def test_a_link_spent_while_the_form_was_open_says_so(client, submit, create_user, link):
    from maillage.communities.community.operations import accept_invitation

    html = client.get(f"{link}/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    # Meanwhile the address got an account (an administrator made it) which accepted the link.
    other = create_user("camille", email=ADDRESS)
    accept_invitation(link.rsplit("/", 1)[1], other)
    db.session.commit()
    response = client.post(f"{link}/account", data={**account_data(), "csrf_token": token})
    assert response.headers["Location"] == link
    assert users_with(ADDRESS) == 1
    assert (
        db.session.scalar(select(func.count(User.id)).where(User.username == "camille.durand")) == 0
    )


def test_the_operation_spends_the_invitation_once(link):
    from maillage.auth.local.operations import InvitationGone, create_invited_account

    token = link.rsplit("/", 1)[1]
    create_invited_account(token, "camille.durand", "Camille Durand", PASSWORD, None)
    db.session.commit()
    with pytest.raises(InvitationGone):  # the link is spent
        create_invited_account(token, "camille.bis", "Camille Bis", PASSWORD, None)
    db.session.rollback()

    assert db.session.scalar(select(func.count(User.id)).where(User.username == "camille.bis")) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "A"}, "L'identifiant doit faire 3 à 64 caractères"),
        ({"username": ""}, "Choisissez un identifiant."),
        ({"display_name": ""}, "Indiquez le nom sous lequel les autres membres vous verront."),
        ({"password": "court", "confirm": "court"}, "au moins 10 caractères"),
        ({"confirm": "autre chose"}, "Les deux mots de passe ne correspondent pas."),
        ({"organisation": "999999"}, "Choisissez une organisation dans la liste."),
    ],
)
def test_bad_input_is_explained_and_nothing_is_stored(
    client, submit, community, link, changes, message
):
    response = create(submit, link, **changes)
    assert response.status_code == 400
    html = text(response)
    assert 'role="alert"' in html
    assert message in html
    assert 'aria-invalid="true"' in html
    assert users_with(ADDRESS) == 0
    assert db.session.scalar(select(Invitation.used_at)) is None


def test_a_community_charter_is_accepted_with_the_new_account(client, submit, community, link):
    community.charter = "Bienveillance et **confidentialité**."
    db.session.commit()
    assert "Bienveillance et <strong>confidentialité</strong>." in text(
        client.get(f"{link}/account")
    )

    refused = create(submit, link)
    assert refused.status_code == 400
    assert "Pour rejoindre cette communauté, acceptez sa charte." in text(refused)
    assert users_with(ADDRESS) == 0
    assert db.session.scalar(select(Invitation.used_at)) is None

    assert create(submit, link, accept_charter="y").status_code == 303
    user = db.session.scalar(select(User).where(User.email == ADDRESS))
    accepted_at = db.session.scalar(
        select(Membership.charter_accepted_at).where(Membership.user_id == user.id)
    )
    assert accepted_at is not None


def test_a_taken_username_is_said(client, submit, create_user, link):
    create_user("camille.durand", email="autre@example.org")
    response = create(submit, link)
    assert response.status_code == 400
    assert "Cet identifiant est déjà pris." in text(response)
    assert users_with(ADDRESS) == 0


def test_the_address_cannot_be_swapped(client, submit, link):
    assert create(submit, link, email="intrus@example.org").status_code == 303
    assert users_with(ADDRESS) == 1
    assert users_with("intrus@example.org") == 0


def test_the_organisation_can_be_chosen(client, submit, create_organisation, link):
    organisation = create_organisation("Association Quartiers solidaires", kind="association")
    assert create(submit, link, organisation=str(organisation.id)).status_code == 303
    user = db.session.scalar(select(User).where(User.email == ADDRESS))
    assert user.organisation_id == organisation.id


def test_an_address_with_an_account_signs_in_then_accepts(
    client, submit, create_user, community, link
):
    user = create_user("camille", email=ADDRESS, password=PASSWORD)
    page = client.get(link)
    assert page.status_code == 200
    html = text(page)
    assert "Connectez-vous avec le compte de l'adresse camille@asso-quartiers.org" in html
    assert f'href="/login?next={link}"' in html.replace("%2F", "/")
    assert f"{link}/account" not in html
    assert client.get(f"{link}/account").headers["Location"] == link

    submit(f"/login?next={link}", {"login": "camille", "password": PASSWORD, "next": link})
    assert submit(link, {}).status_code == 303
    assert role_of(community, user.id) == "facilitator"


def test_a_signed_in_person_goes_to_the_acceptance(client, create_user, login_as, link):
    login_as(create_user("camille", email=ADDRESS))
    response = client.get(f"{link}/account")
    assert response.status_code == 303
    assert response.headers["Location"] == link


def test_without_local_accounts_the_link_asks_to_sign_in(app, client, link):
    app.config["AUTH_LOCAL_ENABLED"] = False
    page = client.get(link)
    assert page.status_code == 200
    assert "Connectez-vous avec le compte de l'adresse" in text(page)
    assert client.get(f"{link}/account").status_code == 404


def test_a_required_second_factor_is_set_up_first(app, client, submit, link):
    app.config["AUTH_REQUIRE_TOTP_FOR_LOCAL"] = True
    response = create(submit, link)
    assert response.status_code == 303
    following = client.get(response.headers["Location"])
    assert following.headers["Location"] == "/account/two-factor/setup"


@pytest.mark.browser
def test_the_invited_account_form_in_a_browser(page, live_server, link):
    from tests.conftest import axe_violations

    page.goto(f"{live_server}{link}")
    assert page.url == f"{live_server}{link}/account"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Créer mon compte et rejoindre « Cellule de crise »").click()
    assert page.locator(".error-summary").count() == 1
    assert axe_violations(page) == []
    page.get_by_label("Identifiant").fill("camille.durand")
    page.get_by_label("Nom affiché").fill("Camille Durand")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte et rejoindre « Cellule de crise »").click()
    assert page.url == f"{live_server}/c/crise"
    assert "Bienvenue dans « Cellule de crise »" in page.content()
