"""In Debian's chromium: the sign-in buttons are accessible, and the strict CSP lets the sign-out
form's redirect reach the provider (Chrome applies form-action to redirects after a POST)."""

from __future__ import annotations

import pytest

from tests.conftest import axe_violations

pytestmark = pytest.mark.browser


def test_sign_in_page_with_providers_is_accessible(serve, page):
    live = serve()
    page.goto(f"{live.url}/login")
    button = page.get_by_role("button", name="S’identifier avec ProConnect")
    assert button.is_visible()
    box = button.bounding_box()
    assert (box["width"], box["height"]) == (214, 56)  # the published button's size
    drawn = page.evaluate(
        "getComputedStyle(document.querySelector('.proconnect-button')).backgroundImage"
    )
    assert drawn.endswith('/oidc/static/oidc/proconnect-button.svg")')
    # Where background images are not drawn (forced colours), the words show instead.
    page.emulate_media(forced_colors="active")
    assert page.locator(".proconnect-sr-only").bounding_box()["width"] > 100
    page.emulate_media(forced_colors="none")
    assert page.get_by_role("link", name="Se connecter avec Keycloak du ministère").is_visible()
    assert (
        page.get_by_role("link", name="Qu’est-ce que ProConnect ? (nouvelle fenêtre)").count() == 1
    )
    assert axe_violations(page) == []


def test_sign_in_and_out_through_the_provider_in_a_browser(serve, page):
    live = serve()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live.url}/login")
    page.get_by_role("button", name="S’identifier avec ProConnect").click()
    page.get_by_label("Identifiant").fill("agent")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live.url}/")
    assert page.get_by_text("Vous êtes connecté.").is_visible()

    page.get_by_role("button", name="Se déconnecter").click()
    # The provider asks to confirm (oidc-provider's own page), then comes back.
    page.locator("button[value=yes]").click(timeout=5000)
    page.wait_for_url(f"{live.url}/")
    assert page.get_by_text(
        "Vous êtes déconnecté, de cette plateforme comme de ProConnect."
    ).is_visible()
    assert blocked == []
