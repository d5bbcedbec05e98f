"""The people administration in a real browser: find a person, open their file, suspend them
through the confirmation page; every page accessible (axe), the list usable on a phone."""

from __future__ import annotations

import pytest

from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def people(create_user, create_organisation, create_community):
    mairie = create_organisation("Mairie de Lille", kind="local_authority")
    create_user("alix", display_name="Alix Admin", is_admin=True)
    dominique = create_user("dominique", display_name="Dominique Martin", organisation=mairie)
    create_community("Acheteurs publics", members=[dominique])
    return dominique


def test_admin_finds_and_suspends_a_person(page, live_server, people):
    browser_sign_in(page, live_server, "alix")
    page.goto(live_server + "/admin/people")
    assert axe_violations(page) == [], "/admin/people"
    page.get_by_label("Nom, identifiant, adresse e-mail ou fonction").fill("dominique")
    page.get_by_role("button", name="Chercher", exact=True).click()
    page.get_by_role("link", name="Dominique Martin").click()
    assert page.locator("h1").inner_text() == "Dominique Martin"
    assert axe_violations(page) == [], "person's file"

    page.locator("#suspend-reason").fill("Compte compromis")
    page.get_by_role("button", name="Suspendre le compte").click()
    assert "Suspendre le compte de Dominique Martin ?" in page.locator("h1").inner_text()
    assert axe_violations(page) == [], "confirmation"
    page.get_by_role("button", name="Suspendre", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("Le compte est suspendu.").count() == 1
    assert page.get_by_role("button", name="Lever la suspension").count() == 1

    page.goto(live_server + "/admin/people/import")
    assert axe_violations(page) == [], "/admin/people/import"


def test_phone_layout_of_the_people_list(phone, live_server, people):
    browser_sign_in(phone, live_server, "alix")
    phone.goto(live_server + "/admin/people")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
