"""Community pages in a real browser (Debian's chromium through Playwright): HTMX membership
flows without page reloads, and axe-core on the facilitator pages and forms."""

from __future__ import annotations

import pytest

from maillage.communities.community.operations import create_topic, request_to_join
from maillage.platform.extensions import db
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def world(create_user, create_community, create_post):
    create_topic("Achats publics", "achats")
    db.session.commit()
    owner = create_user("camille", display_name="Camille Laurent")
    member = create_user("thomas", display_name="Thomas Girard")
    public = create_community(
        "Réseau des acheteurs publics",
        owner=owner,
        slug="acheteurs",
        description="Veille et mutualisation des achats.",
        members=[member],
    )
    create_post(public, owner, "Réunion du réseau", "Ordre du jour.")
    club = create_community(
        "Club des animateurs", owner=owner, slug="club", join_policy="request", visibility="private"
    )
    request_to_join(club, create_user("nadia", display_name="Nadia Haddad"), "Bonjour !")
    db.session.commit()
    return {"owner": owner, "member": member}


def test_facilitator_pages_are_accessible(page, live_server, world):
    browser_sign_in(page, live_server, "camille")
    for path in (
        "/c/club",
        "/c/club/members",
        "/c/club/requests",
        "/c/club/settings",
        "/c/club/invite",
        "/communities/new",
    ):
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1, path
        assert axe_violations(page) == [], path

    # a form showing its errors stays accessible
    page.goto(live_server + "/communities/new")
    page.get_by_role("button", name="Créer la communauté").click()
    page.wait_for_load_state()
    assert page.get_by_text("Le nom de la communauté est obligatoire.").is_visible()
    assert page.get_by_label("Nom de la communauté").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []


def test_request_to_join_with_htmx_keeps_the_page(page, live_server, world, create_user):
    create_user("ines")
    browser_sign_in(page, live_server, "ines")
    page.goto(live_server + "/c/club")
    assert axe_violations(page) == []
    page.evaluate("window.__notReloaded = true")
    page.get_by_label("Message aux animateurs (facultatif)").fill("Je coordonne un réseau local.")
    page.get_by_role("button", name="Demander à rejoindre").click()
    page.get_by_text("Votre demande d'adhésion est en attente").wait_for()
    assert page.evaluate("window.__notReloaded") is True


def test_leave_with_htmx_after_confirming(page, live_server, world):
    browser_sign_in(page, live_server, "thomas")
    page.goto(live_server + "/c/acheteurs")
    assert page.get_by_role("heading", name="Publier dans la communauté").is_visible()
    page.evaluate("window.__notReloaded = true")
    page.get_by_role("button", name="Quitter la communauté").click()
    # the question replaces the main content (HTMX), then « Quitter » acts
    question = "Quitter la communauté « Réseau des acheteurs publics » ?"
    page.get_by_role("heading", name=question).wait_for()
    assert page.evaluate("window.__notReloaded") is True
    page.get_by_role("button", name="Quitter", exact=True).click()
    page.get_by_role("button", name="Rejoindre la communauté").wait_for()
    # the composer left with the membership, the member count followed
    assert page.get_by_role("heading", name="Publier dans la communauté").count() == 0
    assert page.get_by_text("1 membre", exact=True).first.is_visible()


def test_members_table_fits_a_phone(browser, live_server, world):
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    browser_sign_in(phone, live_server, "camille")
    for path in ("/c/acheteurs", "/c/acheteurs/members", "/communities"):
        phone.goto(live_server + path)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, path
    context.close()
