"""Signing in with a directory account: the form on the sign-in page, against a real slapd."""

from __future__ import annotations

import ldap
import pytest
from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.auth.ldap.provider import InvalidCredentials
from maillage.auth.providers.registry import providers
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from tests.auth.conftest import PASSWORD, csrf_token
from tests.auth.ldap.conftest import PASSWORDS, person, provider_settings

WRONG = "not the password"
GENERIC = "Identifiant ou mot de passe incorrect."


def audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.id)))


def test_the_sign_in_page_shows_each_directory_form(client):
    page = client.get("/login").get_data(as_text=True)

    assert "Avec votre compte « Annuaire de l&#39;Intérieur »" in page
    assert 'action="/login/ldap/annuaire"' in page
    assert 'action="/login/ldap/annuaire-groupes"' in page
    # Each form has its own field ids, every field its label.
    assert 'for="ldap-annuaire-username"' in page
    assert 'id="ldap-annuaire-groupes-password"' in page
    assert 'name="ldap-annuaire-csrf_token"' in page


def test_first_sign_in_creates_the_account_in_the_entry_s_organisation(
    client, ldap_sign_in, directory
):
    response = ldap_sign_in("zoe.lefevre")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    [user] = users()
    assert user.display_name == "Zoé Lefèvre"
    assert user.username == "zoe.lefevre"
    assert user.email == "zoe.lefevre@interieur.gouv.fr"
    assert user.email_verified_at is not None  # trust_email
    assert user.organisation.siret == "11000201100044"
    assert user.organisation.name == "Ministère de l'Intérieur"
    assert user.organisation.kind == "state_service"
    identity = db.session.scalar(select(Identity))
    assert identity.provider == "annuaire"
    assert identity.identifier == directory.entry_uuid("zoe.lefevre")
    assert identity.data["dn"] == person("zoe.lefevre")
    assert "Zoé Lefèvre" in client.get("/account").get_data(as_text=True)
    assert [entry.data["provider"] for entry in audit("auth.login")] == ["annuaire"]


def test_signing_in_again_finds_the_same_account(client, ldap_sign_in, new_client):
    assert ldap_sign_in("zoe.lefevre").status_code == 302
    other = new_client()
    # By e-mail address too: the user filter accepts uid or mail.
    again = ldap_sign_in("zoe.lefevre@interieur.gouv.fr", PASSWORDS["zoe.lefevre"], on=other)

    assert again.status_code == 302
    assert len(users()) == 1
    assert db.session.scalar(select(db.func.count(Identity.id))) == 1
    assert len(audit("auth.login")) == 2


def test_non_ascii_names_and_passwords(client, ldap_sign_in):
    response = ldap_sign_in("benoit.cosic")

    assert response.status_code == 302
    [user] = users()
    assert user.display_name == "Benoît Ćosić"
    assert user.username == "benoit.cosic"


def test_the_next_page_is_followed(client, ldap_sign_in, pcs):
    response = ldap_sign_in("zoe.lefevre", next_url="/c/pcs")

    assert response.headers["Location"] == "/c/pcs"


def test_wrong_password_and_unknown_login_get_the_same_words(client, ldap_sign_in):
    assert ldap_sign_in("zoe.lefevre").status_code == 302  # the account exists
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").text)})

    wrong = ldap_sign_in("zoe.lefevre", WRONG)
    unknown = ldap_sign_in("personne.inconnue", WRONG)

    for response in (wrong, unknown):
        assert response.status_code == 400
        assert GENERIC in response.text
        assert 'role="alert"' in response.text
        assert "<title>Erreur : Se connecter" in response.text
    assert client.get("/account").status_code == 302  # still signed out
    failures = audit("auth.login_failed")
    assert [entry.data["reason"] for entry in failures] == ["bad_password", "unknown_user"]
    assert failures[0].actor_id == users()[0].id
    assert failures[1].data["login"] == "personne.inconnue"
    assert all(WRONG not in str(entry.data) for entry in failures)


@pytest.mark.parametrize("login", ["*)(uid=*", "*", "zoe*", "zoe.lefevre)(|(uid=*"])
def test_ldap_injection_finds_nobody(client, ldap_sign_in, login):
    # Zoé's password with a login that would match her entry if it reached the filter raw.
    response = ldap_sign_in(login, PASSWORDS["zoe.lefevre"])

    assert response.status_code == 400
    assert GENERIC in response.text
    assert users() == []
    assert [entry.data["reason"] for entry in audit("auth.login_failed")] == ["unknown_user"]


