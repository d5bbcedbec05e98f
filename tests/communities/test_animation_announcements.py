"""Pinned announcements (shown, mailed to every member in the background) and the welcome
message."""

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from maillage.communities.animation import operations
from maillage.communities.animation.models import Announcement
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import utcnow
from maillage.platform.extensions import db


def csrf_token(client) -> str:
    page = client.get("/communities").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, url, data=None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def team(create_user, create_community):
    people = {role: create_user() for role in ("facilitator", "moderator", "member", "guest")}
    community = create_community(
        slug="anim",
        members=[(people[role], role) for role in ("facilitator", "moderator", "member", "guest")],
    )
    people["outsider"] = create_user()
    create_community(members=[(people["outsider"], "facilitator")])
    return community, people


def test_facilitator_pins_an_announcement_shown_on_the_community_page(
    client, login_as, team, outbox_mail
):
    _community, people = team
    login_as(people["facilitator"])
    assert client.get("/c/anim/announcements").status_code == 200
    response = post(
        client,
        "/c/anim/announcements",
        {"title": "Réunion jeudi", "body": "Venez **nombreux**"},
    )
    assert response.status_code == 303
    login_as(people["member"])
    page = text(client.get("/c/anim"))
    assert "Réunion jeudi" in page
    assert "<strong>nombreux</strong>" in page
    assert outbox_mail() == []  # not mailed unless asked
    assert db.session.scalar(
        select(AuditEntry.action).where(AuditEntry.action == "animation.announcement_create")
    )


def test_an_emailed_announcement_reaches_every_member_once(client, login_as, team, outbox_mail):
    _community, people = team
    login_as(people["facilitator"])
    response = post(
        client,
        "/c/anim/announcements",
        {"title": "Annonce importante", "body": "Texte de l'annonce", "send_email": "y"},
    )
    assert response.status_code == 303
    community = _community
    recipients = [m["To"] for m in outbox_mail() if "Annonce importante" in m["Subject"]]
    assert len(recipients) == len(set(recipients)) == community.member_count
    for role in ("facilitator", "moderator", "member", "guest"):
        assert people[role].email in recipients
    assert people["outsider"].email not in recipients


def test_mail_fan_out_goes_chunk_by_chunk(app, team, create_user, outbox_mail, monkeypatch):
    from maillage.communities.animation import mailing
    from maillage.communities.community.operations import add_membership

    community, people = team
    for _ in range(3):
        add_membership(community, create_user(), "member")
    db.session.commit()
    monkeypatch.setattr(mailing, "CHUNK", 2)
    operations.create_announcement(
        community, people["facilitator"], "Par paquets", "Texte", send_email=True
    )
    db.session.commit()
    recipients = [m["To"] for m in outbox_mail() if "Par paquets" in m["Subject"]]
    assert len(recipients) == len(set(recipients)) == community.member_count


def test_pinned_until_hides_the_announcement_afterwards(app, team):
    community, people = team
    now = utcnow()
    operations.create_announcement(
        community,
        people["facilitator"],
        "Court",
        "x",
        pinned_until=now + dt.timedelta(days=1),
        now=now,
    )
    operations.create_announcement(community, people["facilitator"], "Long", "y", now=now)
    db.session.commit()
    from maillage.communities.animation.queries import pinned_announcements

    later = now + dt.timedelta(days=2)
    assert [a.title for a in pinned_announcements(community, now=now)] == ["Long", "Court"]
    assert [a.title for a in pinned_announcements(community, now=later)] == ["Long"]


def test_unpin(client, login_as, team):
    community, people = team
    announcement = operations.create_announcement(
        community, people["facilitator"], "À retirer", "x"
    )
    db.session.commit()
    login_as(people["facilitator"])
    assert post(client, f"/c/anim/announcements/{announcement.id}/unpin").status_code == 303
    client.get("/c/anim")  # the confirmation shows once
    assert "À retirer" not in text(client.get("/c/anim"))
    assert post(client, "/c/anim/announcements/999999/unpin").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "body": "x"}, "titre est obligatoire"),
        ({"title": "T", "body": ""}, "texte est obligatoire"),
        ({"title": "T", "body": "x", "pinned_until": "31/02/2026"}, "Date invalide"),
        ({"title": "T", "body": "x", "pinned_until": "2001-01-01"}, "dans le futur"),
    ],
)
def test_bad_announcements_are_refused(client, login_as, team, data, message):
    _community, people = team
    login_as(people["facilitator"])
    response = post(client, "/c/anim/announcements", data)
    assert response.status_code == 400
    assert message in text(response)
    assert count(Announcement) == 0


@pytest.mark.parametrize("who", ["moderator", "member", "guest", "outsider"])
def test_only_facilitators_announce(client, login_as, team, who):
    community, people = team
    announcement = operations.create_announcement(community, people["facilitator"], "A", "x")
    db.session.commit()
    login_as(people[who])
    assert client.get("/c/anim/announcements").status_code == 403
    assert post(client, "/c/anim/announcements", {"title": "T", "body": "x"}).status_code == 403
    assert post(client, f"/c/anim/announcements/{announcement.id}/unpin").status_code == 403
    assert count(Announcement) == 1


def test_anonymous_and_secret(client, login_as, create_user, create_community):
    create_community(slug="publique")
    assert client.get("/c/publique/announcements").status_code in (302, 401)
    secret = create_community(visibility="secret")
    login_as(create_user())
    assert client.get(f"/c/{secret.slug}/announcements").status_code == 404


def test_private_announcements_are_not_shown_to_non_members(
    client, login_as, create_user, create_community
):
    owner = create_user()
    community = create_community(slug="privee", owner=owner, visibility="private")
    operations.create_announcement(community, owner, "Confidentiel", "x")
    db.session.commit()
    login_as(create_user())
    assert "Confidentiel" not in text(client.get("/c/privee"))


# -- welcome message ---------------------------------------------------------------------------


def test_new_members_get_the_welcome_message(
    client, login_as, create_user, create_community, outbox_mail
):
    community = create_community(slug="accueil")
    community.welcome_message = "Présentez-vous dans le fil !"
    db.session.commit()
    person = create_user(email="nouvelle@example.org")
    login_as(person)
    assert post(client, "/c/accueil/join").status_code == 303
    mails = [m for m in outbox_mail() if m["To"] == "nouvelle@example.org"]
    assert len(mails) == 1
    assert "Bienvenue dans" in mails[0]["Subject"]
    assert "Présentez-vous dans le fil !" in mails[0].get_content()
    from maillage.platform.notifications.models import Notification

    notice = db.session.scalar(select(Notification).where(Notification.recipient_id == person.id))
    assert notice is not None
    assert notice.reason == "welcome"


def test_no_welcome_message_no_mail(client, login_as, create_user, create_community, outbox_mail):
    create_community(slug="muette")
    person = create_user(email="silence@example.org")
    login_as(person)
    assert post(client, "/c/muette/join").status_code == 303
    assert [m for m in outbox_mail() if m["To"] == "silence@example.org"] == []
