"""Events in search (provider, audience, kind registration) and the demo events."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from maillage.communities.community.models import Community
from maillage.communities.events.models import DatePoll, DatePollAnswer, Event, Rsvp
from maillage.communities.events.operations import EventFields, delete_event, edit_event
from maillage.communities.permissions import can
from maillage.communities.search.kinds import SEARCH_KINDS
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.search.backend import PUBLIC, community_audience, get_backend
from tests.communities.test_events_support import count

pytest_plugins = ("tests.communities.test_events_support",)


def found(q: str, audiences) -> set[tuple[str, int]]:
    return {(hit.kind, hit.object_id) for hit in get_backend().search(q, audiences).hits}


def test_events_are_indexed_with_the_audience_of_their_community(
    app, people, public, private, make_event
):
    open_event = make_event(
        public, people["member"], "Webinaire clauses environnementales", place="Montpellier"
    )
    closed = make_event(private, people["member"], "Réunion confidentielle", description="budget")
    assert found("environnementales", {PUBLIC}) == {("event", open_event.id)}
    assert found("Montpellier", {PUBLIC}) == {("event", open_event.id)}
    assert found("budget", {PUBLIC}) == set()
    assert found("budget", {PUBLIC, community_audience(private.id)}) == {("event", closed.id)}

    edit_event(
        open_event,
        people["member"],
        EventFields("Webinaire marchés de travaux", open_event.starts_at, open_event.ends_at),
    )
    db.session.commit()
    assert found("environnementales", {PUBLIC}) == set()
    assert found("travaux", {PUBLIC}) == {("event", open_event.id)}
    delete_event(open_event, people["member"])
    db.session.commit()
    assert found("travaux", {PUBLIC}) == set()


def test_the_event_kind_presents_hits_and_lists_a_community(
    app, people, public, private, make_event
):
    event = make_event(public, people["member"], "Séminaire", place="Toulouse")
    kind = SEARCH_KINDS["event"]
    assert str(kind.singular) == "Événement"
    (loaded,) = kind.load([event.id])
    shown = kind.present(loaded)
    assert shown.title == "Séminaire"
    assert shown.url == f"/c/acheteurs/events/{event.id}"
    assert shown.community.slug == "acheteurs"
    assert shown.author.username == "marc"
    assert "Toulouse" in shown.text
    assert list(kind.ids_in_community(db.session, public.id)) == [event.id]
    hidden = make_event(private, people["member"], "Réunion du club")
    assert can(people["outsider"], "view", event)
    assert not can(people["outsider"], "view", hidden)
    assert can(people["guest"], "view", hidden)


def _demo_base(monkeypatch) -> tuple[dict, dict]:
    """The platform demo without the other modules' demos, then ours alone."""
    from maillage.communities import demo

    monkeypatch.setattr(demo, "_load_module_demos", lambda *args: None)
    demo.load_demo()
    people = {user.username: user for user in db.session.scalars(select(User))}
    communities = {c.slug: c for c in db.session.scalars(select(Community))}
    return people, communities


def test_demo_events(app, monkeypatch):
    from maillage.communities.events.demo import load_demo

    people, communities = _demo_base(monkeypatch)
    load_demo(people, communities, random.Random(2026))
    db.session.commit()

    events = db.session.scalars(select(Event)).all()
    assert len({event.community_id for event in events}) >= 4
    now = utcnow()
    assert any(event.ends_at < now for event in events)
    assert sum(event.starts_at > now for event in events) >= 4
    titles = " ".join(event.title for event in events)
    for word in ("Webinaire", "Réunion de réseau", "Séminaire"):
        assert word in titles
    assert db.session.scalar(select(func.count()).where(Rsvp.waitlisted)) >= 1
    for event in events:  # seat counters match the answers
        seated = db.session.scalar(
            select(func.count()).where(
                Rsvp.event_id == event.id, Rsvp.answer == "yes", ~Rsvp.waitlisted
            )
        )
        assert event.going_count == seated
    (poll,) = db.session.scalars(select(DatePoll)).all()
    assert poll.is_open
    assert len(poll.slots) == 3
    assert count(DatePollAnswer) == 9
    # past events had their answers before they started
    past = [event for event in events if event.ends_at < now]
    assert all(count(Rsvp, Rsvp.event_id == event.id) for event in past)
