"""Issue 5: "a banned member cannot read a private community's content through any path".

One private community, one post, event, document, announcement and summary in it; a member who
read it all is banned.  Each test walks one path (page, search, API with a personal token, home
feed, notifications list, e-mails — digests, announcements, monthly summaries, the welcome
message —, ICS feeds, document downloads) and checks a witness member still gets what the banned
one no longer does, so a test cannot pass because the path shows nothing to anybody.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest

from maillage.auth.tokens.operations import create_token
from maillage.communities.animation import operations as animation
from maillage.communities.community import operations as community_ops
from maillage.communities.community.operations import update_settings
from maillage.communities.documents.operations import upload_document
from maillage.communities.documents.uploads import Upload
from maillage.communities.events import feeds
from maillage.communities.events.operations import EventFields, create_event
from maillage.communities.moderation import operations as moderation
from maillage.communities.permissions import forget_roles
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.notifications.tasks import run_digests

SECRET_WORD = "Zorglub"  # in every title: what must not leak


@pytest.fixture
def world(create_user, create_community, create_post):
    people = {name: create_user(f"{name}1") for name in ("owner", "banned", "witness")}
    community = create_community(
        "Réseau privé",
        slug="prive",
        visibility="private",
        join_policy="request",
        owner=people["owner"],
        members=[people["banned"], people["witness"]],
    )
    post = create_post(community, people["owner"], f"Note {SECRET_WORD}", "Budget confidentiel")
    starts = utcnow() + dt.timedelta(days=7)
    event = create_event(
        community,
        people["owner"],
        EventFields(
            title=f"Réunion {SECRET_WORD}", starts_at=starts, ends_at=starts + dt.timedelta(hours=1)
        ),
    )
    document = upload_document(
        community,
        people["owner"],
        Upload("note.txt", io.BytesIO(f"{SECRET_WORD} interne".encode())),
        title=f"Document {SECRET_WORD}",
    )
    db.session.commit()
    return people, community, {"post": post, "event": event, "document": document}


def ban(world):
    people, community, _objects = world
    moderation.ban(people["owner"], community, people["banned"], "Fuite", None)
    db.session.commit()
    forget_roles(people["banned"])


def body(response) -> str:
    return response.get_data(as_text=True)


def test_pages(client, login_as, world):
    people, _community, objects = world
    ban(world)
    login_as(people["witness"])
    assert client.get(f"/post/{objects['post'].id}").status_code == 200
    assert SECRET_WORD in body(client.get("/c/prive"))
    login_as(people["banned"])
    assert client.get(f"/post/{objects['post'].id}").status_code == 404
    assert SECRET_WORD not in body(client.get("/c/prive"))
    for path in ("/c/prive/events", "/c/prive/documents", f"/c/prive/events/{objects['event'].id}"):
        response = client.get(path)
        assert response.status_code in (403, 404), path
        assert SECRET_WORD not in body(response), path


def test_search(client, login_as, world):
    people, _community, objects = world
    links = (
        f'href="/post/{objects["post"].id}"',
        f'href="/c/prive/events/{objects["event"].id}"',
        f'href="/c/prive/documents/{objects["document"].id}"',
    )
    ban(world)
    login_as(people["witness"])
    found = body(client.get(f"/search?q={SECRET_WORD}"))
    assert all(link in found for link in links)
    login_as(people["banned"])
    found = body(client.get(f"/search?q={SECRET_WORD}"))  # the query itself is echoed
    assert not any(link in found for link in links)
    assert "Réseau privé" not in found  # not even as a facet


def test_api_with_a_personal_token(client, world):
    people, _community, objects = world
    _token, banned_secret = create_token(people["banned"], "Script")
    _token, witness_secret = create_token(people["witness"], "Script")
    db.session.commit()
    ban(world)
    paths = (
        "/api/v1/communities/prive/posts",
        f"/api/v1/posts/{objects['post'].id}",
        f"/api/v1/search?q={SECRET_WORD}",
    )
    for path in paths:
        seen = client.get(path, headers={"Authorization": f"Bearer {witness_secret}"})
        assert seen.status_code == 200, path
        assert f"Note {SECRET_WORD}" in body(seen), path
        refused = client.get(path, headers={"Authorization": f"Bearer {banned_secret}"})
        assert f"Note {SECRET_WORD}" not in body(refused), path
        assert refused.status_code in (200, 403, 404), path  # search answers, without it
    community = client.get(
        "/api/v1/communities/prive", headers={"Authorization": f"Bearer {banned_secret}"}
    )
    assert community.status_code == 200  # a private community stays listed…
    assert community.get_json()["viewer"]["read"] is False  # …but unreadable


def test_home_feed(client, login_as, world):
    people, _community, _objects = world
    ban(world)
    login_as(people["witness"])
    assert SECRET_WORD in body(client.get("/"))
    login_as(people["banned"])
    assert SECRET_WORD not in body(client.get("/"))


def test_notifications_list(client, login_as, world):
    people, _community, _objects = world
    login_as(people["banned"])
    assert SECRET_WORD in body(client.get("/notifications"))  # notified before the ban
    ban(world)
    assert SECRET_WORD not in body(client.get("/notifications"))
    login_as(people["witness"])
    assert SECRET_WORD in body(client.get("/notifications"))


def test_daily_digest(world, outbox_mail):
    people, _community, _objects = world
    ban(world)
    run_digests("daily", utcnow() + dt.timedelta(days=1))
    mails = [mail for mail in outbox_mail() if SECRET_WORD in mail.get_body().get_content()]
    recipients = {mail["To"] for mail in mails}
    assert people["witness"].email in recipients
    assert people["banned"].email not in recipients


def put_back(world):
    """A membership put back while the ban lasts (a directory sync, say) counts as none."""
    people, community, _objects = world
    community_ops.add_membership(community, people["banned"], "member")
    db.session.commit()
    forget_roles(people["banned"])


def test_announcement_and_summary_emails(world, outbox_mail):
    people, community, _objects = world
    ban(world)
    put_back(world)
    animation.create_announcement(
        community, people["owner"], f"Annonce {SECRET_WORD}", "Texte", send_email=True
    )
    summary = animation.draft_summary(community, people["owner"])
    animation.edit_summary(summary, people["owner"], f"Résumé {SECRET_WORD}", "Le mois")
    animation.send_summary(summary, people["owner"])
    db.session.commit()
    for subject in (f"Annonce {SECRET_WORD}", f"Résumé {SECRET_WORD}"):
        recipients = {mail["To"] for mail in outbox_mail() if subject in mail["Subject"]}
        assert people["witness"].email in recipients, subject
        assert people["banned"].email not in recipients, subject


def test_welcome_message_is_not_sent_to_a_banned_person(world, outbox_mail):
    people, community, _objects = world
    update_settings(
        community,
        people["owner"],
        name=community.name,
        description=community.description,
        visibility=community.visibility,
        join_policy=community.join_policy,
        topics=list(community.topics),
        welcome_message=f"Bienvenue {SECRET_WORD}",
    )
    db.session.commit()
    ban(world)
    put_back(world)
    mails = [mail for mail in outbox_mail() if SECRET_WORD in mail.get_body().get_content()]
    assert people["banned"].email not in {mail["To"] for mail in mails}


def test_calendar_feeds(client, world):
    people, _community, _objects = world
    banned_token = feeds.rotate_feed_token(people["banned"])
    witness_token = feeds.rotate_feed_token(people["witness"])
    db.session.commit()
    ban(world)
    assert SECRET_WORD in body(client.get(f"/c/prive/events.ics?token={witness_token}"))
    refused = client.get(f"/c/prive/events.ics?token={banned_token}")
    assert refused.status_code in (403, 404)
    assert SECRET_WORD not in body(refused)
    own = client.get(f"/u/{people['banned'].username}/events.ics?token={banned_token}")
    assert own.status_code == 200
    assert SECRET_WORD not in body(own)
    witness = client.get(f"/u/{people['witness'].username}/events.ics?token={witness_token}")
    assert SECRET_WORD in body(witness)


def test_document_downloads(client, login_as, world):
    people, _community, objects = world
    document = objects["document"]
    login_as(people["witness"])
    page = body(client.get(f"/c/prive/documents/{document.id}"))
    assert SECRET_WORD in page
    url = f"/c/prive/documents/{document.id}/versions/1/telecharger"
    with client.get(url) as download:
        assert download.status_code == 200
    ban(world)
    login_as(people["banned"])
    for path in (url, f"/c/prive/documents/{document.id}"):
        response = client.get(path)
        assert response.status_code in (403, 404), path
        assert SECRET_WORD not in body(response), path
