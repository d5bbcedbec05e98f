"""Fixtures and helpers shared by the events tests (imported by the test_events_* modules)."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from maillage.communities.events.models import Event
from maillage.communities.events.operations import EventFields, create_event
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PARIS = ZoneInfo("Europe/Paris")


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def send(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with a fresh CSRF token, as the browser would."""
    return client.post(url, data={"csrf_token": csrf(client), **(data or {})}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def count(model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


@contextmanager
def captured(signal):
    """``with captured(signals.notification_requested) as sent:`` → [(sender, details)].

    Objects are summarised while the signal is sent (requests close their session): the sender
    stays as is (compare ids), users become usernames, the community its slug."""
    sent: list[tuple[object, dict]] = []

    def receiver(sender, **kwargs):
        details = dict(kwargs)
        if details.get("recipients") is not None:
            details["recipients"] = sorted(user.username for user in details["recipients"])
        if details.get("actor") is not None:
            details["actor"] = details["actor"].username
        if details.get("community") is not None:
            details["community"] = details["community"].slug
        details["sender_id"] = sender.id
        sent.append((sender, details))

    with signal.connected_to(receiver):
        yield sent


def paris(year, month, day, hour=10, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def in_days(days: int, hour: int = 10) -> dt.datetime:
    """A Paris wall-clock time ``days`` from today."""
    today = dt.datetime.now(PARIS).date() + dt.timedelta(days=days)
    return dt.datetime.combine(today, dt.time(hour), tzinfo=PARIS)


@pytest.fixture
def people(create_user):
    return {
        "owner": create_user("olga", display_name="Olga Owner"),
        "facilitator": create_user("fanny", display_name="Fanny Facilitatrice"),
        "moderator": create_user("mona", display_name="Mona Modératrice"),
        "member": create_user("marc", display_name="Marc Membre"),
        "other": create_user("mia", display_name="Mia Membre"),
        "third": create_user("theo", display_name="Théo Troisième"),
        "guest": create_user("gus", display_name="Gus Invité"),
        "outsider": create_user("oscar", display_name="Oscar Extérieur"),
    }


def _members(people):
    return [
        (people["facilitator"], "facilitator"),
        (people["moderator"], "moderator"),
        people["member"],
        people["other"],
        people["third"],
        (people["guest"], "guest"),
    ]


@pytest.fixture
def public(create_community, people):
    return create_community(
        "Réseau des acheteurs", slug="acheteurs", owner=people["owner"], members=_members(people)
    )


@pytest.fixture
def private(create_community, people):
    return create_community(
        "Club privé",
        slug="club",
        owner=people["owner"],
        visibility="private",
        join_policy="request",
        members=_members(people),
    )


@pytest.fixture
def secret(create_community, people):
    return create_community(
        "Cellule secrète",
        slug="cellule",
        owner=people["owner"],
        visibility="secret",
        join_policy="invite",
        members=_members(people),
    )


@pytest.fixture
def make_event(app):
    def factory(community, organiser, title="Webinaire achats", *, days=7, hours=2, **extra):
        starts_at = extra.pop("starts_at", None) or in_days(days)
        ends_at = extra.pop("ends_at", None) or starts_at + dt.timedelta(hours=hours)
        event = create_event(
            community,
            organiser,
            EventFields(title=title, starts_at=starts_at, ends_at=ends_at, **extra),
        )
        db.session.commit()
        return event

    return factory


def event_form(**overrides) -> dict:
    """A valid event form, one week from today, Paris time."""
    day = (dt.datetime.now(PARIS).date() + dt.timedelta(days=7)).isoformat()
    return {
        "title": "Webinaire clauses sociales",
        "start_date": day,
        "start_time": "10:00",
        "end_date": "",
        "end_time": "12:00",
        "timezone": "Europe/Paris",
        "place": "Salle Marianne, Paris",
        "video_url": "https://webinaire.numerique.gouv.fr/salle-42",
        "capacity": "",
        "description": "Ordre du jour : **clauses sociales**.",
        **overrides,
    }


def only_event() -> Event:
    db.session.expire_all()
    return db.session.scalar(select(Event))
