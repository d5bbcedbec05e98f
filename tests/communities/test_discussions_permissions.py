"""Who may do what with discussions: every URL of a secret community is a 404 for outsiders, a
private community's discussions are for members, a switched-off module has no URL at all, guests
read but do not write, and the rules themselves (asked through ``can``)."""

from __future__ import annotations

import pytest

from maillage.communities.discussions import operations
from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
from maillage.communities.permissions import can
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from tests.communities.test_discussions_fixtures import *  # noqa: F403 - fixtures
from tests.communities.test_discussions_fixtures import (
    count,
    csrf,
    fresh,
    said,
    text_of,
)


def every_url(slug: str, topic_id: int, reply_id: int) -> list[tuple[str, str, dict]]:
    """(method, url, form) for every discussions URL of a community."""
    base = f"/c/{slug}/discussions"
    topic = f"{base}/{topic_id}"
    reply = f"{topic}/replies/{reply_id}"
    return [
        ("GET", base, {}),
        ("GET", f"{base}?show=unread", {}),
        ("GET", f"{base}/new", {}),
        ("POST", f"{base}/new", {"title": "Intrus", "body": "Intrus"}),
        ("POST", f"{base}/read-all", {}),
        ("GET", topic, {}),
        ("GET", f"{topic}?quote={reply_id}", {}),
        ("GET", f"{topic}/unread", {}),
        ("GET", f"{topic}/edit", {}),
        ("POST", f"{topic}/edit", {"title": "Intrus", "body": "Intrus"}),
        ("GET", f"{topic}/delete", {}),
        ("POST", f"{topic}/delete", {}),
        ("POST", f"{topic}/pin", {"pinned": "1"}),
        ("POST", f"{topic}/lock", {"locked": "1"}),
        ("POST", f"{topic}/answer", {"reply_id": str(reply_id)}),
        ("POST", f"{topic}/replies", {"body": "Intrus"}),
        ("GET", reply, {}),
        ("GET", f"{reply}/edit", {}),
        ("POST", f"{reply}/edit", {"body": "Intrus"}),
        ("GET", f"{reply}/delete", {}),
        ("POST", f"{reply}/delete", {}),
        ("GET", f"/topic/{topic_id}", {}),
        ("GET", f"/reply/{reply_id}", {}),
    ]


def visit(client, method: str, url: str, form: dict):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf(client), **form})


def assert_untouched(topic, reply) -> None:
    topic, reply = fresh(topic), fresh(reply)
    assert (topic.title, topic.pinned, topic.locked, topic.answered_reply_id) == (
        "Réunion de crise",
        False,
        False,
        None,
    )
    assert reply.body_source == "Barrières posées."
    assert reply.deleted_at is None
    assert count(DiscussionTopic) == 1
    assert count(DiscussionReply) == 1


@pytest.fixture
def admin(create_user):
    return create_user("alix", is_admin=True)


@pytest.fixture
def secret(create_community, people, start_topic, add_reply):
    community = create_community(
        "Cellule de crise",
        slug="crise",
        visibility="secret",
        join_policy="invite",
        owner=people["owner"],
        members=[people["member"]],
    )
    topic = start_topic(community, people["member"], title="Réunion de crise")
    reply = add_reply(topic, people["owner"], "Barrières posées.")
    return community, topic, reply


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_a_secret_community_is_404_on_every_discussions_url(client, login_as, people, secret, who):
    community, topic, reply = secret
    assert community.slug.startswith("crise-")  # secret communities get an unguessable slug
    login_as(None if who == "anonymous" else people["outsider"])
    for method, url, form in every_url(community.slug, topic.id, reply.id):
        response = visit(client, method, url, form)
        assert response.status_code == 404, (method, url, response.status_code)
        assert "Réunion de crise" not in text_of(response)
        assert community.slug not in response.headers.get("Location", "")
    assert_untouched(topic, reply)


def test_members_and_admins_under_an_access_grant_see_a_secret_communitys_discussions(
    client, login_as, people, secret, admin
):
    from maillage.communities.oversight.operations import request_access

    community, topic, _reply = secret
    login_as(admin)  # an administrator is not a member: nothing without an access grant
    assert client.get(f"/c/{community.slug}/discussions/{topic.id}").status_code == 404
    request_access(admin, community, "moderation", "Signalement n° 12 à examiner", 1)
    db.session.commit()
    for user in (people["member"], admin):
        login_as(user)
        page = text_of(client.get(f"/c/{community.slug}/discussions/{topic.id}"))
        assert "Barrières posées." in page


def test_a_private_community_keeps_its_discussions_for_members(
    client, login_as, people, create_community, start_topic, add_reply
):
    community = create_community(
        "Juristes",
        slug="juristes",
        visibility="private",
        join_policy="request",
        owner=people["owner"],
        members=[people["member"]],
    )
    topic = start_topic(community, people["member"], title="Réunion de crise")
    reply = add_reply(topic, people["owner"], "Barrières posées.")

    login_as(None)
    to_login = client.get("/c/juristes/discussions")
    assert to_login.status_code == 302
    assert to_login.headers["Location"].startswith("/login")

    login_as(people["outsider"])
    refused = client.get("/c/juristes/discussions")
    assert refused.status_code == 403
    assert "Les discussions de cette communauté sont réservées à ses membres." in said(refused)
    for method, url, form in every_url("juristes", topic.id, reply.id)[5:]:
        response = visit(client, method, url, form)
        assert response.status_code == 404, (method, url, response.status_code)
    assert (
        client.post(
            "/c/juristes/discussions/new",
            data={"csrf_token": csrf(client), "title": "x", "body": "x"},
        ).status_code
        == 403
    )
    assert_untouched(topic, reply)

    login_as(people["member"])
    listing = text_of(client.get("/c/juristes/discussions"))
    assert "Réunion de crise" in listing


