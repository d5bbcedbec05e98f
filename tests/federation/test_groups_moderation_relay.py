"""Moderation received from other servers: a moderator's ``Delete`` is a removal (hidden,
restorable with ``Undo{Delete}``), an author's ``Delete`` deletes; what a remote moderator does
in one of our communities is relayed to our other followers; private communities' relays stay
with allow-listed instances and never use the bare-object (Mastodon) Announce."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from maillage.communities.community.models import Role
from maillage.communities.posts.models import Post
from maillage.federation.groups.models import InboxActivity
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def community(create_community):
    return create_community("Main", slug="main")


def _row(activity_id: str) -> InboxActivity:
    db.session.expire_all()
    return db.session.scalar(select(InboxActivity).where(InboxActivity.activity_id == activity_id))


def _accepted(peer, client, activity, path="/inbox") -> InboxActivity:
    assert peer.post(client, path, activity).status_code == 202
    return _row(activity["id"])


def _follow(client, peer, community, name="alice"):
    follow = peer.activity("Follow", community.ap_id, actor=peer.person_id(name))
    assert _accepted(peer, client, follow).status == "done"


def _page(peer, community, name="alice"):
    actor = peer.person_id(name)
    page = {
        "type": "Page",
        "id": f"{peer.base_url}/post/{len(peer.documents) + 1}-{name}",
        "attributedTo": actor,
        "to": [community.ap_id, PUBLIC],
        "audience": community.ap_id,
        "name": "Un titre distant",
        "content": "<p>Du texte</p>",
        "mediaType": "text/html",
    }
    return peer.activity("Create", page, actor=actor, audience=community.ap_id)


def _post(ap_id: str) -> Post | None:
    db.session.expire_all()
    return db.session.scalar(select(Post).where(Post.ap_id == ap_id))


def _remote_member(peer, community, name: str, role: str):
    from maillage.communities.community.operations import add_membership
    from maillage.federation.actors.operations import resolve_actor, shadow_user

    user = shadow_user(resolve_actor(peer.person_id(name)))
    add_membership(community, user, role)
    db.session.commit()
    return user


def _relayed(peer, kind: str) -> list[dict]:
    """The inner activities of ``kind`` our Groups announced to ``peer``."""
    return [
        item["object"]
        for item in peer.received_activities("Announce")
        if isinstance(item["object"], dict) and item["object"].get("type") == kind
    ]


# -- a remote group's removal, as it announces it -----------------------------------------------


def _group_with_post(client, test_peer):
    from maillage.federation.actors.operations import resolve_actor

    group = resolve_actor(test_peer.group_id("lemmy"))
    db.session.commit()
    create = _page(test_peer, group.community, name="dave")
    announce = test_peer.activity("Announce", create, actor=group.ap_id)
    assert _accepted(test_peer, client, announce).status == "done"
    return group, create


def _announced(peer, group, kind, obj, actor, **extra):
    inner = peer.activity(kind, obj, actor=actor, audience=group.ap_id, **extra)
    return inner, peer.activity("Announce", inner, actor=group.ap_id)


def test_remote_group_removal_hides_and_undo_restores(client, test_peer, create_user):
    group, create = _group_with_post(client, test_peer)
    post_id = create["object"]["id"]
    moderator = test_peer.person_id("gmod")
    delete, announce = _announced(test_peer, group, "Delete", post_id, moderator, summary="HS")
    row = _accepted(test_peer, client, announce)
    assert row.status == "done", row.error
    post = _post(post_id)
    assert post is not None, "a removal is not a deletion"
    assert post.hidden_at is not None
    assert post.hidden_reason == "HS"
    assert post.hidden_by_id is None

    _undo, announce = _announced(test_peer, group, "Undo", delete, moderator)
    row = _accepted(test_peer, client, announce)
    assert row.status == "done", row.error
    post = _post(post_id)
    assert (post.hidden_at, post.hidden_reason, post.hidden_by_id) == (None, "", None)


def test_remote_group_author_delete_still_deletes(client, test_peer, create_user):
    group, create = _group_with_post(client, test_peer)
    post_id = create["object"]["id"]
    _delete, announce = _announced(test_peer, group, "Delete", post_id, create["actor"])
    assert _accepted(test_peer, client, announce).status == "done"
    assert _post(post_id) is None


def test_removal_not_vouched_by_the_group_is_rejected(client, test_peer, create_user):
    _group, create = _group_with_post(client, test_peer)
    post_id = create["object"]["id"]
    delete = test_peer.activity("Delete", post_id, actor=test_peer.person_id("gmod"))
    assert _accepted(test_peer, client, delete).status == "rejected"
    assert _post(post_id).hidden_at is None


# -- a remote moderator in one of our communities -----------------------------------------------


def _our_post_with_followers(client, test_peer, other_peer, community):
    _follow(client, test_peer, community)
    _follow(client, other_peer, community, name="bob")
    create = _page(test_peer, community)
    assert _accepted(test_peer, client, create).status == "done"
    return create["object"]["id"]


def test_remote_moderator_removal_hides_restores_and_is_relayed(
    client, test_peer, other_peer, community
):
    from maillage.platform.audit.models import AuditEntry

    post_id = _our_post_with_followers(client, test_peer, other_peer, community)
    moderator = _remote_member(test_peer, community, "modo", Role.MODERATOR)
    delete = test_peer.activity("Delete", post_id, actor=moderator.ap_id, summary="Hors sujet")
    row = _accepted(test_peer, client, delete)
    assert row.status == "done", row.error
    post = _post(post_id)
    assert post.hidden_at is not None
    assert post.hidden_reason == "Hors sujet"
    assert post.hidden_by_id == moderator.id  # through moderation.operations.hide
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "moderation.hide"))
    assert [item["id"] for item in _relayed(other_peer, "Delete")] == [delete["id"]]
    assert _relayed(test_peer, "Delete") == []  # not back to the origin

    undo = test_peer.activity("Undo", delete, actor=moderator.ap_id)
    row = _accepted(test_peer, client, undo)
    assert row.status == "done", row.error
    assert _post(post_id).hidden_at is None
    assert [item["id"] for item in _relayed(other_peer, "Undo")] == [undo["id"]]


def test_removal_by_a_plain_member_is_rejected(client, test_peer, other_peer, community):
    post_id = _our_post_with_followers(client, test_peer, other_peer, community)
    member = _remote_member(test_peer, community, "eve", Role.MEMBER)
    delete = test_peer.activity("Delete", post_id, actor=member.ap_id, summary="Non")
    assert _accepted(test_peer, client, delete).status == "rejected"
    assert _post(post_id).hidden_at is None
    assert _relayed(other_peer, "Delete") == []


def test_remote_moderator_lock_and_unlock_are_relayed(client, test_peer, other_peer, community):
    post_id = _our_post_with_followers(client, test_peer, other_peer, community)
    moderator = _remote_member(test_peer, community, "modo", Role.MODERATOR)
    lock = test_peer.activity("Lock", post_id, actor=moderator.ap_id)
    assert _accepted(test_peer, client, lock).status == "done"
    assert _post(post_id).locked_at is not None
    assert [item["id"] for item in _relayed(other_peer, "Lock")] == [lock["id"]]
    undo = test_peer.activity("Undo", lock, actor=moderator.ap_id)
    assert _accepted(test_peer, client, undo).status == "done"
    assert _post(post_id).locked_at is None
    assert [item["id"] for item in _relayed(other_peer, "Undo")] == [undo["id"]]
    assert _relayed(test_peer, "Lock") == _relayed(test_peer, "Undo") == []


def test_remote_facilitator_ban_and_moderators_are_relayed(
    client, test_peer, other_peer, community
):
    from maillage.communities.community.operations import membership_of
    from maillage.communities.moderation.queries import is_banned

    _our_post_with_followers(client, test_peer, other_peer, community)
    facilitator = _remote_member(test_peer, community, "anim", Role.FACILITATOR)
    troll = _remote_member(test_peer, community, "troll", Role.MEMBER)
    block = test_peer.activity(
        "Block", troll.ap_id, actor=facilitator.ap_id, target=community.ap_id, summary="Spam"
    )
    assert _accepted(test_peer, client, block).status == "done"
    assert is_banned(troll, community, now=utcnow())
    undo = test_peer.activity("Undo", block, actor=facilitator.ap_id)
    assert _accepted(test_peer, client, undo).status == "done"
    assert not is_banned(troll, community, now=utcnow())
    assert [item["id"] for item in _relayed(other_peer, "Block")] == [block["id"]]
    assert [item["id"] for item in _relayed(other_peer, "Undo")] == [undo["id"]]

    helper = _remote_member(test_peer, community, "aide", Role.MEMBER)
    moderators = f"{community.ap_id}/moderators"
    for kind, role in (("Add", Role.MODERATOR), ("Remove", Role.MEMBER)):
        change = test_peer.activity(kind, helper.ap_id, actor=facilitator.ap_id, target=moderators)
        row = _accepted(test_peer, client, change)
        assert row.status == "done", row.error
        assert membership_of(community, helper).role == role
        assert [item["id"] for item in _relayed(other_peer, kind)] == [change["id"]]


def test_moderators_changed_by_a_moderator_is_rejected(client, test_peer, community):
    from maillage.communities.community.operations import membership_of

    moderator = _remote_member(test_peer, community, "modo", Role.MODERATOR)
    helper = _remote_member(test_peer, community, "aide", Role.MEMBER)
    add = test_peer.activity(
        "Add", helper.ap_id, actor=moderator.ap_id, target=f"{community.ap_id}/moderators"
    )
    assert _accepted(test_peer, client, add).status == "rejected"
    assert membership_of(community, helper).role == Role.MEMBER


# -- privacy of the relays ----------------------------------------------------------------------


def test_public_community_also_announces_the_bare_object(client, test_peer, other_peer, community):
    _our_post_with_followers(client, test_peer, other_peer, community)
    bare = [i for i in other_peer.received_activities("Announce") if isinstance(i["object"], str)]
    assert len(bare) == 1


def test_private_community_relays_only_to_allow_listed_without_bare_announce(
    client, test_peer, other_peer, make_peer, create_user, create_community
):
    from maillage.federation.groups.queries import follower_inboxes
    from maillage.federation.transport.models import Instance
    from maillage.federation.transport.operations import set_instance_policy

    third = make_peer("third")
    private = create_community("Inter-admin", visibility="private", slug="interne")
    admin = create_user("gestion", is_admin=True)
    for peer in (test_peer, other_peer, third):
        set_instance_policy(admin, peer.domain, "allowed")
    db.session.commit()
    _follow(client, test_peer, private)
    _follow(client, other_peer, private, name="bob")
    _follow(client, third, private, name="carl")
    # the third instance leaves the allow-list: it keeps its follower row, gets nothing more
    db.session.scalar(select(Instance).where(Instance.domain == third.domain)).policy = None
    db.session.commit()
    assert follower_inboxes(private, exclude_domains=[test_peer.netloc]) == [
        f"{other_peer.base_url}/inbox"
    ]

    create = _page(test_peer, private)
    create["to"] = [f"{private.ap_id}/followers"]
    create["object"]["to"] = [private.ap_id]
    assert _accepted(test_peer, client, create, f"/c/{private.slug}/inbox").status == "done"
    announces = other_peer.received_activities("Announce")
    assert [item["object"]["id"] for item in announces] == [create["id"]]  # no bare object
    assert all(PUBLIC not in item["to"] + item["cc"] for item in announces)
    assert third.received_activities("Announce") == []
    assert test_peer.received_activities("Announce") == []
