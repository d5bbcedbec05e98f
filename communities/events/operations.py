"""Every write on events and their answers (RSVP, waiting list).

Seats are counted in ``Event.going_count``, changed only by conditional UPDATEs (``going_count <
capacity``) inside the caller's transaction, after the event row is locked (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite serialises writers).  So when two people take the last seat at
the same time, the database gives it to one of them and puts the other on the waiting list.
Date polls live in :mod:`maillage.communities.events.polls`, calendar feed keys in
:mod:`maillage.communities.events.feeds`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.events.models import (
    DEFAULT_TIMEZONE,
    Answer,
    DatePoll,
    Event,
    Rsvp,
)
from maillage.communities.events.times import zone
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.federation.ids import local_ap_id
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong, render

TITLE_MAX = 200
PLACE_MAX = 300
URL_MAX = 500
CAPACITY_MAX = 100_000
LONGEST_EVENT = dt.timedelta(days=31)


@dataclass
class EventFields:
    """What an organiser describes; ``starts_at``/``ends_at`` are aware datetimes."""

    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    description: str = ""
    timezone: str = DEFAULT_TIMEZONE
    place: str = ""
    video_url: str = ""
    capacity: int | None = None


# -- validation (shared with date polls) --------------------------------------------------------


def render_markdown(source: str) -> str:
    try:
        return render(source)
    except MarkdownTooLong as exc:
        raise OperationError(_l("Le texte dépasse %(n)d caractères."), n=exc.args[0]) from exc


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise OperationError(_l("Le titre est obligatoire."))
    if len(title) > TITLE_MAX:
        raise OperationError(_l("Le titre fait %(n)d caractères au plus."), n=TITLE_MAX)
    return title


def clean_place(place: str) -> str:
    place = " ".join((place or "").split())
    if len(place) > PLACE_MAX:
        raise OperationError(_l("Le lieu fait %(n)d caractères au plus."), n=PLACE_MAX)
    return place


def clean_video_url(url: str) -> str:
    """An http(s) link with a host, or nothing: ``javascript:`` and the like are refused."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise OperationError(
            _l("Le lien de visioconférence doit commencer par https:// (ou http://).")
        )
    if len(url) > URL_MAX or any(char.isspace() for char in url):
        raise OperationError(_l("Le lien de visioconférence n'est pas une adresse valide."))
    return url


