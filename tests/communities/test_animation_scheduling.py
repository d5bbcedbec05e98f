"""Scheduled posts (fixed clocks) and monthly activity summaries."""

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from maillage.communities.animation import operations
from maillage.communities.animation.models import ActivitySummary, ScheduledPost
from maillage.communities.posts.models import Post
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


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
        slug="prog",
        members=[(people[role], role) for role in ("facilitator", "moderator", "member", "guest")],
    )
    people["outsider"] = create_user()
    create_community(members=[(people["outsider"], "facilitator")])
    return community, people


# -- scheduled posts ---------------------------------------------------------------------------


def test_due_posts_are_published_once(app, team):
    community, people = team
    early = operations.schedule_post(
        community, people["facilitator"], "Tôt", "x", NOW + dt.timedelta(hours=1), now=NOW
    )
    late = operations.schedule_post(
        community, people["facilitator"], "Tard", "y", NOW + dt.timedelta(days=2), now=NOW
    )
    db.session.commit()
    assert operations.publish_due(now=NOW) == 0
    assert operations.publish_due(now=NOW + dt.timedelta(hours=2)) == 1
    assert operations.publish_due(now=NOW + dt.timedelta(hours=3)) == 0  # idempotent
    db.session.refresh(early)
    db.session.refresh(late)
    assert early.status == "published"
    assert early.post_id is not None
    assert late.status == "scheduled"
    assert db.session.scalars(select(Post.title)).all() == ["Tôt"]
    assert db.session.get(Post, early.post_id).author_id == people["facilitator"].id


def test_the_periodic_task_publishes(app, team):
    from maillage.communities.animation.tasks import publish_scheduled

    community, people = team
    operations.schedule_post(
        community, people["facilitator"], "Tâche", "x", NOW + dt.timedelta(minutes=5), now=NOW
    )
    db.session.commit()
    assert publish_scheduled.delay(now=(NOW + dt.timedelta(minutes=6)).isoformat()).get() == 1
    assert count(Post) == 1


def test_a_post_whose_author_left_fails_visibly(app, team):
    from maillage.communities.community.operations import remove_membership

    community, people = team
    scheduled = operations.schedule_post(
        community, people["facilitator"], "Orphelin", "x", NOW + dt.timedelta(hours=1), now=NOW
    )
    remove_membership(community, people["facilitator"])
    db.session.commit()
    assert operations.publish_due(now=NOW + dt.timedelta(hours=2)) == 0
    db.session.refresh(scheduled)
    assert scheduled.status == "failed"
    assert scheduled.error
    assert count(Post) == 0


@pytest.mark.parametrize(
    "publish_at",
    [None, NOW - dt.timedelta(minutes=1), NOW, NOW + dt.timedelta(days=400)],
)
def test_bad_publication_dates_are_refused(app, team, publish_at):
    community, people = team
    with pytest.raises(OperationError):
        operations.schedule_post(community, people["facilitator"], "T", "x", publish_at, now=NOW)


def test_facilitator_schedules_edits_and_cancels_over_http(client, login_as, team):
    _community, people = team
    login_as(people["facilitator"])
    day = (utcnow() + dt.timedelta(days=3)).date().isoformat()
    response = post(
        client,
        "/c/prog/scheduled",
        {"title": "Programmé", "body": "Texte", "day": day, "time": "10:30"},
    )
    assert response.status_code == 303
    scheduled = db.session.scalar(select(ScheduledPost))
    local = scheduled.publish_at.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert scheduled.publish_at.tzinfo is not None
    assert local.minute == 30
    page = text(client.get(f"/c/prog/scheduled/{scheduled.id}"))
    assert 'value="10:30"' in page
    response = post(
        client,
        f"/c/prog/scheduled/{scheduled.id}",
        {"title": "Modifié", "body": "Texte 2", "day": day, "time": "11:00"},
    )
    assert response.status_code == 303
    db.session.refresh(scheduled)
    assert scheduled.title == "Modifié"
    assert (
        post(client, f"/c/prog/scheduled/{scheduled.id}/cancel", {"confirmed": "1"}).status_code
        == 303
    )
    db.session.refresh(scheduled)
    assert scheduled.status == "cancelled"
    # Cancelled: no more changes, and never published.
    assert (
        post(client, f"/c/prog/scheduled/{scheduled.id}/cancel", {"confirmed": "1"}).status_code
        == 409
    )
    response = post(
        client,
        f"/c/prog/scheduled/{scheduled.id}",
        {"title": "Encore", "body": "x", "day": day, "time": "12:00"},
    )
    assert response.status_code == 400
    assert operations.publish_due(now=utcnow() + dt.timedelta(days=10)) == 0


