"""The five legal pages in a real browser: reachable from the footer, no axe-core violation of
any impact (not only serious ones), usable on a phone."""

from __future__ import annotations

import pytest

from tests.conftest import browser_sign_in

pytestmark = pytest.mark.browser

FOOTER_LINKS = (
    ("Mentions légales", "/mentions-legales"),
    ("Données personnelles", "/donnees-personnelles"),
    ("Accessibilité : non conforme", "/accessibilite"),
    ("Plan du site", "/plan-du-site"),
    ("Charte d'utilisation", "/charte"),
)


def every_violation(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        f"{[node['target'] for node in violation['nodes']][:3]}"
        for violation in Axe().run(page).response["violations"]
    ]


def test_legal_pages_from_the_footer_have_no_accessibility_violation(
    page, phone, live_server, create_user, create_community
):
    create_community("Réseau des acheteurs publics", slug="acheteurs")
    page.goto(live_server + "/")
    legal_nav = page.get_by_role("navigation", name="Informations légales")
    for label, path in FOOTER_LINKS:
        legal_nav.get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(live_server + path)
        assert page.locator("h1").count() == 1
        current = page.get_by_role("navigation", name="Informations légales")
        assert current.locator('[aria-current="page"]').count() == 1
        assert every_violation(page) == [], path
        legal_nav = current
    page.goto(live_server + "/plan-du-site")
    assert page.get_by_role("link", name="Réseau des acheteurs publics").count() == 1

    create_user("gestion", is_admin=True)
    browser_sign_in(phone, live_server, "gestion")
    for path in ("/admin/pages-legales", "/admin/pages-legales/accessibilite/etat", "/charte"):
        phone.goto(live_server + path)
        assert every_violation(phone) == [], path
        # Neither a horizontal scroll nor a zoomed-out page on a 360 px wide phone.
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert phone.evaluate("window.innerWidth") == 360, path
