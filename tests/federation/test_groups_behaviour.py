"""The Group behaviour (FEP-1b12) with a peer that signs with its own key."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from maillage.communities.community.models import Membership
from maillage.communities.posts.models import Comment, Post, Reaction
from maillage.federation.groups.models import GroupFollower, InboxActivity
from maillage.platform.extensions import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def community(create_community):
    return create_community("Main", slug="main")


def _status(activity_id: str) -> str:
    return db.session.scalar(
        select(InboxActivity.status).where(InboxActivity.activity_id == activity_id)
    )


def _error(activity_id: str) -> str:
    return db.session.scalar(
        select(InboxActivity.error).where(InboxActivity.activity_id == activity_id)
    )


def _follow(client, peer, community, name="alice"):
    follow = peer.activity("Follow", community.ap_id, actor=peer.person_id(name))
    assert peer.post(client, "/inbox", follow).status_code == 202
    return follow


def _page(peer, community, name="alice", **extra):
    actor = peer.person_id(name)
    page = {
        "type": "Page",
        "id": f"{peer.base_url}/post/{len(peer.documents) + 1}",
        "attributedTo": actor,
        "to": [community.ap_id, PUBLIC],
        "audience": community.ap_id,
        "name": "Un titre distant",
        "content": "<p>Du <strong>texte</strong><script>alert(1)</script></p>",
        "mediaType": "text/html",
        **extra,
    }
    return peer.activity("Create", page, actor=actor, audience=community.ap_id)


def _deliver(app):
    """Run the deliveries the test queued (eager Celery already did; this is a no-op guard)."""
    db.session.expire_all()


def test_follow_makes_a_member_and_accepts(app, client, test_peer, community):
    follow = _follow(client, test_peer, community)
    assert _status(follow["id"]) == "done"
    row = db.session.scalar(select(GroupFollower))
    assert row.state == "accepted"
    assert row.follow_activity_id == follow["id"]
    member = db.session.scalar(select(Membership).where(Membership.community_id == community.id))
    assert member is not None
    _deliver(app)
    [accept] = test_peer.received_activities("Accept")
    assert accept["actor"] == community.ap_id
    assert accept["object"]["id"] == follow["id"]


def test_undo_follow_removes_follower_and_membership(client, test_peer, community):
    follow = _follow(client, test_peer, community)
    undo = test_peer.activity("Undo", follow, actor=follow["actor"])
    assert test_peer.post(client, "/inbox", undo).status_code == 202
    assert _status(undo["id"]) == "done"
    assert db.session.scalar(select(GroupFollower)) is None
    assert db.session.scalar(select(db.func.count()).select_from(Membership)) == 1  # the owner


def test_follow_of_banned_person_is_rejected(client, test_peer, community):
    from maillage.communities.moderation.operations import ban
    from maillage.federation.actors.operations import resolve_actor, shadow_user

    remote = resolve_actor(test_peer.person_id("alice"))
    owner = db.session.scalar(select(Membership).where(Membership.role == "owner")).user
    ban(owner, community, shadow_user(remote), "Spam", None)
    db.session.commit()
    _follow(client, test_peer, community)
    assert db.session.scalar(select(GroupFollower)) is None
    [reject] = test_peer.received_activities("Reject")
    assert reject["actor"] == community.ap_id


def test_create_page_makes_a_sanitised_remote_post(client, test_peer, community):
    create = _page(test_peer, community)
    assert test_peer.post(client, "/inbox", create).status_code == 202
    assert _status(create["id"]) == "done", _error(create["id"])
    post = db.session.scalar(select(Post))
    assert post.ap_id == create["object"]["id"]
    assert post.local is False
    assert post.title == "Un titre distant"
    assert "<script>" not in post.body_html
    assert "<strong>texte</strong>" in post.body_html
    assert post.author.local is False


def test_create_is_relayed_to_other_followers_not_to_origin(
    client, test_peer, other_peer, community
):
    _follow(client, test_peer, community)
    _follow(client, other_peer, community, name="bob")
    create = _page(test_peer, community)
    test_peer.post(client, "/inbox", create)
    announces = other_peer.received_activities("Announce")
    assert any(
        item["object"] == {k: v for k, v in create.items() if k != "@context"} for item in announces
    )
    assert any(item["object"] == create["object"]["id"] for item in announces)  # Mastodon
    assert test_peer.received_activities("Announce") == []


def test_object_of_another_origin_is_rejected(client, test_peer, other_peer, community):
    """CVE-2024-23832 class: a peer cannot create an object in another server's name."""
    create = _page(test_peer, community)
    create["object"]["id"] = f"{other_peer.base_url}/post/1"
    test_peer.post(client, "/inbox", create)
    assert _status(create["id"]) == "rejected"
    assert db.session.scalar(select(Post)) is None


def test_object_attributed_to_someone_else_is_rejected(client, test_peer, community):
    create = _page(test_peer, community)
    create["object"]["attributedTo"] = test_peer.person_id("mallory")
    test_peer.post(client, "/inbox", create)
    assert _status(create["id"]) == "rejected"


