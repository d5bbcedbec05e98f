"""The proof page in a real browser: a directory sign-in whose address a local account holds,
proved with the code e-mailed to that account — accessible, on a phone too — or with another
identity of that account, then confirmed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.auth.ldap.entries import normalise_dn
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.auth.ldap.conftest import PASSWORDS, person
from tests.auth.ldap.test_ldap_browser import fill
from tests.conftest import axe_violations

pytestmark = pytest.mark.browser

ZOE = "zoe.lefevre"


def test_proving_an_account_with_the_e_mailed_code(phone, live_server, create_user, mails):
    zoe = create_user("zoe.locale", email="zoe.lefevre@interieur.gouv.fr")
    zoe.email_verified_at = utcnow()
    db.session.commit()
    phone.goto(f"{live_server}/login")

    fill(phone, "annuaire", "zoe.lefevre", PASSWORDS["zoe.lefevre"])

    assert phone.title().startswith("Un compte existe déjà avec votre adresse")
    assert axe_violations(phone) == []
    phone.get_by_role("button", name="Recevoir un code par e-mail").click()
    phone.wait_for_load_state()
    (_subject, body, _links) = mails(to="zoe.lefevre@interieur.gouv.fr")[-1]
    code = re.search(r"code de confirmation : (\d{6})", body).group(1)
    phone.get_by_label("Code reçu par e-mail").fill("000000")
    phone.get_by_role("button", name="Valider le code et lier le compte").click()
    phone.wait_for_load_state()
    assert phone.title().startswith("Erreur : ")
    assert axe_violations(phone) == []

    phone.get_by_label("Code reçu par e-mail").fill(code)
    phone.get_by_role("button", name="Valider le code et lier le compte").click()
    phone.wait_for_load_state()

    assert "Vous êtes connecté." in phone.content()
    db.session.expire_all()
    assert db.session.scalar(select(Identity.user_id)) == zoe.id


def test_proving_an_account_with_another_identity_then_confirming(page, live_server, create_user):
    """The choice on the proof page, the other directory's sign-in, then the confirmation page
    (accessible), where nothing is linked before « Associer »."""
    zoe = create_user("zoe.locale", email="zoe.lefevre@interieur.gouv.fr")
    zoe.email_verified_at = utcnow()
    db.session.add(
        Identity(user=zoe, provider="annuaire-groupes", identifier=normalise_dn(person(ZOE)))
    )
    db.session.commit()
    page.goto(f"{live_server}/login")
    fill(page, "annuaire", ZOE, PASSWORDS[ZOE])
    assert page.title().startswith("Un compte existe déjà avec votre adresse")

    page.get_by_role("button", name="Se connecter avec « Annuaire (groupes) »").click()
    page.wait_for_load_state()
    fill(page, "annuaire-groupes", ZOE, PASSWORDS[ZOE])

    question = "Associer l'identité Annuaire de l'Intérieur (zoe.lefevre@interieur.gouv.fr) à"
    assert page.get_by_role("heading", level=1).inner_text().startswith(question)
    assert axe_violations(page) == []
    assert linked_to("annuaire") is None
    page.get_by_role("button", name="Associer", exact=True).click()
    page.wait_for_load_state()

    assert "L'identité « Annuaire de l'Intérieur » est liée à votre compte." in page.content()
    assert linked_to("annuaire") == zoe.id


def linked_to(provider: str) -> int | None:
    db.session.expire_all()
    return db.session.scalar(select(Identity.user_id).where(Identity.provider == provider))
