"""The notifications pages in a real browser: accessibility, phone layout, HTMX marking read."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def world(create_user, create_community, create_post):
    olga = create_user("olga", display_name="Olga Martin")
    marc = create_user("marc", display_name="Marc Durand")
    community = create_community("Achats publics", owner=olga, slug="achats", members=[marc])
    create_post(community, olga, "Marché de nettoyage des locaux de la préfecture")
    create_post(community, olga, "Sourcing")
    return {"olga": olga, "marc": marc}


def test_notification_pages_are_accessible(page, live_server, world):
    browser_sign_in(page, live_server, "marc")
    for path in ["/notifications", "/notifications/preferences"]:
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1
        assert axe_violations(page) == [], path


def test_phone_layout_of_the_notifications_page(phone, live_server, world):
    browser_sign_in(phone, live_server, "marc")
    phone.goto(live_server + "/notifications")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1


def test_marking_read_with_htmx_updates_the_item_and_the_bell(page, live_server, world):
    browser_sign_in(page, live_server, "marc")
    page.goto(live_server + "/notifications")
    bell = page.locator("#notification-bell")
    assert "2 non lues" in bell.inner_text()
    page.evaluate("window.notReloaded = true")
    button = page.get_by_role("button", name="Marquer comme lue : Sourcing")
    button.click()
    button.wait_for(state="detached")
    assert page.get_by_text("Notification marquée comme lue.").count() == 1
    expect(bell).to_contain_text("1 non lue")
    expect(page.locator(".notification-unread")).to_have_count(1)
    assert page.evaluate("window.notReloaded") is True

    page.get_by_role("button", name="Tout marquer comme lu").click()
    page.get_by_role("button", name="Tout marquer comme lu").wait_for(state="detached")
    expect(bell).not_to_contain_text("non lue")
    expect(page.locator(".notification-unread")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