def test_a_switched_off_module_has_no_url(
    client, login_as, people, create_community, start_topic, add_reply
):
    community = create_community(
        "Achats", slug="achats", owner=people["owner"], members=[people["member"]]
    )
    topic = start_topic(community, people["member"], title="Réunion de crise")
    reply = add_reply(topic, people["owner"], "Barrières posées.")
    community.disabled_modules = ["discussions"]
    db.session.commit()
    for user in (people["owner"], people["member"], None):
        login_as(user)
        for method, url, form in every_url("achats", topic.id, reply.id):
            response = visit(client, method, url, form)
            assert response.status_code == 404, (user, method, url, response.status_code)
    assert_untouched(topic, reply)
    assert 'href="/c/achats/discussions"' not in text_of(client.get("/c/achats"))
    # Operations refuse too, for every other caller.
    with pytest.raises(OperationError, match="désactivées"):
        operations.create_topic(fresh(community), people["member"], "Titre", "Texte")
    db.session.rollback()
    # And search hides them: the rule says no.
    assert not can(people["owner"], "view", fresh(topic))


def test_guests_and_outsiders_read_a_public_community_but_do_not_write(
    client, login_as, people, create_community, start_topic, add_reply
):
    community = create_community(
        "Achats",
        slug="achats",
        owner=people["owner"],
        members=[people["member"], (people["guest"], "guest")],
    )
    topic = start_topic(community, people["member"], title="Réunion de crise")
    reply = add_reply(topic, people["owner"], "Barrières posées.")
    for user in (None, people["guest"], people["outsider"]):
        login_as(user)
        listing = text_of(client.get("/c/achats/discussions"))
        assert "Réunion de crise" in listing
        assert "Nouvelle discussion" not in listing
        page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
        assert "Barrières posées." in page
        assert 'id="reply-form"' not in page
        assert "Citer" not in page
    login_as(people["guest"])
    token = csrf(client)
    assert client.get("/c/achats/discussions/new").status_code == 403
    refused = client.post(
        f"/c/achats/discussions/{topic.id}/replies", data={"csrf_token": token, "body": "Je passe"}
    )
    assert refused.status_code == 403
    assert_untouched(topic, reply)
    login_as(None)
    assert client.get("/c/achats/discussions/new").headers["Location"].startswith("/login")


def test_only_authors_edit_and_a_non_author_member_cannot_touch_a_topic(
    client, login_as, people, create_community, start_topic, add_reply
):
    community = create_community(
        "Achats", slug="achats", owner=people["owner"], members=[people["member"], people["other"]]
    )
    topic = start_topic(community, people["member"], title="Réunion de crise")
    reply = add_reply(topic, people["owner"], "Barrières posées.")
    login_as(people["other"])
    for method, url, form in every_url("achats", topic.id, reply.id)[8:]:
        if url.endswith("/replies") or url.startswith(("/topic", "/reply")):
            continue  # replying is allowed; the ids redirect
        if method == "GET" and "/edit" not in url and "/delete" not in url:
            continue  # reading is allowed
        response = visit(client, method, url, form)
        assert response.status_code == 403, (method, url, response.status_code)
    assert_untouched(topic, reply)


def test_rules_through_can(people, create_community, start_topic, add_reply):
    community = create_community(
        "Achats",
        slug="achats",
        owner=people["owner"],
        members=[
            people["member"],
            people["other"],
            (people["moderator"], "moderator"),
            (people["guest"], "guest"),
        ],
    )
    topic = start_topic(community, people["member"])
    reply = add_reply(topic, people["other"])
    member, other, moderator = people["member"], people["other"], people["moderator"]
    assert can(None, "view", topic)
    assert can(people["outsider"], "view", reply)
    assert can(member, "reply", topic)
    assert not can(people["guest"], "reply", topic)
    assert can(member, "edit", topic)
    assert not can(other, "edit", topic)
    assert not can(moderator, "edit", topic)  # moderators delete, they do not rewrite
    assert can(member, "mark_answered", topic)
    assert can(moderator, "mark_answered", topic)
    assert not can(other, "mark_answered", topic)
    assert can(moderator, "pin", topic)
    assert can(people["owner"], "lock", topic)
    assert not can(member, "pin", topic)
    assert not can(member, "lock", topic)
    assert not can(member, "delete", topic)  # someone replied
    assert can(moderator, "delete", topic)
    assert can(other, "edit", reply)
    assert can(other, "delete", reply)
    assert not can(member, "edit", reply)
    assert not can(member, "delete", reply)
    assert can(moderator, "delete", reply)
    assert can(member, "quote", reply)

    operations.set_locked(topic, moderator, True)
    db.session.commit()
    assert not can(member, "reply", topic)
    assert can(moderator, "reply", topic)
    assert not can(other, "edit", reply)
    assert can(other, "delete", reply)
    with pytest.raises(OperationError, match="verrouillée"):
        operations.add_reply(topic, member, "Encore un mot")
    db.session.rollback()
    with pytest.raises(NotAllowed):
        operations.set_pinned(topic, member, True)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        operations.add_reply(topic, people["guest"], "Je passe")
    db.session.rollback()
    assert fresh(topic).reply_count == 1
