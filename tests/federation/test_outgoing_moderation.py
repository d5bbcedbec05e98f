"""Moderation, votes and boosts federate: each action over HTTP becomes the outbox rows (and
the signed requests the ``test_peer`` receives) that Lemmy/PieFed expect.

Local community: the moderator's activity inside the Group's ``Announce``, signed by the
community, to the follower instances' shared inboxes.  Remote community: only our person's
``Flag``, to that Group's inbox, signed by the person.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.platform.extensions import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def submit(client, url: str, data: dict | None = None):
    token = CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **(data or {})})


def _object_type(payload: dict):
    obj = payload.get("object")
    return obj.get("type") if isinstance(obj, dict) else None


def deliveries(kind: str | None = None, inner: str | None = None) -> list:
    """Outbox rows, by activity type and type of the embedded activity (``None`` matches a
    bare id only when asked with ``inner=""``)."""
    from maillage.federation.transport.models import Delivery

    db.session.expire_all()
    rows = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    return [
        row
        for row in rows
        if (kind is None or row.payload.get("type") == kind)
        and (inner is None or (_object_type(row.payload) or "") == inner)
    ]


def follow_local(test_peer, client, community, name: str = "alice") -> None:
    follow = test_peer.activity(
        "Follow", community.ap_id, actor=test_peer.person_id(name), to=[community.ap_id]
    )
    response = test_peer.post(client, f"/c/{community.slug}/inbox", follow)
    assert response.status_code == 202, response.get_data(as_text=True)
    db.session.expire_all()


def shadow(ap_id: str):
    from maillage.communities.users.models import User

    db.session.expire_all()
    return db.session.scalar(select(User).where(User.ap_id == ap_id))


def assert_announced(row, community, moderator, kind: str) -> dict:
    """The row is the Group's Announce of ``moderator``'s ``kind``; returns the inner one."""
    assert row.signer_ap_id == community.ap_id
    announce = row.payload
    assert announce["actor"] == community.ap_id
    assert announce["to"] == [PUBLIC]
    assert announce["cc"] == [f"{community.ap_id}/followers"]
    inner = announce["object"]
    assert inner["type"] == kind
    assert inner["actor"] == moderator.ap_id
    assert inner["audience"] == community.ap_id
    assert "@context" not in inner
    return inner


def received(test_peer, kind: str, inner: str) -> list[dict]:
    """What the peer received over HTTP (the delivery ran eagerly after the commit)."""
    return [
        item
        for item in test_peer.received
        if item["json"] and item["json"].get("type") == kind and _object_type(item["json"]) == inner
    ]


@pytest.fixture
def owner(create_user):
    return create_user("proprietaire")


@pytest.fixture
def author(create_user):
    return create_user("autrice")


@pytest.fixture
def community(test_peer, client, owner, author, create_community):
    community = create_community("Acheteurs", owner=owner, slug="acheteurs", members=[author])
    follow_local(test_peer, client, community)
    return community


# -- removal: hide, restore, delete -------------------------------------------------------------


def test_hide_is_a_delete_with_the_reason_and_restore_its_undo(
    test_peer, client, login_as, owner, author, community, create_post
):
    post = create_post(community, author, "À masquer")
    login_as(owner)
    url = f"/c/acheteurs/moderation/post/{post.id}"
    assert submit(client, f"{url}/hide", {"reason": "Hors sujet"}).status_code == 303
    [row] = deliveries("Announce", "Delete")
    delete = assert_announced(row, community, owner, "Delete")
    assert delete["object"] == post.ap_id
    assert delete["summary"] == "Hors sujet"
    assert delete["to"] == [PUBLIC]
    assert delete["cc"] == [community.ap_id]
    assert row.inbox_url == f"{test_peer.base_url}/inbox"

    assert submit(client, f"{url}/restore").status_code == 303
    [row] = deliveries("Announce", "Undo")
    undo = assert_announced(row, community, owner, "Undo")
    assert undo["object"]["type"] == "Delete"
    assert undo["object"]["actor"] == owner.ap_id
    assert undo["object"]["object"] == post.ap_id
    assert undo["object"]["id"] != delete["id"]
    # Sent over HTTP, signed by the community's key.
    [http] = received(test_peer, "Announce", "Undo")
    assert f'keyId="{community.ap_id}#main-key"' in http["headers"]["Signature"]


def test_moderator_delete_sends_one_delete_with_the_reason(
    test_peer, client, login_as, owner, author, community, create_post
):
    post = create_post(community, author, "À supprimer")
    post_ap_id = post.ap_id
    login_as(owner)
    response = submit(
        client, f"/c/acheteurs/moderation/post/{post.id}/delete", {"reason": "Publicité"}
    )
    assert response.status_code == 303
    [row] = deliveries("Announce", "Delete")
    delete = assert_announced(row, community, owner, "Delete")
    assert delete["object"] == post_ap_id
    assert delete["summary"] == "Publicité"


def test_removal_of_a_comment(test_peer, client, login_as, owner, author, community, create_post):
    from maillage.communities.posts.operations import add_comment

    post = create_post(community, owner)
    comment = add_comment(post, author, "Un commentaire")
    db.session.commit()
    login_as(owner)
    url = f"/c/acheteurs/moderation/comment/{comment.id}/hide"
    assert submit(client, url, {"reason": "Agressif"}).status_code == 303
    [row] = deliveries("Announce", "Delete")
    delete = assert_announced(row, community, owner, "Delete")
    assert (delete["object"], delete["summary"]) == (comment.ap_id, "Agressif")


# -- locks ------------------------------------------------------------------------------------


def test_lock_and_unlock(test_peer, client, login_as, owner, author, community, create_post):
    post = create_post(community, author, "Débat")
    login_as(owner)
    url = f"/c/acheteurs/moderation/post/{post.id}"
    assert submit(client, f"{url}/lock").status_code == 303
    [row] = deliveries("Announce", "Lock")
    lock = assert_announced(row, community, owner, "Lock")
    assert lock["object"] == post.ap_id
    assert submit(client, f"{url}/unlock").status_code == 303
    [row] = deliveries("Announce", "Undo")
    undo = assert_announced(row, community, owner, "Undo")
    assert (undo["object"]["type"], undo["object"]["object"]) == ("Lock", post.ap_id)
    assert len(received(test_peer, "Announce", "Lock")) == 1


# -- bans -------------------------------------------------------------------------------------


def test_ban_of_a_remote_member_is_a_block_and_lift_its_undo(
    test_peer, client, login_as, owner, community
):
    alice = shadow(test_peer.person_id("alice"))
    login_as(owner)
    response = submit(
        client,
        "/c/acheteurs/moderation/sanctions",
        {"username": alice.username, "kind": "ban", "duration": "7", "reason": "Spam répété"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    [row] = deliveries("Announce", "Block")
    block = assert_announced(row, community, owner, "Block")
    assert block["object"] == alice.ap_id
    assert block["target"] == community.ap_id
    assert block["summary"] == "Spam répété"
    assert block["expires"]
    assert block["expires"] == block["endTime"]
    assert row.inbox_url == f"{test_peer.base_url}/inbox"

    from maillage.communities.moderation.models import Sanction

    sanction = db.session.scalar(select(Sanction))
    response = submit(client, f"/c/acheteurs/moderation/sanctions/{sanction.id}/lift")
    assert response.status_code == 303
    [row] = deliveries("Announce", "Undo")
    undo = assert_announced(row, community, owner, "Undo")
    assert undo["object"]["type"] == "Block"
    assert (undo["object"]["object"], undo["object"]["target"]) == (alice.ap_id, community.ap_id)


def test_block_reaches_the_banned_persons_instance_even_without_followers(
    test_peer, other_peer, client, owner, community
):
    """The banned person's instance follows nothing here: it is told all the same."""
    from maillage.communities.community.operations import add_membership
    from maillage.communities.moderation.operations import ban
    from maillage.federation.actors.operations import resolve_actor

    remote = resolve_actor(other_peer.person_id("carol"))
    carol = shadow(remote.ap_id)
    add_membership(community, carol, "member")
    db.session.commit()
    ban(owner, community, carol, "Hors charte", None)
    db.session.commit()
    rows = deliveries("Announce", "Block")
    assert {row.inbox_url for row in rows} == {
        f"{test_peer.base_url}/inbox",
        f"{other_peer.base_url}/inbox",
    }
    assert "expires" not in rows[0].payload["object"]  # permanent


