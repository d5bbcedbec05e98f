"""Every write on date polls: proposing slots, answering, closing into an event.

Closing is one transaction: the poll is locked and checked open again, the event is created
from the chosen slot, the slot marked and the participants told.  Answers after closing are
refused, even when they were sent from a page loaded before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.events.models import (
    DEFAULT_TIMEZONE,
    Availability,
    DatePoll,
    DatePollAnswer,
    DatePollSlot,
    Event,
)
from maillage.communities.events.operations import (
    EventFields,
    clean_place,
    clean_times,
    clean_title,
    clean_video_url,
    create_event,
    render_markdown,
)
from maillage.communities.events.times import zone
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db

MIN_SLOTS, MAX_SLOTS = 2, 20


@dataclass
class DatePollFields:
    title: str
    #: (start, end) aware datetimes
    slots: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    description: str = ""
    timezone: str = DEFAULT_TIMEZONE
    place: str = ""
    video_url: str = ""


def poll_path(poll: DatePoll) -> str:
    return f"/c/{poll.community.slug}/events/polls/{poll.id}"


def _clean_slots(slots) -> list[tuple[dt.datetime, dt.datetime]]:
    cleaned = sorted(clean_times(start, end) for start, end in slots)
    if len(cleaned) < MIN_SLOTS:
        raise OperationError(_l("Proposez au moins %(n)d créneaux."), n=MIN_SLOTS)
    if len(cleaned) > MAX_SLOTS:
        raise OperationError(_l("Proposez %(n)d créneaux au plus."), n=MAX_SLOTS)
    if len(set(cleaned)) != len(cleaned):
        raise OperationError(_l("Deux créneaux proposés sont identiques."))
    return cleaned


def create_date_poll(community: Community, organiser: User, fields: DatePollFields) -> DatePoll:
    if not can(organiser, "post", community):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent proposer des dates."))
    if not is_enabled(community, "events"):
        raise OperationError(_l("Les événements sont désactivés dans cette communauté."))
    zone(fields.timezone)
    slots = _clean_slots(fields.slots)
    poll = DatePoll(
        community=community,
        organiser=organiser,
        title=clean_title(fields.title),
        description_source=fields.description or "",
        description_html=render_markdown(fields.description or ""),
        timezone=fields.timezone,
        place=clean_place(fields.place),
        video_url=clean_video_url(fields.video_url),
    )
    db.session.add(poll)
    for starts_at, ends_at in slots:
        db.session.add(DatePollSlot(poll=poll, starts_at=starts_at, ends_at=ends_at))
    db.session.flush()
    record(organiser, "event_date_poll.create", poll, community=community.id)
    signals.content_created.send(poll, community=community, actor=organiser)
    signals.notification_requested.send(
        poll,
        community=community,
        actor=organiser,
        reason="new_content",
        url=poll_path(poll),
        title=poll.title,
        recipients=None,
    )
    return poll


def _lock_open(poll: DatePoll) -> None:
    db.session.flush()
    # The row alone: PostgreSQL refuses FOR UPDATE on the outer joins of eager relationships.
    db.session.execute(select(DatePoll.id).where(DatePoll.id == poll.id).with_for_update())
    db.session.refresh(poll)
    if not poll.is_open:
        raise OperationError(_l("Ce sondage est clos : les réponses ne sont plus possibles."))


def answer_date_poll(poll: DatePoll, user: User, answers: dict[int, str]) -> list[DatePollAnswer]:
    """Record ``user``'s availability per slot (``{slot_id: yes|if_need_be|no}``); slots left
    out keep their previous answer."""
    if not can(user, "answer", poll):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent répondre."))
    slot_ids = {slot.id for slot in poll.slots}
    if not answers:
        raise OperationError(_l("Indiquez votre disponibilité pour au moins un créneau."))
    if not set(answers) <= slot_ids:
        raise OperationError(_l("Ce créneau n'appartient pas à ce sondage."))
    if not set(answers.values()) <= set(Availability):
        raise OperationError(_l("Réponse inconnue : choisissez oui, si besoin ou non."))
    _lock_open(poll)
    existing = {
        row.slot_id: row
        for row in db.session.scalars(
            select(DatePollAnswer).where(
                DatePollAnswer.slot_id.in_(slot_ids), DatePollAnswer.user_id == user.id
            )
        )
    }
    saved = []
    try:
        with db.session.begin_nested():
            for slot_id, availability in sorted(answers.items()):
                row = existing.get(slot_id)
                if row is None:
                    row = DatePollAnswer(slot_id=slot_id, user_id=user.id)
                    db.session.add(row)
                row.availability, row.answered_at = availability, utcnow()
                saved.append(row)
    except IntegrityError as exc:  # the same person sent the form twice at the same moment
        raise Conflict(
            _l("Vos réponses viennent d'être enregistrées : rechargez la page.")
        ) from exc
    record(user, "event_date_poll.answer", poll, slots=len(saved))
    return saved


def respondents(poll: DatePoll) -> list[User]:
    """Everyone who answered at least one slot, in order of first answer."""
    first = (
        select(DatePollAnswer.user_id, db.func.min(DatePollAnswer.answered_at).label("answered_at"))
        .join(DatePollSlot, DatePollSlot.id == DatePollAnswer.slot_id)
        .where(DatePollSlot.poll_id == poll.id)
        .group_by(DatePollAnswer.user_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(User)
            .join(first, first.c.user_id == User.id)
            .order_by(first.c.answered_at, User.id)
        )
    )


def close_date_poll(
    poll: DatePoll, actor: User, slot_id: int | None, capacity: int | None = None
) -> Event:
    """Choose ``slot_id``: the poll closes and the event is created, in one transaction."""
    if not can(actor, "close", poll):
        raise NotAllowed(
            _l("Seuls l'organisateur et les animateurs peuvent clore ce sondage de dates.")
        )
    slot = next((slot for slot in poll.slots if slot.id == slot_id), None)
    if slot is None:
        raise OperationError(_l("Choisissez le créneau retenu parmi ceux du sondage."))
    _lock_open(poll)
    event = create_event(
        poll.community,
        actor,
        EventFields(
            title=poll.title,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            description=poll.description_source,
            timezone=poll.timezone,
            place=poll.place,
            video_url=poll.video_url,
            capacity=capacity,
        ),
    )
    slot.chosen = True
    poll.closed_at, poll.event = utcnow(), event
    record(actor, "event_date_poll.close", poll, slot=slot.id, event=event.id)
    signals.content_updated.send(poll, community=poll.community, actor=actor)
    people = [user for user in respondents(poll) if user.id != actor.id]
    if people:
        signals.notification_requested.send(
            event,
            community=poll.community,
            actor=actor,
            reason="poll_closed",
            url=f"/c/{poll.community.slug}/events/{event.id}",
            title=event.title,
            recipients=people,
        )
    return event
