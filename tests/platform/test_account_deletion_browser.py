"""Deleting one's account in a real browser on a phone: from Mon compte, confirmed with the
password, then cancelled from the banner; no serious accessibility violation on the way."""

from __future__ import annotations

import pytest

from maillage.communities.users.models import User
from maillage.platform.extensions import db
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


def test_delete_then_cancel_from_the_banner(phone, live_server, create_user):
    person = create_user("camille", display_name="Camille Durand")
    browser_sign_in(phone, live_server, "camille")
    phone.goto(live_server + "/account")
    phone.get_by_role("link", name="Supprimer mon compte et mes données personnelles").click()
    phone.wait_for_url(live_server + "/account/delete")
    assert axe_violations(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    phone.get_by_label("Votre mot de passe, pour confirmer").fill("wrong password")
    phone.get_by_role("button", name="Supprimer mon compte").click()
    password = phone.get_by_label("Votre mot de passe, pour confirmer")
    assert password.get_attribute("aria-invalid") == "true"
    assert "Mot de passe incorrect." in phone.locator("#password-error").inner_text()
    assert axe_violations(phone) == []

    phone.get_by_label("Supprimer aussi mes contributions").check()
    phone.get_by_label("Votre mot de passe, pour confirmer").fill("correct horse battery")
    phone.get_by_role("button", name="Supprimer mon compte").click()
    phone.wait_for_load_state()
    db.session.expire_all()
    assert db.session.get(User, person.id).deletion_erasure == "delete_content"

    phone.goto(live_server + "/")
    phone.get_by_role("link", name="Voir ou annuler la suppression").click()
    assert axe_violations(phone) == []
    phone.get_by_role("button", name="Annuler la suppression de mon compte").click()
    phone.wait_for_load_state()
    db.session.expire_all()
    assert db.session.get(User, person.id).deletion_due_at is None
    assert phone.get_by_text("La suppression de votre compte est annulée.").count() == 1
