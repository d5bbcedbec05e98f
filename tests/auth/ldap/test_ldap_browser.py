"""The directory forms on the sign-in page, in a real browser: usable, accessible, on a phone
too."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from maillage.communities.users.models import User
from maillage.platform.extensions import db
from tests.auth.ldap.conftest import PASSWORDS
from tests.conftest import axe_violations

pytestmark = pytest.mark.browser


def fill(page, provider: str, login: str, password: str) -> None:
    form = page.locator(f"section[aria-labelledby='sign-in-{provider}']")
    form.get_by_label("Identifiant").fill(login)
    form.get_by_label("Mot de passe").fill(password)
    form.get_by_role("button").click()
    page.wait_for_load_state()


def test_signing_in_with_a_directory_account_in_a_browser(page, live_server):
    page.goto(f"{live_server}/login")
    assert axe_violations(page) == []

    fill(page, "annuaire", "zoe.lefevre", "pas le bon")
    summary = page.get_by_role("alert")
    assert "Identifiant ou mot de passe incorrect." in summary.inner_text()
    assert page.title().startswith("Erreur : Se connecter")
    assert axe_violations(page) == []

    fill(page, "annuaire", "zoe.lefevre", PASSWORDS["zoe.lefevre"])
    assert "Vous êtes connecté." in page.content()
    assert db.session.scalar(select(User.display_name)) == "Zoé Lefèvre"


def test_the_directory_forms_work_on_a_phone(phone, live_server):
    phone.goto(f"{live_server}/login")
    assert axe_violations(phone) == []

    fill(phone, "annuaire-groupes", "benoit.cosic", PASSWORDS["benoit.cosic"])

    assert "Vous êtes connecté." in phone.content()
