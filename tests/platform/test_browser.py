"""Real browser checks: Debian's chromium driven by Playwright, axe-core for accessibility.

The app is served by a real HTTP server on a free loopback port; CSRF is enforced as in
production.  Never downloads a browser: ``/usr/bin/chromium`` must be installed (``make test``
installs it with apt-get).
"""

from __future__ import annotations

import pytest

from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_world(create_user, create_community, create_post):
    owner = create_user("camille", display_name="Camille Laurent")
    member = create_user("thomas", display_name="Thomas Girard")
    public = create_community(
        "Réseau des acheteurs publics",
        owner=owner,
        slug="acheteurs",
        description="Veille et mutualisation des achats.",
        members=[member],
    )
    create_post(public, owner, "Réunion du réseau", "Ordre du jour de la **réunion**.")
    create_community("Club des animateurs", owner=owner, slug="club", join_policy="request")
    return {"owner": owner, "member": member, "public": public}


PAGES = [
    "/",
    "/communities",
    "/c/acheteurs",
    "/search?q=reunion",
    "/login",
    "/signup",
    "/members",
    "/u/camille",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_serious_accessibility_violations(page, live_server, demo_world, path):
    page.goto(live_server + path)
    assert page.locator("h1").count() == 1
    assert page.locator("main").count() == 1
    assert axe_violations(page) == []


def test_signed_in_pages_are_accessible(page, live_server, demo_world):
    browser_sign_in(page, live_server, "thomas")
    for path in ["/", "/c/acheteurs", "/account"]:
        page.goto(live_server + path)
        assert axe_violations(page) == [], path


@pytest.mark.parametrize("path", ["/", "/communities", "/c/acheteurs"])
def test_phone_layout_does_not_scroll_sideways(phone, live_server, demo_world, path):
    phone.goto(live_server + path)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1


def test_skip_link_moves_focus_to_the_content(page, live_server, demo_world):
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    assert skip.evaluate("element => element === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#contenu"


def test_join_with_htmx_updates_the_button_without_reloading(
    page, live_server, demo_world, create_user
):
    create_user("ines")
    browser_sign_in(page, live_server, "ines")
    page.goto(live_server + "/c/acheteurs")
    page.evaluate("window.__notReloaded = true")
    page.get_by_role("button", name="Rejoindre").click()
    page.get_by_role("button", name="Quitter").wait_for()
    assert page.evaluate("window.__notReloaded") is True


def test_react_and_comment_without_javascript(browser, live_server, demo_world):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    browser_sign_in(page, live_server, "thomas")
    page.goto(live_server + "/c/acheteurs")
    page.get_by_role("link", name="Réunion du réseau").click()
    page.get_by_role("button", name="Réagir avec 👍").first.click()
    assert (
        page.get_by_role("button", name="Réagir avec 👍").first.get_attribute("aria-pressed")
        == "true"
    )
    page.get_by_label("Votre commentaire").fill("Je serai présent à la réunion.")
    page.get_by_role("button", name="Commenter").click()
    assert page.get_by_text("Je serai présent à la réunion.").is_visible()
    context.close()


def test_english_switch(page, live_server, demo_world):
    page.goto(live_server + "/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Communities").first.is_visible()