def test_mastodon_note_without_audience_reaches_the_community(client, test_peer, community):
    actor = test_peer.person_id("felix")
    note = {
        "type": "Note",
        "id": f"{test_peer.base_url}/users/felix/statuses/1",
        "attributedTo": actor,
        "to": [PUBLIC],
        "cc": [community.ap_id],
        "content": "<p>@main Bonjour à la communauté</p>",
        "tag": [{"type": "Mention", "href": community.ap_id, "name": "@main@maillage.test"}],
    }
    create = test_peer.activity("Create", note, actor=actor)
    test_peer.post(client, "/inbox", create)
    assert _status(create["id"]) == "done", _error(create["id"])
    post = db.session.scalar(select(Post))
    assert post.community_id == community.id
    assert "Bonjour" in post.title


def test_reply_note_makes_a_comment_and_like_a_reaction(client, test_peer, community):
    create = _page(test_peer, community)
    test_peer.post(client, "/inbox", create)
    post_id = create["object"]["id"]
    actor = test_peer.person_id("bob")
    note = {
        "type": "Note",
        "id": f"{test_peer.base_url}/comment/1",
        "attributedTo": actor,
        "inReplyTo": post_id,
        "to": [PUBLIC],
        "content": "<p>Une réponse</p>",
        "source": {"content": "Une *réponse*", "mediaType": "text/markdown"},
    }
    reply = test_peer.activity("Create", note, actor=actor)
    test_peer.post(client, "/inbox", reply)
    comment = db.session.scalar(select(Comment))
    assert comment.ap_id == note["id"]
    assert comment.local is False
    assert "<em>réponse</em>" in comment.body_html
    like = test_peer.activity("Like", post_id, actor=actor)
    test_peer.post(client, "/inbox", like)
    assert db.session.scalar(select(Reaction)).emoji == "👍"
    undo = test_peer.activity("Undo", like, actor=actor)
    test_peer.post(client, "/inbox", undo)
    assert db.session.scalar(select(Reaction)) is None


def test_delete_by_author_only(client, test_peer, community):
    create = _page(test_peer, community)
    test_peer.post(client, "/inbox", create)
    post_id = create["object"]["id"]
    forged = test_peer.activity("Delete", post_id, actor=test_peer.person_id("mallory"))
    test_peer.post(client, "/inbox", forged)
    assert _status(forged["id"]) == "rejected"
    delete = test_peer.activity("Delete", post_id, actor=create["actor"])
    test_peer.post(client, "/inbox", delete)
    assert _status(delete["id"]) == "done"
    assert db.session.scalar(select(Post)) is None


def test_flag_makes_a_moderation_report(client, test_peer, community):
    from maillage.communities.moderation.models import Report

    create = _page(test_peer, community)
    test_peer.post(client, "/inbox", create)
    flag = test_peer.activity(
        "Flag", create["object"]["id"], actor=test_peer.person_id("carol"), summary="Spam"
    )
    test_peer.post(client, "/inbox", flag)
    assert _status(flag["id"]) == "done", _error(flag["id"])
    report = db.session.scalar(select(Report))
    assert report.reason == "Spam"


def _followed_group(test_peer, create_user):
    """A remote group of the peer that one of our users follows (its shadow community)."""
    from maillage.federation.actors.operations import resolve_actor

    group = resolve_actor(test_peer.group_id("lemmy"))
    db.session.commit()
    return group


def test_announce_from_followed_group_creates_post(client, test_peer, create_user):
    group = _followed_group(test_peer, create_user)
    create = _page(test_peer, group.community, name="dave")
    announce = test_peer.activity("Announce", create, actor=group.ap_id)
    test_peer.post(client, "/inbox", announce)
    assert _status(announce["id"]) == "done", _error(announce["id"])
    post = db.session.scalar(select(Post))
    assert post.community_id == group.community_id
    assert post.local is False


def test_unsigned_announce_is_refused(client, test_peer, create_user):
    group = _followed_group(test_peer, create_user)
    create = _page(test_peer, group.community, name="dave")
    announce = test_peer.activity("Announce", create, actor=group.ap_id)
    assert test_peer.post(client, "/inbox", announce, sign=False).status_code == 401


def test_announce_signed_by_someone_else_than_the_group_is_refused(client, test_peer, create_user):
    group = _followed_group(test_peer, create_user)
    create = _page(test_peer, group.community, name="dave")
    announce = test_peer.activity("Announce", create, actor=group.ap_id)
    key_id = test_peer.key_id(test_peer.person_id("dave"))
    assert test_peer.post(client, "/inbox", announce, key_id=key_id).status_code == 403


def test_announce_of_another_groups_content_is_rejected(client, test_peer, create_user, community):
    group = _followed_group(test_peer, create_user)
    create = _page(test_peer, community, name="dave")  # addressed to another group
    announce = test_peer.activity("Announce", create, actor=group.ap_id)
    test_peer.post(client, "/inbox", announce)
    assert _status(announce["id"]) == "rejected"
    assert db.session.scalar(select(Post)) is None


def test_follower_inboxes_prefer_shared_inbox_and_exclude(client, test_peer, community):
    from maillage.federation.groups.queries import follower_inboxes, followers_count

    _follow(client, test_peer, community, "alice")
    _follow(client, test_peer, community, "bob")
    assert followers_count(community) == 2
    assert follower_inboxes(community) == [f"{test_peer.base_url}/inbox"]
    assert follower_inboxes(community, exclude_domains=[test_peer.netloc]) == []