@pytest.mark.parametrize(
    ("day", "time", "message"),
    [
        ("2026-13-40", "10:00", "Date invalide"),
        ("2001-01-01", "10:00", "dans le futur"),
        ("", "10:00", "date de publication est obligatoire"),
        ("2030-01-01", "25:99", "Heure invalide"),
    ],
)
def test_bad_dates_over_http(client, login_as, team, day, time, message):
    _community, people = team
    login_as(people["facilitator"])
    response = post(
        client, "/c/prog/scheduled", {"title": "T", "body": "x", "day": day, "time": time}
    )
    assert response.status_code == 400
    assert message in text(response)
    assert count(ScheduledPost) == 0


@pytest.mark.parametrize("who", ["moderator", "member", "guest", "outsider"])
def test_only_facilitators_schedule(client, login_as, team, who):
    community, people = team
    scheduled = operations.schedule_post(
        community, people["facilitator"], "T", "x", utcnow() + dt.timedelta(days=1)
    )
    db.session.commit()
    login_as(people[who])
    assert client.get("/c/prog/scheduled").status_code == 403
    assert client.get(f"/c/prog/scheduled/{scheduled.id}").status_code == 403
    assert (
        post(client, f"/c/prog/scheduled/{scheduled.id}/cancel", {"confirmed": "1"}).status_code
        == 403
    )
    day = (utcnow() + dt.timedelta(days=2)).date().isoformat()
    data = {"title": "X", "body": "x", "day": day, "time": "10:00"}
    assert post(client, "/c/prog/scheduled", data).status_code == 403
    assert count(ScheduledPost) == 1


# -- monthly summaries -------------------------------------------------------------------------


def test_summary_draft_edit_send_once(client, login_as, team, outbox_mail):
    community, people = team
    login_as(people["facilitator"])
    assert client.get("/c/prog/summaries").status_code == 200
    response = post(client, "/c/prog/summaries", {"month": "2026-02"})
    assert response.status_code == 303
    summary = db.session.scalar(select(ActivitySummary))
    assert summary.period_start == dt.date(2026, 2, 1)
    assert summary.period_end == dt.date(2026, 3, 1)
    assert "nouveaux membres" in summary.body
    # Drafting the same month again opens the same draft.
    assert post(client, "/c/prog/summaries", {"month": "2026-02"}).status_code == 303
    assert count(ActivitySummary) == 1
    url = f"/c/prog/summaries/{summary.id}"
    response = post(client, url, {"subject": "Février", "body": "Un mois riche."})
    assert response.status_code == 303
    assert post(client, f"{url}/send").status_code == 303
    db.session.refresh(summary)
    assert summary.sent_at is not None
    assert summary.sent_by_id == people["facilitator"].id
    recipients = [m["To"] for m in outbox_mail() if m["Subject"] == "Février"]
    assert len(recipients) == community.member_count
    assert (
        "Un mois riche."
        in next(m for m in outbox_mail() if m["Subject"] == "Février").get_content()
    )
    # Once per month, unless re-sent explicitly.
    response = post(client, f"{url}/send")
    assert response.status_code == 409
    assert "déjà été envoyé" in text(response)
    assert post(client, f"{url}/send", {"resend": "y"}).status_code == 303
    db.session.refresh(summary)
    assert summary.send_count == 2
    assert (
        len([m for m in outbox_mail() if m["Subject"] == "Février"]) == 2 * community.member_count
    )


def test_summary_uses_the_analytics_numbers_or_falls_back(app, team, create_post):
    community, people = team
    create_post(community, people["member"], "Un billet")
    summary = operations.draft_summary(
        community, people["facilitator"], None, now=utcnow() + dt.timedelta(days=32)
    )
    db.session.commit()
    assert summary.body.startswith("Bonjour")
    assert "nouveaux membres" in summary.body


def test_bad_month_and_bad_summary_input(client, login_as, team):
    community, people = team
    login_as(people["facilitator"])
    response = post(client, "/c/prog/summaries", {"month": "2026-13"}, follow_redirects=True)
    assert "Mois invalide" in text(response)
    assert count(ActivitySummary) == 0
    summary = operations.draft_summary(community, people["facilitator"], dt.date(2026, 1, 1))
    db.session.commit()
    response = post(client, f"/c/prog/summaries/{summary.id}", {"subject": "", "body": "x"})
    assert response.status_code == 400
    assert client.get("/c/prog/summaries/999999").status_code == 404


@pytest.mark.parametrize("who", ["moderator", "member", "guest", "outsider"])
def test_only_facilitators_write_and_send_summaries(client, login_as, team, who, outbox_mail):
    community, people = team
    summary = operations.draft_summary(community, people["facilitator"], dt.date(2026, 1, 1))
    db.session.commit()
    login_as(people[who])
    url = f"/c/prog/summaries/{summary.id}"
    assert client.get("/c/prog/summaries").status_code == 403
    assert client.get(url).status_code == 403
    assert post(client, "/c/prog/summaries", {"month": "2026-02"}).status_code == 403
    assert post(client, url, {"subject": "X", "body": "Y"}).status_code == 403
    assert post(client, f"{url}/send").status_code == 403
    db.session.refresh(summary)
    assert summary.sent_at is None
    assert count(ActivitySummary) == 1