def test_an_empty_password_never_binds(app, client, ldap_sign_in, slapd):
    # The server accepts a DN with no password as an anonymous bind (bind_anon_cred)…
    raw = ldap.initialize(slapd.ldap_uri)
    raw.simple_bind_s(person("zoe.lefevre"), "")
    assert raw.whoami_s() == ""
    raw.unbind_s()

    # …the form refuses it, and so does the provider itself.
    response = ldap_sign_in("zoe.lefevre", "")
    assert response.status_code == 400
    assert "Indiquez votre mot de passe." in response.text
    with pytest.raises(InvalidCredentials) as refused:
        providers()["annuaire"].authenticate("zoe.lefevre", "")
    assert refused.value.reason == "empty"
    assert users() == []


def test_a_login_matching_two_entries_signs_nobody_in(client, ldap_sign_in):
    response = ldap_sign_in("claude@agents.test", "claude-pass")

    assert response.status_code == 400
    assert GENERIC in response.text
    assert users() == []


def test_the_form_needs_its_csrf_token(client):
    response = client.post(
        "/login/ldap/annuaire",
        data={"ldap-annuaire-username": "zoe.lefevre", "ldap-annuaire-password": "x"},
    )

    assert response.status_code == 400
    assert users() == []


def test_an_unknown_directory_is_a_404(client):
    assert client.get("/login/ldap/nope").status_code == 404
    assert client.get("/login/ldap/nope/link").status_code in (302, 404)


class TestAccessRules:
    @pytest.fixture
    def ldap_providers(self, slapd):
        return [provider_settings(slapd, access_rules={"email_domains": ["finances.gouv.fr"]})]

    def test_an_access_rule_refuses_through_the_core(self, client, ldap_sign_in):
        refused = ldap_sign_in("zoe.lefevre")
        allowed = ldap_sign_in("benoit.cosic")

        assert refused.status_code == 403
        assert "Votre organisation n'a pas accès à cette plateforme" in refused.text
        assert "finances.gouv.fr" in refused.text
        assert [entry.data["reason"] for entry in audit("auth.login_failed")] == ["access_rule"]
        assert allowed.status_code == 302
        assert [user.display_name for user in users()] == ["Benoît Ćosić"]


def test_groups_found_by_a_paged_group_search_with_dn_keys(client, ldap_sign_in, pcs):
    response = ldap_sign_in("zoe.lefevre", provider="annuaire-groupes")

    assert response.status_code == 302
    identity = db.session.scalar(select(Identity))
    assert identity.identifier == person("zoe.lefevre")
    # page_size 1: the two mapped groups came on separate pages.
    assert identity.data["mapped_groups"] == [
        "cn=formateurs,ou=groups,dc=maillage,dc=test",
        "cn=pcs-cellule,ou=groups,dc=maillage,dc=test",
    ]
    zoe = db.session.scalar(select(User).where(User.display_name == "Zoé Lefèvre"))
    assert zoe.is_trainer
    assert identity.user_id == zoe.id


# -- linking -----------------------------------------------------------------------------------


def test_a_signed_in_person_links_their_directory_account(client, create_user, login_as, submit):
    user = create_user("zoe", email="zoe@autre.gouv.fr")
    login_as(user)

    form = client.get("/login/ldap/annuaire/link")
    assert form.status_code == 200
    assert "Lier votre compte « Annuaire de l&#39;Intérieur »" in form.text
    wrong = submit(
        "/login/ldap/annuaire/link",
        {"ldap-annuaire-username": "zoe.lefevre", "ldap-annuaire-password": WRONG},
        prefix="ldap-annuaire-",
    )
    assert wrong.status_code == 400
    assert GENERIC in wrong.text
    assert db.session.scalar(select(Identity)) is None

    linked = submit(
        "/login/ldap/annuaire/link",
        {
            "ldap-annuaire-username": "zoe.lefevre",
            "ldap-annuaire-password": PASSWORDS["zoe.lefevre"],
        },
        prefix="ldap-annuaire-",
    )

    assert linked.status_code == 302
    assert linked.headers["Location"] == "/account"
    identity = db.session.scalar(select(Identity))
    assert identity.user_id == user.id
    assert len(users()) == 1
    assert [entry.data["provider"] for entry in audit("auth.identity_linked")] == ["annuaire"]


def test_linking_needs_a_signed_in_person(client):
    response = client.get("/login/ldap/annuaire/link")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_local_password_still_works_alongside(client, create_user, sign_in):
    create_user("dominique")

    assert sign_in("dominique", PASSWORD).status_code == 302
