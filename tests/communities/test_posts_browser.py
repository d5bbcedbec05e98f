"""Posts in a real browser (Debian's chromium through Playwright, CSRF enforced): the HTMX
enhancements of comments and reactions, and accessibility of the post page (axe-core)."""

from __future__ import annotations

import pytest

from tests.conftest import browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def discussion(create_user, create_community, create_post):
    owner = create_user("camille", display_name="Camille Laurent")
    member = create_user("thomas", display_name="Thomas Girard")
    community = create_community(
        "Réseau des acheteurs", slug="acheteurs", owner=owner, members=[member]
    )
    return create_post(community, owner, "Réunion du réseau", "Ordre du jour de la **réunion**.")


def test_react_and_comment_with_htmx_without_reloading(page, live_server, discussion):
    browser_sign_in(page, live_server, "thomas")
    page.goto(f"{live_server}/post/{discussion.id}")
    page.evaluate("window.__notReloaded = true")

    page.get_by_role("button", name="Réagir avec 🎉 (0)").click()
    pressed = page.get_by_role("button", name="Réagir avec 🎉 (1)")
    pressed.wait_for()
    assert pressed.get_attribute("aria-pressed") == "true"
    assert pressed.evaluate("element => element === document.activeElement")  # focus kept

    page.get_by_label("Votre commentaire").fill("Je serai *présent*.")
    page.get_by_role("button", name="Commenter").click()
    added = page.locator("#comment-list li.comment em", has_text="présent")
    added.wait_for()
    assert page.get_by_label("Votre commentaire").input_value() == ""  # a fresh form
    assert page.locator("#comment-count").inner_text() == "(1)"
    assert page.locator("#no-comments").count() == 0

    page.get_by_role("button", name="Commenter").click()  # empty: the message, nothing sent
    page.get_by_text("Le commentaire est vide.").first.wait_for()
    assert page.locator("#comment-list li.comment").count() == 1
    assert page.evaluate("window.__notReloaded") is True


def test_post_page_has_no_serious_accessibility_violation(page, live_server, discussion):
    from axe_playwright_python.sync_playwright import Axe

    browser_sign_in(page, live_server, "thomas")
    for path in (f"/post/{discussion.id}", "/c/acheteurs/posts/new", "/"):
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1
        violations = [
            f"{violation['id']}: {violation['help']}"
            for violation in Axe().run(page).response["violations"]
            if violation["impact"] in {"serious", "critical"}
        ]
        assert violations == [], path


def test_post_page_fits_a_phone_screen(browser, live_server, discussion):
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    browser_sign_in(phone, live_server, "thomas")
    for path in (f"/post/{discussion.id}", "/"):
        phone.goto(live_server + path)
        assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, path
    context.close()
