"""Events, answers (RSVP), date polls and calendar feed keys in the personal data registry.

Answers, date poll availabilities and the calendar feed key are private traces: always deleted;
a seat the person held is released and, for an event still to come, goes to the first person
waiting (as when they answer no).  Events and date polls they organised stay when they keep
their contributions, otherwise they are deleted as ``delete_event`` does it.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.events.models import (
    Answer,
    CalendarFeedKey,
    DatePoll,
    DatePollAnswer,
    DatePollSlot,
    Event,
    Rsvp,
)
from maillage.communities.events.operations import _fill_seats, _release_seat
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import Erasure, holds_personal_data
from maillage.platform.personal_data.rows import as_dict, delete_rows, export_rows


def export_events(user) -> list[dict]:
    return export_rows(
        select(
            Event.id,
            Event.ap_id.label("url"),
            Community.slug.label("community"),
            Event.title,
            Event.description_source.label("description_markdown"),
            Event.starts_at,
            Event.ends_at,
            Event.timezone,
            Event.place,
            Event.video_url,
            Event.capacity,
            Event.cancelled,
            Event.created_at,
        )
        .join(Community, Community.id == Event.community_id)
        .where(Event.organiser_id == user.id),
        Event.id,
    )


def export_answers(user) -> list[dict]:
    return export_rows(
        select(
            Rsvp.id,
            Rsvp.event_id,
            Event.title.label("event_title"),
            Event.ap_id.label("event_url"),
            Event.starts_at.label("event_starts_at"),
            Community.slug.label("community"),
            Rsvp.answer,
            Rsvp.waitlisted,
            Rsvp.answered_at,
        )
        .join(Event, Event.id == Rsvp.event_id)
        .join(Community, Community.id == Event.community_id)
        .where(Rsvp.user_id == user.id),
        Rsvp.id,
    )


def erase_answers(user, _erasure) -> None:
    seated = db.session.scalars(
        select(Rsvp).where(Rsvp.user_id == user.id, Rsvp.answer == Answer.YES, ~Rsvp.waitlisted)
    ).all()
    now = utcnow()
    for rsvp in seated:
        event = rsvp.event
        db.session.delete(rsvp)
        db.session.flush()
        _release_seat(event)
        if not event.cancelled and event.starts_at > now:
            _fill_seats(event, user)
    delete_rows(Rsvp, Rsvp.user_id == user.id)


def erase_events(user, erasure: Erasure) -> None:
    if erasure != Erasure.DELETE_CONTENT:
        return
    for event in db.session.scalars(select(Event).where(Event.organiser_id == user.id)).all():
        signals.content_deleted.send(event, community=event.community, actor=user)
        db.session.execute(delete(Rsvp).where(Rsvp.event_id == event.id))
        db.session.execute(
            update(DatePoll).where(DatePoll.event_id == event.id).values(event_id=None)
        )
        db.session.delete(event)
    db.session.flush()


def export_date_polls(user) -> list[dict]:
    return export_rows(
        select(
            DatePoll.id,
            Community.slug.label("community"),
            DatePoll.title,
            DatePoll.description_source.label("description_markdown"),
            DatePoll.place,
            DatePoll.created_at,
            DatePoll.closed_at,
            DatePoll.event_id,
        )
        .join(Community, Community.id == DatePoll.community_id)
        .where(DatePoll.organiser_id == user.id),
        DatePoll.id,
    )


def erase_date_polls(user, erasure: Erasure) -> None:
    if erasure != Erasure.DELETE_CONTENT:
        return
    polls = select(DatePoll.id).where(DatePoll.organiser_id == user.id)
    slots = select(DatePollSlot.id).where(DatePollSlot.poll_id.in_(polls))
    delete_rows(DatePollAnswer, DatePollAnswer.slot_id.in_(slots))
    delete_rows(DatePollSlot, DatePollSlot.poll_id.in_(polls))
    delete_rows(DatePoll, DatePoll.organiser_id == user.id)


def export_date_poll_answers(user) -> list[dict]:
    return export_rows(
        select(
            DatePollAnswer.id,
            DatePollSlot.poll_id,
            DatePoll.title.label("poll_title"),
            DatePollSlot.starts_at.label("slot_starts_at"),
            DatePollSlot.ends_at.label("slot_ends_at"),
            DatePollAnswer.availability,
            DatePollAnswer.answered_at,
        )
        .join(DatePollSlot, DatePollSlot.id == DatePollAnswer.slot_id)
        .join(DatePoll, DatePoll.id == DatePollSlot.poll_id)
        .where(DatePollAnswer.user_id == user.id),
        DatePollAnswer.id,
    )


def export_feed_key(user) -> list[dict]:
    rows = db.session.execute(
        select(CalendarFeedKey.created_at).where(CalendarFeedKey.user_id == user.id)
    )
    return [{"calendar_feed": True, **as_dict(row)} for row in rows]


holds_personal_data(Event, section="events", export=export_events, erase=erase_events)
holds_personal_data(Rsvp, section="event_answers", export=export_answers, erase=erase_answers)
holds_personal_data(
    DatePoll, section="event_date_polls", export=export_date_polls, erase=erase_date_polls
)
holds_personal_data(
    DatePollAnswer,
    section="event_date_poll_answers",
    export=export_date_poll_answers,
    erase=lambda user, _erasure: delete_rows(DatePollAnswer, DatePollAnswer.user_id == user.id),
)
holds_personal_data(
    CalendarFeedKey,
    section="calendar_feed",
    export=export_feed_key,
    erase=lambda user, _erasure: delete_rows(CalendarFeedKey, CalendarFeedKey.user_id == user.id),
)