def clean_times(starts_at: dt.datetime, ends_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if starts_at is None or ends_at is None:
        raise OperationError(_l("Les dates de début et de fin sont obligatoires."))
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise OperationError(_l("Les dates doivent préciser leur fuseau horaire."))
    if ends_at <= starts_at:
        raise OperationError(_l("La fin doit être après le début."))
    if ends_at - starts_at > LONGEST_EVENT:
        raise OperationError(_l("Un événement dure %(n)d jours au plus."), n=LONGEST_EVENT.days)
    return starts_at.astimezone(dt.UTC), ends_at.astimezone(dt.UTC)


def clean_capacity(capacity: int | None) -> int | None:
    if capacity is None:
        return None
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise OperationError(_l("La capacité doit être un nombre entier de places."))
    if not 1 <= capacity <= CAPACITY_MAX:
        raise OperationError(
            _l("La capacité est comprise entre 1 et %(max)d places (laissez vide sans limite)."),
            max=CAPACITY_MAX,
        )
    return capacity


def _validated(fields: EventFields) -> dict:
    """Every column an event's description sets, all checked before anything changes."""
    zone(fields.timezone)
    starts_at, ends_at = clean_times(fields.starts_at, fields.ends_at)
    return {
        "title": clean_title(fields.title),
        "description_source": fields.description or "",
        "description_html": render_markdown(fields.description or ""),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": fields.timezone,
        "place": clean_place(fields.place),
        "video_url": clean_video_url(fields.video_url),
        "capacity": clean_capacity(fields.capacity),
    }


def _require_module(community: Community) -> None:
    if not is_enabled(community, "events"):
        raise OperationError(_l("Les événements sont désactivés dans cette communauté."))


# -- urls --------------------------------------------------------------------------------------


def event_path(event: Event) -> str:
    return f"/c/{event.community.slug}/events/{event.id}"


def event_ap_id(event_id: int) -> str:
    """The stable id of a local event (also its iCalendar UID); ``/event/<id>`` redirects to
    the event's page, so the id is fetchable."""
    return local_ap_id("event", event_id)


# -- events ------------------------------------------------------------------------------------


def create_event(community: Community, organiser: User, fields: EventFields) -> Event:
    if not can(organiser, "post", community):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent proposer un événement."))
    _require_module(community)
    event = Event(community=community, organiser=organiser, **_validated(fields))
    db.session.add(event)
    db.session.flush()
    event.ap_id = event_ap_id(event.id)
    record(organiser, "event.create", event, community=community.id)
    signals.content_created.send(event, community=community, actor=organiser)
    signals.notification_requested.send(
        event,
        community=community,
        actor=organiser,
        reason="event",
        url=event_path(event),
        title=event.title,
        recipients=None,
    )
    return event


def _lock(event: Event) -> None:
    """Lock the event's row until the commit (PostgreSQL) and read its current state."""
    db.session.flush()
    # Lock the events row alone: PostgreSQL refuses FOR UPDATE on the outer joins of the
    # eager-loaded relationships that a refresh of the whole object would bring.
    db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    db.session.refresh(event)


def edit_event(event: Event, actor: User, fields: EventFields) -> Event:
    if not can(actor, "edit", event):
        raise NotAllowed(_l("Seuls l'organisateur et les animateurs peuvent modifier l'événement."))
    _require_module(event.community)
    values = _validated(fields)  # validate everything, then change
    _lock(event)
    if event.cancelled:
        raise OperationError(_l("Cet événement est annulé : il ne peut plus être modifié."))
    capacity = values["capacity"]
    if capacity is not None and capacity < event.going_count:
        raise OperationError(
            _l(
                "%(n)d personnes ont déjà une place : la capacité ne peut pas être inférieure.",
            ),
            n=event.going_count,
        )
    changed = [name for name, value in values.items() if getattr(event, name) != value]
    for name in changed:
        setattr(event, name, values[name])
    if changed:
        event.sequence += 1
        event.updated_at = utcnow()
    promoted = _fill_seats(event, actor)
    record(actor, "event.edit", event, changed=changed)
    signals.content_updated.send(event, community=event.community, actor=actor)
    if changed:
        _tell_attendees(event, actor, exclude=promoted)
    return event


def cancel_event(event: Event, actor: User) -> Event:
    if not can(actor, "cancel", event):
        raise NotAllowed(_l("Seuls l'organisateur et les animateurs peuvent annuler l'événement."))
    _lock(event)
    if event.cancelled:
        raise OperationError(_l("Cet événement est déjà annulé."))
    event.cancelled = True
    event.sequence += 1
    event.updated_at = utcnow()
    record(actor, "event.cancel", event)
    signals.content_updated.send(event, community=event.community, actor=actor)
    _tell_attendees(event, actor)
    return event


def delete_event(event: Event, actor: User) -> None:
    if not can(actor, "delete", event):
        raise NotAllowed(_l("Vous ne pouvez pas supprimer cet événement."))
    record(actor, "event.delete", event, community=event.community_id, title=event.title)
    signals.content_deleted.send(event, community=event.community, actor=actor)
    # The foreign keys cascade on PostgreSQL; say it explicitly for every database.
    db.session.execute(delete(Rsvp).where(Rsvp.event_id == event.id))
    db.session.execute(update(DatePoll).where(DatePoll.event_id == event.id).values(event_id=None))
    db.session.delete(event)


def attendees_to_tell(event: Event) -> list[User]:
    """Who answered yes (seated or waiting) or maybe."""
    return list(
        db.session.scalars(
            select(User)
            .join(Rsvp, Rsvp.user_id == User.id)
            .where(Rsvp.event_id == event.id, Rsvp.answer.in_([Answer.YES, Answer.MAYBE]))
            .order_by(Rsvp.answered_at, Rsvp.id)
        )
    )


def _tell_attendees(event: Event, actor: User, exclude=()) -> None:
    excluded = {rsvp.user_id for rsvp in exclude} | {actor.id}
    recipients = [user for user in attendees_to_tell(event) if user.id not in excluded]
    if recipients:
        signals.notification_requested.send(
            event,
            community=event.community,
            actor=actor,
            reason="event_change",
            url=event_path(event),
            title=event.title,
            recipients=recipients,
        )


# -- answers (RSVP) ----------------------------------------------------------------------------


def _take_seat(event: Event) -> bool:
    """Take one seat if one is free; the database decides (conditional UPDATE)."""
    taken = db.session.execute(
        update(Event)
        .where(
            Event.id == event.id,
            or_(Event.capacity.is_(None), Event.going_count < Event.capacity),
        )
        .values(going_count=Event.going_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(event, ["going_count"])
    return taken == 1


def _release_seat(event: Event) -> None:
    db.session.execute(
        update(Event)
        .where(Event.id == event.id, Event.going_count > 0)
        .values(going_count=Event.going_count - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(event, ["going_count"])


def _fill_seats(event: Event, actor: User) -> list[Rsvp]:
    """Give free seats to the waiting list, first come first served, and tell each person."""
    promoted: list[Rsvp] = []
    while True:
        waiting = db.session.scalar(
            select(Rsvp)
            .where(Rsvp.event_id == event.id, Rsvp.answer == Answer.YES, Rsvp.waitlisted)
            .order_by(Rsvp.answered_at, Rsvp.id)
            .limit(1)
        )
        if waiting is None or not _take_seat(event):
            break
        waiting.waitlisted = False
        db.session.flush()
        promoted.append(waiting)
    for rsvp in promoted:
        signals.notification_requested.send(
            event,
            community=event.community,
            actor=actor,
            reason="waitlist_promoted",
            url=event_path(event),
            title=event.title,
            recipients=[rsvp.user],
        )
    return promoted


def refuse_answers_if_closed(event: Event) -> None:
    if event.cancelled:
        raise OperationError(_l("Cet événement est annulé : il n'est plus possible d'y répondre."))
    if utcnow() >= event.starts_at:
        raise OperationError(
            _l("Cet événement a déjà commencé : il n'est plus possible d'y répondre.")
        )


def respond(event: Event, user: User, answer: str) -> Rsvp:
    """Record ``user``'s answer (yes, maybe, no).  A yes beyond capacity waits in line; a seat
    given up goes to the first person waiting."""
    if answer not in set(Answer):
        raise OperationError(_l("Réponse inconnue : choisissez oui, peut-être ou non."))
    if not can(user, "rsvp", event):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent répondre."))
    _require_module(event.community)
    _lock(event)
    refuse_answers_if_closed(event)
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.user_id == user.id))
    if rsvp is None:
        rsvp = Rsvp(event_id=event.id, user_id=user.id, answer=answer, user=user)
        try:
            with db.session.begin_nested():
                db.session.add(rsvp)
        except IntegrityError as exc:  # the same person answered twice at the same moment
            raise Conflict(
                _l("Votre réponse vient d'être enregistrée : rechargez la page.")
            ) from exc
        had_seat = False
    elif rsvp.answer == answer:
        return rsvp  # nothing changes: a waiting yes keeps its place in line
    else:
        had_seat = rsvp.answer == Answer.YES and not rsvp.waitlisted
    rsvp.answer, rsvp.waitlisted, rsvp.answered_at = answer, False, utcnow()
    if answer == Answer.YES:
        rsvp.waitlisted = not _take_seat(event)
    elif had_seat:
        _release_seat(event)
        _fill_seats(event, user)
    db.session.flush()
    record(user, "event.rsvp", event, answer=answer, waitlisted=rsvp.waitlisted)
    return rsvp


def waiting_position(rsvp: Rsvp) -> int | None:
    """1 for the first person waiting; None when ``rsvp`` is not waiting."""
    if not rsvp.waitlisted:
        return None
    ahead = db.session.scalar(
        select(db.func.count()).where(
            Rsvp.event_id == rsvp.event_id,
            Rsvp.answer == Answer.YES,
            Rsvp.waitlisted,
            or_(
                Rsvp.answered_at < rsvp.answered_at,
                (Rsvp.answered_at == rsvp.answered_at) & (Rsvp.id < rsvp.id),
            ),
        )
    )
    return ahead + 1