def test_mute_stays_local(test_peer, client, login_as, owner, community):
    alice = shadow(test_peer.person_id("alice"))
    login_as(owner)
    response = submit(
        client,
        "/c/acheteurs/moderation/sanctions",
        {"username": alice.username, "kind": "mute", "duration": "1", "reason": "Calmez-vous"},
    )
    assert response.status_code == 303
    assert deliveries("Announce") == []


# -- moderators ---------------------------------------------------------------------------------


def test_role_changes_add_and_remove_moderators(
    test_peer, client, login_as, owner, author, community
):
    login_as(owner)
    url = f"/c/acheteurs/members/{author.id}/role"
    assert submit(client, url, {"role": "moderator"}).status_code in (302, 303)
    [row] = deliveries("Announce", "Add")
    add = assert_announced(row, community, owner, "Add")
    assert add["object"] == author.ap_id
    assert add["target"] == f"{community.ap_id}/moderators"
    # moderator -> facilitator: still moderates, nothing sent
    assert submit(client, url, {"role": "facilitator"}).status_code in (302, 303)
    assert len(deliveries("Announce")) == 1
    assert submit(client, url, {"role": "member"}).status_code in (302, 303)
    [row] = deliveries("Announce", "Remove")
    remove = assert_announced(row, community, owner, "Remove")
    assert (remove["object"], remove["target"]) == (author.ap_id, f"{community.ap_id}/moderators")
    assert submit(client, url, {"role": "guest"}).status_code in (302, 303)
    assert len(deliveries("Announce")) == 2


