"""Moderation over HTTP: reporting, the queues, decisions on content, the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from maillage.communities.discussions import operations as discussions
from maillage.communities.moderation import operations as moderation
from maillage.communities.moderation.models import Report, ReportStatus
from maillage.communities.posts import operations as posts
from maillage.communities.posts.models import Comment, Post
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def count(model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def text_of(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


@pytest.fixture
def people(create_user):
    names = ("owner", "facilitator", "moderator", "member", "other", "outsider", "admin")
    return {
        name: create_user(f"{name}1", is_admin=name == "admin", display_name=name.capitalize())
        for name in names
    }


@pytest.fixture
def community(create_community, people):
    return create_community(
        "Achats",
        slug="achats",
        owner=people["owner"],
        members=[
            (people["facilitator"], "facilitator"),
            (people["moderator"], "moderator"),
            people["member"],
            people["other"],
        ],
    )


@pytest.fixture
def post(community, people, create_post):
    return create_post(community, people["other"], "Offre spéciale", "Achetez chez nous !")


def send_report(client, token, kind, object_id, category="spam", reason=""):
    return client.post(
        f"/report/{kind}/{object_id}",
        data={"csrf_token": token, "category": category, "reason": reason},
    )


# -- reporting ---------------------------------------------------------------------------------


def test_member_reports_a_post_once(client, login_as, people, post):
    login_as(people["member"])
    page = client.get(f"/post/{post.id}")
    assert f"/report/post/{post.id}" in page.get_data(as_text=True)
    form = client.get(f"/report/post/{post.id}")
    assert form.status_code == 200
    assert "Spam ou publicité" in form.get_data(as_text=True)
    token = csrf(client)
    sent = send_report(client, token, "post", post.id, "spam", "Publicité")
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/post/{post.id}"
    report = db.session.scalar(select(Report))
    assert (report.category, report.reason, report.community_id) == (
        "spam",
        "Publicité",
        post.community_id,
    )

    again = send_report(client, token, "post", post.id)
    assert again.status_code == 409
    assert "déjà signalé" in text_of(again)
    assert count(Report) == 1


def test_reading_outsider_of_a_public_community_may_report(client, login_as, people, post):
    login_as(people["outsider"])
    assert send_report(client, csrf(client), "post", post.id).status_code == 303


def test_report_bad_input(client, login_as, people, post, community):
    login_as(people["member"])
    token = csrf(client)
    no_category = send_report(client, token, "post", post.id, category="")
    assert no_category.status_code == 400
    assert "Choisissez le motif" in text_of(no_category)
    unknown_category = send_report(client, token, "post", post.id, category="bof")
    assert unknown_category.status_code == 400
    other_without_reason = send_report(client, token, "post", post.id, "other", "   ")
    assert other_without_reason.status_code == 400
    assert "Indiquez la raison" in text_of(other_without_reason)
    assert send_report(client, token, "post", 999999).status_code == 404
    assert send_report(client, token, "wat", post.id).status_code == 404
    assert count(Report) == 0


def test_own_content_and_anonymous_cannot_report(client, login_as, people, post):
    login_as(people["other"])
    assert f"/report/post/{post.id}" not in client.get(f"/post/{post.id}").get_data(as_text=True)
    assert send_report(client, csrf(client), "post", post.id).status_code == 403
    login_as(None)
    assert client.get(f"/report/post/{post.id}").status_code == 302  # to the sign-in page
    assert count(Report) == 0


def test_secret_community_content_is_404_to_outsiders(
    client, login_as, people, create_community, create_post
):
    secret = create_community("Secret", visibility="secret", owner=people["owner"])
    hidden_post = create_post(secret, people["owner"])
    login_as(people["outsider"])
    assert client.get(f"/report/post/{hidden_post.id}").status_code == 404


def test_report_flooding_is_refused_in_french(
    app, client, login_as, people, community, create_post
):
    app.config["MODERATION_REPORTS_PER_HOUR"] = 3
    items = [create_post(community, people["other"], f"Post {n}") for n in range(4)]
    login_as(people["member"])
    token = csrf(client)
    for item in items[:3]:
        assert send_report(client, token, "post", item.id).status_code == 303
    flood = send_report(client, token, "post", items[3].id)
    assert flood.status_code == 429
    assert "signalements dans l" in text_of(flood)
    assert count(Report) == 3


def test_the_route_itself_is_rate_limited(app, client, login_as, people, post):
    app.config["RATELIMIT_REPORT"] = "2 per hour"
    app.config["RATELIMIT_ENABLED"] = True
    login_as(people["member"])
    token = csrf(client)
    statuses = [send_report(client, token, "post", 999999).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]


def test_comments_topics_and_replies_are_reported(client, login_as, people, post, community):
    comment = posts.add_comment(post, people["other"], "Un commentaire douteux")
    topic = discussions.create_topic(community, people["other"], "Sujet", "Texte du sujet")
    reply = discussions.add_reply(topic, people["owner"], "Une réponse")
    db.session.commit()
    login_as(people["member"])
    token = csrf(client)
    for kind, item in (("comment", comment), ("topic", topic), ("reply", reply)):
        assert send_report(client, token, kind, item.id, "abuse", "Insultant").status_code == 303
    assert count(Report) == 3
    thread = client.get(f"/c/achats/discussions/{topic.id}").get_data(as_text=True)
    assert f"/report/reply/{reply.id}" in thread


# -- the queue ---------------------------------------------------------------------------------


def reported(people, post):
    for name in ("member", "outsider"):
        moderation.report(people[name], post, "spam", f"Signalé par {name}")
    db.session.commit()


def test_queue_groups_reports_by_object(client, login_as, people, post):
    reported(people, post)
    login_as(people["moderator"])
    page = text_of(client.get("/c/achats/moderation"))
    assert "1 contenu signalé." in page
    assert "2 signalements" in page
    assert "Signalé par member" in page
    assert "Signalé par outsider" in page


@pytest.mark.parametrize(
    ("name", "status"),
    [("member", 403), ("outsider", 403), ("facilitator", 200), ("owner", 200), ("admin", 200)],
)
def test_who_opens_the_queue(client, login_as, people, community, name, status):
    login_as(people[name])
    assert client.get("/c/achats/moderation").status_code == status


def test_admin_queue_is_platform_wide(
    client, login_as, people, post, create_community, create_post
):
    elsewhere = create_community(
        "Ailleurs", slug="ailleurs", owner=people["owner"], members=[people["member"]]
    )
    other_post = create_post(elsewhere, people["owner"], "Autre")
    reported(people, post)
    moderation.report(people["member"], other_post, "off_topic", "")
    db.session.commit()
    login_as(people["admin"])
    page = text_of(client.get("/admin/moderation"))
    assert "2 contenus signalés." in page
    assert "Ailleurs" in page
    assert "Offre spéciale" in page
    login_as(people["moderator"])
    assert client.get("/admin/moderation").status_code == 403


def test_queue_queries_do_not_grow_with_reports(
    client, login_as, people, community, create_post, create_user, count_queries
):
    def fill(n):
        for index in range(n):
            item = create_post(community, people["other"], f"Post {n}-{index}")
            comment = posts.add_comment(item, people["owner"], "Commentaire")
            reporter = create_user()
            moderation.report(reporter, item, "spam", "")
            moderation.report(reporter, comment, "abuse", "")
        db.session.commit()

    login_as(people["moderator"])

    def queries():
        db.session.expire_all()
        with count_queries() as statements:
            assert client.get("/c/achats/moderation").status_code == 200
        return len(statements)

    fill(2)
    queries()  # the first visit of the day writes activity rows
    few = queries()
    fill(8)
    many = queries()
    assert few == many


# -- decisions ---------------------------------------------------------------------------------


def decide(client, token, kind, object_id, decision, reason=None, slug="achats"):
    data = {"csrf_token": token}
    if reason is not None:
        data["reason"] = reason
    return client.post(f"/c/{slug}/moderation/{kind}/{object_id}/{decision}", data=data)


def test_hide_shows_the_reason_to_the_author_only(client, login_as, people, post):
    reported(people, post)
    login_as(people["moderator"])
    token = csrf(client)
    form = client.get(f"/c/achats/moderation/post/{post.id}/hide")
    assert form.status_code == 200
    empty = decide(client, token, "post", post.id, "hide", "  ")
    assert empty.status_code == 400
    assert "Indiquez la raison" in text_of(empty)
    assert decide(client, token, "post", post.id, "hide", "Publicité interdite").status_code == 303
    hidden = db.session.get(Post, post.id)
    assert hidden.hidden
    assert hidden.hidden_reason == "Publicité interdite"
    assert count(Report, Report.status == ReportStatus.ACTIONED) == 2
    # Other members no longer see it, anywhere.
    login_as(people["member"])
    assert client.get(f"/post/{post.id}").status_code == 404
    assert "Offre spéciale" not in client.get("/c/achats").get_data(as_text=True)
    assert "Offre spéciale" not in client.get("/").get_data(as_text=True)
    # Its author sees it with the reason.
    login_as(people["other"])
    mine = text_of(client.get(f"/post/{post.id}"))
    assert "Masqué par la modération" in mine
    assert "Publicité interdite" in mine
    from maillage.platform.notifications.models import Notification

    notice = db.session.scalar(
        select(Notification).where(Notification.recipient_id == people["other"].id)
    )
    assert notice.reason == "moderation_hidden"
    assert "Publicité interdite" in notice.title
    # Restore.
    login_as(people["moderator"])
    assert decide(client, csrf(client), "post", post.id, "restore").status_code == 303
    login_as(people["member"])
    assert client.get(f"/post/{post.id}").status_code == 200
    actions = db.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.community_id == post.community_id, AuditEntry.action.like("moderation.%")
        )
    ).all()
    assert sorted(actions) == [
        "moderation.hide",
        "moderation.report",
        "moderation.report",
        "moderation.restore",
    ]


def test_hidden_comment_is_a_placeholder_for_others(client, login_as, people, post):
    comment = posts.add_comment(post, people["other"], "Texte blessant")
    db.session.commit()
    moderation.hide(people["moderator"], comment, "Propos blessants")
    db.session.commit()
    login_as(people["member"])
    page = text_of(client.get(f"/post/{post.id}"))
    assert "Commentaire masqué par la modération." in page
    assert "Texte blessant" not in page
    login_as(people["other"])
    page = text_of(client.get(f"/post/{post.id}"))
    assert "Texte blessant" in page
    assert "Propos blessants" in page


def test_hidden_reply_and_topic(client, login_as, people, community):
    topic = discussions.create_topic(community, people["other"], "Sujet caché", "Corps")
    reply = discussions.add_reply(topic, people["other"], "Réponse cachée")
    db.session.commit()
    moderation.hide(people["moderator"], reply, "Hors charte")
    db.session.commit()
    login_as(people["member"])
    thread = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    assert "Réponse masquée par la modération." in thread
    assert "Réponse cachée" not in thread
    moderation.hide(people["moderator"], topic, "Hors charte")
    db.session.commit()
    assert client.get(f"/c/achats/discussions/{topic.id}").status_code == 404
    assert "Sujet caché" not in client.get("/c/achats/discussions").get_data(as_text=True)
    login_as(people["other"])
    assert client.get(f"/c/achats/discussions/{topic.id}").status_code == 200


def test_delete_with_reason(client, login_as, people, post):
    comment = posts.add_comment(post, people["other"], "Spam")
    db.session.commit()
    moderation.report(people["member"], comment, "spam", "")
    db.session.commit()
    login_as(people["moderator"])
    token = csrf(client)
    assert decide(client, token, "comment", comment.id, "delete", "").status_code == 400
    assert count(Comment) == 1
    assert decide(client, token, "comment", comment.id, "delete", "Spam répété").status_code == 303
    assert count(Comment) == 0
    assert count(Report, Report.status == ReportStatus.ACTIONED) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "moderation.delete"))
    assert entry.data["reason"] == "Spam répété"
    assert entry.community_id == post.community_id


def test_dismiss_even_when_the_object_is_gone(client, login_as, people, post):
    reported(people, post)
    login_as(people["moderator"])
    token = csrf(client)
    assert decide(client, token, "post", post.id, "dismiss", "").status_code == 303
    assert count(Report, Report.status == ReportStatus.DISMISSED) == 2
    again = decide(client, token, "post", post.id, "dismiss", "")
    assert again.status_code == 400  # nothing open any more
    assert decide(client, token, "post", 424242, "dismiss", "").status_code == 400


def test_lock_and_unlock_a_post(client, login_as, people, post):
    login_as(people["moderator"])
    token = csrf(client)
    assert decide(client, token, "post", post.id, "lock").status_code == 303
    assert decide(client, token, "post", post.id, "lock").status_code == 303  # flashed conflict
    assert db.session.get(Post, post.id).locked
    login_as(people["member"])
    page = text_of(client.get(f"/post/{post.id}"))
    assert "verrouillée par la modération" in page
    refused = client.post(
        f"/post/{post.id}/comments", data={"csrf_token": csrf(client), "body": "Encore"}
    )
    assert refused.status_code == 403
    assert "verrouillée" in text_of(refused)
    login_as(people["moderator"])
    assert (
        client.post(
            f"/post/{post.id}/comments", data={"csrf_token": csrf(client), "body": "Clos."}
        ).status_code
        == 302
    )
    assert decide(client, csrf(client), "post", post.id, "unlock").status_code == 303
    assert not db.session.get(Post, post.id).locked


def test_lock_a_topic_from_the_queue(client, login_as, people, community):
    topic = discussions.create_topic(community, people["other"], "Sujet", "Corps")
    db.session.commit()
    login_as(people["moderator"])
    assert decide(client, csrf(client), "topic", topic.id, "lock").status_code == 303
    db.session.expire_all()
    locked = db.session.get(type(topic), topic.id)
    assert locked.locked
    assert locked.locked_at is not None
    login_as(people["member"])
    refused = client.post(
        f"/c/achats/discussions/{topic.id}/replies",
        data={"csrf_token": csrf(client), "body": "Et moi ?"},
    )
    assert refused.status_code in (400, 403, 409)
    assert "verrouillée" in text_of(refused)
    assert db.session.get(type(topic), topic.id).reply_count == 0


@pytest.mark.parametrize("name", ["member", "outsider"])
def test_non_moderators_cannot_decide(client, login_as, people, post, name):
    login_as(people[name])
    token = csrf(client)
    for decision in ("hide", "delete", "lock", "dismiss", "restore"):
        assert decide(client, token, "post", post.id, decision, "Non").status_code == 403
    assert not db.session.get(Post, post.id).hidden


def test_moderator_of_another_community_gets_404_or_403(
    client, login_as, people, post, create_community, create_user
):
    stranger = create_user("stranger")
    create_community("Autre", slug="autre", owner=stranger)
    login_as(stranger)
    token = csrf(client)
    # Through their own community's URL, the object is not there.
    assert decide(client, token, "post", post.id, "hide", "x", slug="autre").status_code == 404
    assert decide(client, token, "post", post.id, "hide", "x").status_code == 403


def test_unknown_decision_and_object(client, login_as, people, post):
    login_as(people["moderator"])
    token = csrf(client)
    assert decide(client, token, "post", post.id, "explode").status_code == 404
    assert decide(client, token, "post", 999999, "hide", "x").status_code == 404
    assert decide(client, token, "poll", post.id, "hide", "x").status_code == 404


# -- audit log ---------------------------------------------------------------------------------


def test_audit_log_page(client, login_as, people, post):
    reported(people, post)
    moderation.hide(people["moderator"], post, "Raison visible")
    db.session.commit()
    login_as(people["facilitator"])
    page = text_of(client.get("/c/achats/audit"))
    assert "moderation.hide" in page
    assert "Raison visible" in page
    assert "Moderator" in page
    filtered = text_of(client.get("/c/achats/audit?action=moderation.report"))
    assert "moderation.report" in filtered
    assert "Raison visible" not in filtered
    assert client.get("/c/achats/audit?action=nope&page=abc").status_code == 200
    login_as(people["moderator"])
    assert client.get("/c/achats/audit").status_code == 403
    login_as(people["member"])
    assert client.get("/c/achats/audit").status_code == 403


def test_audit_log_is_paginated(client, login_as, people, community, create_post):
    for index in range(55):
        create_post(community, people["owner"], f"Post {index}")
    login_as(people["owner"])
    first = client.get("/c/achats/audit").get_data(as_text=True)
    assert "?page=2" in first
    assert client.get("/c/achats/audit?page=2").status_code == 200


def test_console_sections(app, people, community):
    from maillage.communities.console import console_sections_for

    with app.test_request_context():
        keys = {
            section.key for section, _url in console_sections_for(people["moderator"], community)
        }
        assert {"moderation", "sanctions"} <= keys
        assert "audit" not in keys
        keys = {section.key for section, _url in console_sections_for(people["owner"], community)}
        assert {"moderation", "sanctions", "audit"} <= keys
