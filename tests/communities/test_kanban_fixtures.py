"""Fixtures and helpers shared by the ``test_kanban*`` files.

Test modules import the fixtures with ``from ... import *`` (``__all__`` lists only fixtures, so
no test is collected twice) and the helpers by name.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from maillage.communities import signals
from maillage.communities.kanban import operations
from maillage.communities.kanban.models import Task
from maillage.communities.kanban.operations import TaskFields
from maillage.platform.extensions import db

__all__ = ["community", "make_task", "notifications", "people"]

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
    """The page's text (tags dropped, entities decoded, spaces normalised)."""
    text = unescape(re.sub(r"<[^>]+>", "", text_of(response)))
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def column(community, status: str) -> list[tuple[str, int]]:
    """``[(title, position)]`` of a column, in board order."""
    db.session.expire_all()
    return [
        (task.title, task.position)
        for task in db.session.scalars(
            select(Task)
            .where(Task.community_id == community.id, Task.status == status)
            .order_by(Task.position, Task.id)
        )
    ]


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
def make_task(app):
    def factory(community, creator, title="Préparer la réunion", status="todo", **fields):
        task = operations.create_task(community, creator, TaskFields(title=title, **fields), status)
        db.session.commit()
        return task

    return factory


@pytest.fixture
def notifications(app):
    """Every ``notification_requested`` sent during the test: ``(sender, kwargs)``."""
    sent: list[tuple[object, dict]] = []

    def receiver(sender, **kwargs):
        recipients = kwargs["recipients"]
        kwargs["usernames"] = None if recipients is None else {u.username for u in recipients}
        sent.append((sender, kwargs))

    signals.notification_requested.connect(receiver)
    yield sent
    signals.notification_requested.disconnect(receiver)


def reasons(sent, reason: str) -> list[set[str] | None]:
    return [kwargs["usernames"] for _sender, kwargs in sent if kwargs["reason"] == reason]
