"""Events in a real browser (Debian's chromium through Playwright, CSRF enforced): proposing an
event and answering with plain forms, accessibility (axe-core) and phone screens."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.communities.events.date_polls import (
    DatePollFields,
    answer_date_poll,
    create_date_poll,
)
from maillage.communities.events.operations import respond
from maillage.platform.extensions import db
from tests.communities.test_events_support import PARIS, in_days
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser
pytest_plugins = ("tests.communities.test_events_support",)


@pytest.fixture
def scene(people, public, make_event):
    event = make_event(public, people["owner"], "Séminaire des acheteurs", capacity=1)
    respond(event, people["other"], "yes")
    respond(event, people["third"], "yes")
    poll = create_date_poll(
        public,
        people["facilitator"],
        DatePollFields(
            title="Réunion de réseau",
            slots=[(in_days(10, 9), in_days(10, 11)), (in_days(11, 14), in_days(11, 16))],
        ),
    )
    answer_date_poll(poll, people["other"], {poll.slots[0].id: "yes", poll.slots[1].id: "no"})
    db.session.commit()
    return event, poll


def test_member_proposes_an_event_and_answers_without_javascript(
    browser, live_server, people, public
):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    browser_sign_in(page, live_server, "marc")
    page.goto(f"{live_server}/c/acheteurs/events")
    page.get_by_role("link", name="Proposer un événement").click()
    page.get_by_label("Titre").fill("Webinaire achats responsables")
    day = (dt.datetime.now(PARIS).date() + dt.timedelta(days=9)).isoformat()
    page.get_by_label("Date de début").fill(day)
    page.get_by_label("Heure de début").fill("10:00")
    page.get_by_label("Heure de fin").fill("09:00")
    page.get_by_role("button", name="Publier l'événement").click()
    page.get_by_role("alert").get_by_text("La fin doit être après le début.").wait_for()
    page.get_by_label("Heure de fin").fill("11:30")
    page.get_by_role("button", name="Publier l'événement").click()
    page.get_by_role("heading", level=1, name="Webinaire achats responsables").wait_for()
    page.get_by_role("button", name="Je participe").click()
    page.locator("#rsvp-status", has_text="Vous participez.").wait_for()
    assert page.get_by_role("button", name="Je participe").get_attribute("aria-pressed") == "true"
    context.close()


def test_events_pages_have_no_serious_accessibility_violation(page, live_server, scene):
    event, poll = scene
    browser_sign_in(page, live_server, "olga")
    for path in (
        "/c/acheteurs/events",
        f"/c/acheteurs/events/{event.id}",
        "/c/acheteurs/events/new",
        "/c/acheteurs/events/polls/new",
        f"/c/acheteurs/events/polls/{poll.id}",
        "/agenda",
    ):
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1, path
        assert axe_violations(page) == [], path
    # a form in error
    page.goto(f"{live_server}/c/acheteurs/events/new")
    page.get_by_role("button", name="Publier l'événement").click()
    page.get_by_role("alert").wait_for()
    assert axe_violations(page) == []


def test_events_pages_fit_a_phone_screen(phone, live_server, scene):
    event, poll = scene
    browser_sign_in(phone, live_server, "fanny")
    for path in (
        "/c/acheteurs/events",
        f"/c/acheteurs/events/{event.id}",
        "/c/acheteurs/events/new",
        f"/c/acheteurs/events/polls/{poll.id}",
        "/agenda",
    ):
        phone.goto(live_server + path)
        assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, path