def test_remote_member_made_moderator_is_told_to_its_instance(test_peer, owner, community):
    from maillage.communities.community.operations import change_role

    alice = shadow(test_peer.person_id("alice"))
    change_role(community, owner, alice, "moderator")
    db.session.commit()
    [row] = deliveries("Announce", "Add")
    assert row.payload["object"]["object"] == alice.ap_id
    assert row.inbox_url == f"{test_peer.base_url}/inbox"


# -- pinned announcements -----------------------------------------------------------------------


def test_pinned_announcements_do_not_federate(test_peer, owner, community):
    """Not posts: no ActivityPub id to Add to ``featured`` (see outgoing.moderation)."""
    from maillage.communities.animation.operations import create_announcement, unpin_announcement

    announcement = create_announcement(community, owner, "Réunion", "Jeudi à 10 h")
    unpin_announcement(announcement, owner)
    db.session.commit()
    assert deliveries("Announce") == []


# -- votes ------------------------------------------------------------------------------------


def test_vote_in_local_community_is_announced_like_and_undo(
    test_peer, client, login_as, owner, author, community, create_post
):
    post = create_post(community, owner)
    login_as(author)
    assert submit(client, f"/post/{post.id}/react", {"emoji": "👍"}).status_code == 302
    [row] = deliveries("Announce", "Like")
    like = assert_announced(row, community, author, "Like")
    assert like["object"] == post.ap_id
    assert submit(client, f"/post/{post.id}/react", {"emoji": "👍"}).status_code == 302
    [row] = deliveries("Announce", "Undo")
    undo = assert_announced(row, community, author, "Undo")
    assert (undo["object"]["type"], undo["object"]["object"]) == ("Like", post.ap_id)
    assert submit(client, f"/post/{post.id}/react", {"emoji": "🎉"}).status_code == 302
    votes = deliveries("Announce", "Like") + deliveries("Announce", "Undo")
    assert len(votes) == 2  # other emoji stay local


# -- boosts for Mastodon ------------------------------------------------------------------------


def test_new_content_is_also_announced_as_the_plain_object_once_per_inbox(
    test_peer, client, login_as, owner, community, create_post
):
    from maillage.communities.posts.operations import add_comment, edit_post

    follow_local(test_peer, client, community, "bob")  # same instance: one shared inbox
    post = create_post(community, owner, "Guide")
    [plain] = deliveries("Announce", "")
    assert plain.payload["object"] == post.ap_id
    assert plain.payload["actor"] == community.ap_id
    assert plain.signer_ap_id == community.ap_id
    assert plain.payload["to"] == [PUBLIC]
    assert plain.payload["audience"] == community.ap_id
    assert len(deliveries("Announce", "Create")) == 1
    edit_post(post, owner, "Guide 2", "…")
    db.session.commit()
    assert len(deliveries("Announce", "")) == 1  # an edit is no new boost
    add_comment(post, owner, "Précision")
    db.session.commit()
    # A comment is no boost (Lemmy-like peers would fetch it again): test_outgoing_boosts.py
    assert [row.payload["object"] for row in deliveries("Announce", "")] == [post.ap_id]
    boosts = [item for item in test_peer.received if item["json"]["object"] == post.ap_id]
    assert len(boosts) == 1


# -- private and secret -------------------------------------------------------------------------


def test_private_community_moderation_is_never_public(
    test_peer, client, owner, author, create_community, create_post
):
    from maillage.communities.moderation.operations import hide, lock
    from maillage.federation.transport.operations import set_instance_policy

    set_instance_policy(None, test_peer.domain, "allowed", "tests")
    db.session.commit()
    community = create_community(owner=owner, slug="interne", visibility="private")
    follow_local(test_peer, client, community)
    from maillage.communities.community.operations import add_membership

    add_membership(community, author, "member")
    post = create_post(community, author, "Interne")
    hide(owner, post, "Doublon")
    lock(owner, post)
    db.session.commit()
    rows = deliveries("Announce", "Delete") + deliveries("Announce", "Lock")
    assert len(rows) == 2
    for row in rows:
        assert row.payload["to"] == [f"{community.ap_id}/followers"]
        assert PUBLIC not in str(row.payload)
    assert deliveries("Announce", "") == []  # no boost of private content either


def test_secret_community_moderation_never_federates(owner, author, create_community, create_post):
    from maillage.communities.moderation.operations import hide, lock

    community = create_community(owner=owner, visibility="secret", members=[author])
    post = create_post(community, author)
    hide(owner, post, "Doublon")
    lock(owner, post)
    db.session.commit()
    assert deliveries() == []
