"""Reads shared by the events pages and feeds; each is a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from maillage.communities.community.models import Community
from maillage.communities.events.models import (
    Answer,
    DatePoll,
    DatePollAnswer,
    DatePollSlot,
    Event,
    Rsvp,
)
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can, roles_of
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

#: Feeds cover events from this long ago, and at most this many.
FEED_HISTORY = dt.timedelta(days=365)
FEED_LIMIT = 1000


@dataclass
class EventPage:
    items: list
    page: int
    pages: int
    total: int


def _paginate(statement, page: int, per_page: int) -> EventPage:
    total = db.session.scalar(select(db.func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = list(db.session.scalars(statement.offset((page - 1) * per_page).limit(per_page)))
    return EventPage(items, page, pages, total)


def upcoming_events(community: Community, page: int = 1, per_page: int = 20) -> EventPage:
    """Events not over yet (those under way included), soonest first."""
    statement = (
        select(Event)
        .where(Event.community_id == community.id, Event.ends_at >= utcnow())
        .order_by(Event.starts_at, Event.id)
    )
    return _paginate(statement, page, per_page)


def past_events(community: Community, page: int = 1, per_page: int = 20) -> EventPage:
    statement = (
        select(Event)
        .where(Event.community_id == community.id, Event.ends_at < utcnow())
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    return _paginate(statement, page, per_page)


def viewer_answers(event_ids: list[int], viewer: User | None) -> dict[int, Rsvp]:
    """``{event_id: the viewer's answer}`` for a page of events, in one query."""
    if viewer is None or not event_ids:
        return {}
    rows = db.session.scalars(
        select(Rsvp).where(Rsvp.event_id.in_(event_ids), Rsvp.user_id == viewer.id)
    )
    return {rsvp.event_id: rsvp for rsvp in rows}


def event_for_page(event_id: int) -> Event | None:
    """One event with its community and organiser, in one query."""
    return db.session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .options(joinedload(Event.community), joinedload(Event.organiser))
    )


@dataclass
class Responses:
    going: list[Rsvp] = field(default_factory=list)
    waiting: list[Rsvp] = field(default_factory=list)
    maybe: list[Rsvp] = field(default_factory=list)
    declined: int = 0


def event_responses(event: Event) -> Responses:
    """Who comes, who waits (in line order), who may come, in one query."""
    responses = Responses()
    rows = db.session.scalars(
        select(Rsvp)
        .where(Rsvp.event_id == event.id)
        .options(joinedload(Rsvp.user))
        .order_by(Rsvp.answered_at, Rsvp.id)
    )
    for rsvp in rows:
        if rsvp.answer == Answer.YES:
            (responses.waiting if rsvp.waitlisted else responses.going).append(rsvp)
        elif rsvp.answer == Answer.MAYBE:
            responses.maybe.append(rsvp)
        else:
            responses.declined += 1
    return responses


# -- date polls --------------------------------------------------------------------------------


def open_polls(community: Community, limit: int = 20) -> list[DatePoll]:
    return list(
        db.session.scalars(
            select(DatePoll)
            .where(DatePoll.community_id == community.id, DatePoll.closed_at.is_(None))
            .options(selectinload(DatePoll.slots))
            .order_by(DatePoll.created_at.desc(), DatePoll.id.desc())
            .limit(limit)
        )
    )


def poll_for_page(poll_id: int) -> DatePoll | None:
    return db.session.scalar(
        select(DatePoll)
        .where(DatePoll.id == poll_id)
        .options(
            joinedload(DatePoll.community),
            joinedload(DatePoll.organiser),
            selectinload(DatePoll.slots),
        )
    )


@dataclass
class PollResults:
    #: (person, {slot_id: availability}) in order of first answer
    rows: list[tuple[User, dict[int, str]]]
    #: {slot_id: Counter(availability)}
    totals: dict[int, Counter]


def poll_results(poll: DatePoll) -> PollResults:
    """Every answer of the poll with the people who gave them, in one query."""
    answers = db.session.scalars(
        select(DatePollAnswer)
        .join(DatePollSlot, DatePollSlot.id == DatePollAnswer.slot_id)
        .where(DatePollSlot.poll_id == poll.id)
        .options(joinedload(DatePollAnswer.user))
        .order_by(DatePollAnswer.answered_at, DatePollAnswer.id)
    )
    people: dict[int, tuple[User, dict[int, str]]] = {}
    totals: dict[int, Counter] = defaultdict(Counter)
    for answer in answers:
        people.setdefault(answer.user_id, (answer.user, {}))[1][answer.slot_id] = (
            answer.availability
        )
        totals[answer.slot_id][answer.availability] += 1
    return PollResults(list(people.values()), totals)


# -- feeds and the personal agenda -------------------------------------------------------------


def _shown(events, viewer: User | None) -> list[Event]:
    """Events the viewer may read, in communities whose events module is on."""
    return [
        event
        for event in events
        if is_enabled(event.community, "events") and can(viewer, "view", event)
    ]


def community_feed_events(community: Community) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.community_id == community.id, Event.ends_at >= utcnow() - FEED_HISTORY)
            .options(joinedload(Event.community))
            .order_by(Event.starts_at, Event.id)
            .limit(FEED_LIMIT)
        )
    )


def person_feed_events(user: User) -> list[Event]:
    """Events of the person's communities they did not decline, and those they said they would
    (or might) attend elsewhere; only what they may still read."""
    answered = select(Rsvp.event_id).where(
        Rsvp.user_id == user.id, Rsvp.answer.in_([Answer.YES, Answer.MAYBE])
    )
    declined = select(Rsvp.event_id).where(Rsvp.user_id == user.id, Rsvp.answer == Answer.NO)
    events = db.session.scalars(
        select(Event)
        .where(
            or_(Event.community_id.in_(list(roles_of(user))), Event.id.in_(answered)),
            Event.id.not_in(declined),
            Event.ends_at >= utcnow() - FEED_HISTORY,
        )
        .options(joinedload(Event.community))
        .order_by(Event.starts_at, Event.id)
        .limit(FEED_LIMIT)
    )
    return _shown(events, user)


def my_upcoming(user: User, limit: int = 50) -> list[tuple[Event, Rsvp]]:
    """Upcoming events the person said they would (or might) attend, with their answer."""
    rows = db.session.execute(
        select(Event, Rsvp)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(
            Rsvp.user_id == user.id,
            Rsvp.answer.in_([Answer.YES, Answer.MAYBE]),
            Event.ends_at >= utcnow(),
        )
        .options(joinedload(Event.community))
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    ).all()
    shown = set(_shown([row.Event for row in rows], user))
    return [(row.Event, row.Rsvp) for row in rows if row.Event in shown]
