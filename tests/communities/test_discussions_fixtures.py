"""Fixtures and helpers shared by the ``test_discussions*`` files.

Test modules import the fixtures with ``from ... import *`` (``__all__`` lists only fixtures, so
no test is collected twice) and the helpers by name.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from maillage.communities import signals
from maillage.communities.discussions import operations
from maillage.platform.extensions import db

__all__ = ["add_reply", "community", "notifications", "people", "start_topic"]

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def count(model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def said(response) -> str:
    """The page with entities decoded, to look for messages (``'`` is escaped in HTML)."""
    return unescape(text_of(response))


@pytest.fixture
def people(create_user):
    """owner, member, moderator, guest (read-only), outsider, another member."""
    return {
        "owner": create_user("olga", display_name="Olga Owner"),
        "member": create_user("marc", display_name="Marc Membre"),
        "moderator": create_user("mona", display_name="Mona Modo"),
        "guest": create_user("gaston", display_name="Gaston Guest"),
        "outsider": create_user("oscar", display_name="Oscar Outsider"),
        "other": create_user("nina", display_name="Nina Autre"),
    }


@pytest.fixture
def community(create_community, people):
    return create_community(
        "Achats publics",
        slug="achats",
        owner=people["owner"],
        members=[
            people["member"],
            people["other"],
            (people["moderator"], "moderator"),
            (people["guest"], "guest"),
        ],
    )


@pytest.fixture
def start_topic(app):
    def factory(community, author, title="Clause de révision des prix", body="Qui a un modèle ?"):
        topic = operations.create_topic(community, author, title, body)
        db.session.commit()
        return topic

    return factory


@pytest.fixture
def add_reply(app):
    def factory(topic, author, body="Voici le nôtre.", quoted=None):
        reply = operations.add_reply(topic, author, body, quoted)
        db.session.commit()
        return reply

    return factory


@pytest.fixture
def notifications(app):
    """Every ``notification_requested`` sent during the test: ``(sender, kwargs)``."""
    sent: list[tuple[object, dict]] = []

    def receiver(sender, **kwargs):
        # Read now: after a request, its objects are detached from any session.
        recipients = kwargs["recipients"]
        kwargs["usernames"] = None if recipients is None else {u.username for u in recipients}
        kwargs["sender_id"], kwargs["community_id"] = sender.id, kwargs["community"].id
        sent.append((sender, kwargs))

    signals.notification_requested.connect(receiver)
    yield sent
    signals.notification_requested.disconnect(receiver)


def reasons(sent, reason: str) -> list[set[str] | None]:
    """The recipients (usernames; None for "the members") of each notification for ``reason``."""
    return [kwargs["usernames"] for _sender, kwargs in sent if kwargs["reason"] == reason]
