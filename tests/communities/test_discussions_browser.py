"""Discussions in a real browser (Debian's chromium through Playwright, CSRF enforced): a member
quotes a reply and answers without JavaScript-only controls; pages pass axe-core and fit a phone."""

from __future__ import annotations

import pytest

from maillage.communities.discussions import operations
from maillage.platform.extensions import db
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def thread(create_user, create_community):
    owner = create_user("camille", display_name="Camille Laurent")
    member = create_user("thomas", display_name="Thomas Girard")
    community = create_community(
        "Réseau des acheteurs", slug="acheteurs", owner=owner, members=[member]
    )
    topic = operations.create_topic(
        community, member, "Clause de révision des prix", "Faut-il une clause ? Avis de @camille ?"
    )
    reply = operations.add_reply(topic, owner, "Oui, au-delà de **trois mois**.")
    operations.set_pinned(topic, owner, True)
    db.session.commit()
    return topic, reply


def test_quote_then_answer_in_the_browser(page, live_server, thread):
    topic, reply = thread
    browser_sign_in(page, live_server, "thomas")
    page.goto(f"{live_server}/c/acheteurs/discussions")
    page.get_by_role("link", name="Clause de révision des prix", exact=True).click()
    page.get_by_role("link", name="Citer la réponse de Camille Laurent").click()
    body = page.get_by_label("Votre réponse")
    assert body.input_value().startswith("> **Camille Laurent** a écrit :")
    body.fill(body.input_value() + "Merci, c'est clair.")
    page.get_by_role("button", name="Répondre").click()
    page.get_by_text("Votre réponse est publiée.").wait_for()
    assert page.locator(".quote-ref", has_text="la réponse de Camille Laurent").count() == 1

    page.get_by_role("button", name="Retenir comme réponse la réponse de Camille Laurent").click()
    page.get_by_text("Cette réponse est retenue comme solution.").wait_for()
    assert page.locator("#answer-title").inner_text().endswith("Réponse retenue")
    assert page.locator(f"#reply-{reply.id}.reply-answer").count() == 1
    assert page.url.endswith(f"/c/acheteurs/discussions/{topic.id}#reply-{reply.id}")


def test_discussion_pages_have_no_serious_accessibility_violation(page, live_server, thread):
    topic, _reply = thread
    browser_sign_in(page, live_server, "thomas")
    for path in (
        "/c/acheteurs/discussions",
        f"/c/acheteurs/discussions/{topic.id}",
        "/c/acheteurs/discussions/new",
        f"/c/acheteurs/discussions/{topic.id}/edit",
    ):
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1, path
        assert axe_violations(page) == [], path


def test_discussion_pages_fit_a_phone_screen(phone, live_server, thread):
    topic, _reply = thread
    browser_sign_in(phone, live_server, "thomas")
    for path in ("/c/acheteurs/discussions", f"/c/acheteurs/discussions/{topic.id}"):
        phone.goto(live_server + path)
        assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, path
