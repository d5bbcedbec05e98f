"""A destructive action's confirmation step, by keyboard only, on an HTMX-enhanced form: leaving
a community asks first (the question replaces the main content and takes the focus), then
« Quitter » acts; the confirmation page has no accessibility violation of any impact."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from maillage.communities.community.operations import membership_of
from maillage.platform.extensions import db
from tests.conftest import browser_sign_in

pytestmark = pytest.mark.browser


def tab_to(page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused element is the one named ``name``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.innerText")
        if focused and focused.strip() == name:
            return
    raise AssertionError(f"{name!r} is never reached with Tab")


def test_leaving_a_community_asks_first_by_keyboard(
    page, live_server, create_user, create_community
):
    anne = create_user("anne", display_name="Anne Martin")
    community = create_community("Réseau RH", slug="reseau-rh", members=[anne])
    browser_sign_in(page, live_server, "anne")
    page.goto(f"{live_server}/c/reseau-rh")
    page.evaluate("window.notReloaded = true")

    tab_to(page, "Quitter la communauté")
    page.keyboard.press("Enter")

    heading = page.locator("#contenu h1#confirmation-title")
    expect(heading).to_have_text("Quitter la communauté « Réseau RH » ?")
    expect(heading).to_be_focused()
    assert page.evaluate("window.notReloaded") is True  # HTMX swapped the main content
    violations = Axe().run(page).response["violations"]
    assert [(v["id"], v["impact"]) for v in violations] == []
    db.session.expire_all()
    assert membership_of(community, anne) is not None  # nothing happened yet

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.innerText")
    assert focused.strip() == "Quitter"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.get_by_text("Vous avez quitté « Réseau RH ».")).to_be_visible()
    db.session.expire_all()
    assert membership_of(community, anne) is None
