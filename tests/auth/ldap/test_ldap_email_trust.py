"""A directory sign-in whose address a local account already holds: linked at once only when the
directory is trusted for it (``link_by_email``, with ``trust_email``) and the account is not an
administrator's; otherwise the person proves they hold the account first."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from maillage.auth.identities.models import Identity, LinkProof
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.auth.conftest import PASSWORD, csrf_token
from tests.auth.ldap.conftest import provider_settings

ZOE_MAIL = "zoe.lefevre@interieur.gouv.fr"


@pytest.fixture
def ldap_providers(slapd, request) -> list[dict]:
    trusted = getattr(request, "param", False)
    return [provider_settings(slapd, link_by_email=trusted)]


@pytest.fixture
def zoe_local(create_user):
    user = create_user("zoe.locale", email=ZOE_MAIL)
    user.email_verified_at = utcnow()
    db.session.commit()
    return user


def identities() -> list[Identity]:
    db.session.expire_all()
    return list(db.session.scalars(select(Identity)))


def proofs_pending() -> int:
    return db.session.scalar(select(func.count(LinkProof.id)))


def test_an_untrusted_directory_asks_for_a_proof(client, ldap_sign_in, zoe_local):
    response = ldap_sign_in("zoe.lefevre")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login/link"
    assert identities() == []
    assert proofs_pending() == 1
    page = client.get("/login/link").get_data(as_text=True)
    assert "Un compte existe déjà avec votre adresse" in page


@pytest.mark.parametrize("ldap_providers", [True], indirect=True)
def test_a_trusted_directory_links_a_verified_address(client, ldap_sign_in, zoe_local):
    response = ldap_sign_in("zoe.lefevre")

    assert response.headers["Location"] == "/"
    [identity] = identities()
    assert identity.user_id == zoe_local.id


@pytest.mark.parametrize("ldap_providers", [True], indirect=True)
def test_a_trusted_directory_never_links_an_administrator(client, ldap_sign_in, zoe_local):
    zoe_local.is_admin = True
    db.session.commit()

    response = ldap_sign_in("zoe.lefevre")

    assert response.headers["Location"] == "/login/link"
    assert identities() == []


def test_the_password_proof_links_and_signs_in(client, ldap_sign_in, zoe_local):
    ldap_sign_in("zoe.lefevre")
    page = client.get("/login/link").get_data(as_text=True)

    response = client.post(
        "/login/link/password",
        data={"proof-password-csrf_token": csrf_token(page), "proof-password-password": PASSWORD},
    )

    assert response.status_code == 302
    [identity] = identities()
    assert identity.user_id == zoe_local.id
    assert identity.provider == "annuaire"
    assert client.get("/account").status_code == 200
    assert proofs_pending() == 0
