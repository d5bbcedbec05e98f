"""Events in search: the index provider, the kind the search pages show, and the subscriptions
that keep the index in step (through the outbox, after the commit).

An event is ``public`` in a public community, otherwise for the community's members only; the
search pages check ``can(viewer, "view", event)`` again on each hit.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from maillage.communities import signals
from maillage.communities.community.models import Community, Visibility
from maillage.communities.events.models import Event
from maillage.communities.events.times import format_when
from maillage.communities.search.kinds import Presentation, register_kind
from maillage.platform.extensions import db
from maillage.platform.search.backend import PUBLIC, community_audience, doc_id, provider
from maillage.platform.search.indexing import schedule

EVENT = "event"


def _all_event_ids(session: Session):
    return session.scalars(select(Event.id).order_by(Event.id))


@provider(EVENT, all_ids=_all_event_ids)
def event_documents(session: Session, ids: list[int]) -> tuple[list[dict], list[int]]:
    rows = session.execute(
        select(
            Event.id,
            Event.title,
            Event.description_source,
            Event.place,
            Event.community_id,
            Community.visibility,
        )
        .join(Community, Community.id == Event.community_id)
        .where(Event.id.in_(ids))
    ).all()
    documents = [
        {
            "id": doc_id(EVENT, row.id),
            "kind": EVENT,
            "object_id": row.id,
            "audience": PUBLIC
            if row.visibility == Visibility.PUBLIC
            else community_audience(row.community_id),
            "community_id": row.community_id,
            "title": row.title,
            "text": "\n".join(filter(None, [row.description_source, row.place])),
        }
        for row in rows
    ]
    found = {row.id for row in rows}
    return documents, [event_id for event_id in ids if event_id not in found]


def load_events(ids: list[int]) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.id.in_(ids))
            .options(joinedload(Event.community), joinedload(Event.organiser))
        )
    )


def present_event(event: Event) -> Presentation:
    when = format_when(event.starts_at, event.ends_at, event.timezone)
    return Presentation(
        title=event.title,
        text=" — ".join(filter(None, [when, event.place, event.description_source])),
        url=f"/c/{event.community.slug}/events/{event.id}",
        community=event.community,
        author=event.organiser,
        date=event.starts_at,
    )


def event_ids_in_community(session: Session, community_id: int):
    return session.scalars(
        select(Event.id).where(Event.community_id == community_id).order_by(Event.id)
    )


register_kind(
    EVENT,
    _l("Événement"),
    _l("Événements"),
    load=load_events,
    present=present_event,
    ids_in_community=event_ids_in_community,
)


@signals.content_created.connect
@signals.content_updated.connect
@signals.content_deleted.connect
def _event_changed(sender, **_extra) -> None:
    if isinstance(sender, Event):
        schedule(EVENT, sender.id)
