"""An administrator asks for exceptional access to a secret community in a real browser (chromium
through Playwright, CSRF enforced), confirms, reads it; its owner sees the banner and ends the
access.  axe-core on every page."""

from __future__ import annotations

import pytest

from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser

JUSTIFICATION = "Réquisition du parquet n° 2026/117 du 4 décembre"


@pytest.fixture
def world(create_user, create_community, create_post):
    owner = create_user("olga", display_name="Olga Propriétaire")
    create_user("alix", display_name="Alix Admin", is_admin=True)
    secret = create_community(
        "Cellule de crise", visibility="secret", join_policy="invite", owner=owner
    )
    create_post(secret, owner, "Plan de continuité confidentiel")
    return secret


def test_an_admin_asks_for_access_and_the_owner_ends_it(live_server, page, world):
    browser_sign_in(page, live_server, "alix")
    page.goto(f"{live_server}/admin/communities")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Cellule de crise").click()
    assert "Plan de continuité" not in page.content()
    page.get_by_label("Réquisition judiciaire").check()
    page.get_by_label("Justification").fill(JUSTIFICATION)
    page.get_by_label("24 heures").check()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Demander l'accès").click()
    assert "journal d'audit" in page.content()  # the confirmation page says what happens
    assert axe_violations(page) == []
    page.get_by_role("button", name="Ouvrir l'accès").click()
    page.get_by_role("link", name="Ouvrir la communauté").click()
    assert "Plan de continuité confidentiel" in page.content()

    page.context.clear_cookies()
    browser_sign_in(page, live_server, "olga")
    page.goto(f"{live_server}/c/{world.slug}")
    banner = page.get_by_role("note").filter(has_text="accès exceptionnel")
    assert "Réquisition judiciaire" in banner.inner_text()
    assert axe_violations(page) == []
    banner.get_by_role("link", name="Voir le détail").click()
    assert JUSTIFICATION in page.content()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Mettre fin").click()
    page.get_by_role("button", name="Mettre fin").click()  # the confirmation page
    assert "L'accès exceptionnel a pris fin." in page.content()
    page.goto(f"{live_server}/c/{world.slug}")
    assert page.get_by_role("note").filter(has_text="accès exceptionnel").count() == 0
