"""Fixtures and helpers shared by the wiki tests (imported by the test_wiki_* modules)."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from maillage.communities.wiki.models import WikiPage, WikiRevision
from maillage.communities.wiki.operations import create_page, save_page
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def send(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with a fresh CSRF token, as the browser would."""
    return client.post(url, data={"csrf_token": csrf(client), **(data or {})}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def count(model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def page_named(slug: str) -> WikiPage:
    db.session.expire_all()
    return db.session.scalar(select(WikiPage).where(WikiPage.slug == slug))


def revision_numbers(page: WikiPage) -> list[int]:
    return list(
        db.session.scalars(
            select(WikiRevision.number)
            .where(WikiRevision.page_id == page.id)
            .order_by(WikiRevision.number)
        )
    )


@contextmanager
def captured(signal):
    """``with captured(signals.notification_requested) as sent:`` → [(sender, kwargs)]."""
    sent: list[tuple[object, dict]] = []

    def receiver(sender, **kwargs):
        sent.append((sender, kwargs))

    with signal.connected_to(receiver):
        yield sent


@pytest.fixture
def people(create_user):
    return {
        "owner": create_user("olga", display_name="Olga Owner"),
        "facilitator": create_user("fanny", display_name="Fanny Facilitatrice"),
        "moderator": create_user("mona", display_name="Mona Modératrice"),
        "member": create_user("marc", display_name="Marc Membre"),
        "other": create_user("mia", display_name="Mia Membre"),
        "guest": create_user("gus", display_name="Gus Invité"),
        "outsider": create_user("oscar", display_name="Oscar Extérieur"),
    }


def _members(people):
    return [
        (people["facilitator"], "facilitator"),
        (people["moderator"], "moderator"),
        people["member"],
        people["other"],
        (people["guest"], "guest"),
    ]


@pytest.fixture
def public(create_community, people):
    return create_community(
        "Club des animateurs", slug="animateurs", owner=people["owner"], members=_members(people)
    )


@pytest.fixture
def private(create_community, people):
    return create_community(
        "Réseau privé",
        slug="prive",
        owner=people["owner"],
        visibility="private",
        join_policy="request",
        members=_members(people),
    )


@pytest.fixture
def secret(create_community, people):
    return create_community(
        "Cellule secrète",
        slug="secret",
        owner=people["owner"],
        visibility="secret",
        join_policy="invite",
        members=_members(people),
    )


@pytest.fixture
def make_page(app):
    def factory(community, author, title="Une page", body="Du **texte**.", parent=None, **kw):
        page = create_page(community, author, title, body, parent=parent, **kw)
        db.session.commit()
        return page

    return factory


@pytest.fixture
def edit_page(app):
    def do(page, actor, body, title=None, comment=""):
        revision = save_page(
            page,
            actor,
            title or page.title,
            body,
            base_revision=page.current_revision,
            comment=comment,
        )
        db.session.commit()
        return revision

    return do
