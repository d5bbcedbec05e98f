"""*Mes sessions* in a real browser: reached from *Mon compte*, another browser's session ended
with the confirmation step; the page passes axe (RGAA / WCAG 2.1 AA)."""

from __future__ import annotations

import pytest

from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


def test_ending_another_browsers_session(browser, page, live_server, create_user):
    create_user("olga", display_name="Olga Martin")
    other_context = browser.new_context(locale="fr-FR")
    other = other_context.new_page()
    try:
        browser_sign_in(other, live_server, "olga")
        browser_sign_in(page, live_server, "olga")
        page.goto(live_server + "/account")
        page.get_by_role("link", name="Voir mes sessions ouvertes et en fermer une").click()
        assert page.locator("h1").inner_text() == "Mes sessions"
        assert page.get_by_text("(cette session)").count() == 1
        assert axe_violations(page) == []

        page.get_by_role("button", name="Fermer la session").first.click()
        page.wait_for_load_state()
        assert axe_violations(page) == []  # the confirmation step
        page.get_by_role("button", name="Fermer la session").click()
        page.wait_for_load_state()
        assert page.get_by_text("La session est fermée.").count() == 1
        assert page.get_by_text("(cette session)").count() == 1
        assert page.get_by_role("button", name="Fermer la session").count() == 0

        other.goto(live_server + "/account")
        assert "/login" in other.url
    finally:
        other_context.close()
