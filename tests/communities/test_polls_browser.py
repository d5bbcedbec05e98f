"""Polls in a real browser (Debian's chromium through Playwright, CSRF enforced): a member votes
without JavaScript-only controls, the chart is an accessible image, pages pass axe-core and fit
a phone."""

from __future__ import annotations

import pytest

from maillage.communities.polls import operations
from maillage.communities.polls.operations import PollSpec, QuestionSpec
from maillage.platform.extensions import db
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def poll(create_user, create_community):
    owner = create_user("camille", display_name="Camille Laurent")
    member = create_user("thomas", display_name="Thomas Girard")
    other = create_user("paul", display_name="Paul Garnier")
    community = create_community(
        "Réseau des acheteurs", slug="acheteurs", owner=owner, members=[member, other]
    )
    created = operations.create_poll(
        community,
        owner,
        PollSpec(
            title="Thèmes de la journée du réseau",
            questions=[
                QuestionSpec(
                    "",
                    ["Clauses sociales", "Achats d'énergie", "Dématérialisation des marchés"],
                    multiple=True,
                    max_choices=2,
                )
            ],
        ),
    )
    db.session.flush()
    options = {o.label: o.id for o in created.questions[0].options}
    operations.vote(created, other, [options["Clauses sociales"]])
    db.session.commit()
    return created


def test_a_member_votes_and_reads_the_chart(page, live_server, poll):
    browser_sign_in(page, live_server, "thomas")
    page.goto(f"{live_server}/c/acheteurs/polls")
    page.get_by_role("link", name="Thèmes de la journée du réseau").click()
    page.get_by_role("checkbox", name="Clauses sociales").check()
    page.get_by_role("checkbox", name="Achats d'énergie").check()
    page.get_by_role("button", name="Voter").click()
    page.get_by_text("Votre vote est enregistré.").wait_for()
    chart = page.get_by_role("img", name="Résultats de « Thèmes de la journée du réseau »")
    assert "Clauses sociales : 2 votes (100" in chart.get_attribute("aria-label")
    assert page.get_by_role("table").get_by_role("row").count() == 4


def test_poll_pages_have_no_serious_accessibility_violation(page, live_server, poll):
    browser_sign_in(page, live_server, "thomas")
    for path in (
        "/c/acheteurs/polls",
        f"/c/acheteurs/polls/{poll.id}",
        "/c/acheteurs/polls/new",
    ):
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1, path
        assert axe_violations(page) == [], path


def test_poll_pages_fit_a_phone_screen(phone, live_server, poll):
    browser_sign_in(phone, live_server, "paul")
    for path in ("/c/acheteurs/polls", f"/c/acheteurs/polls/{poll.id}", "/c/acheteurs/polls/new"):
        phone.goto(live_server + path)
        assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, path
