"""The plain-object ``Announce`` (a boost, for Mastodon) goes with new public posts only, never
with comments (issue 11): a Lemmy-like peer, which already applied the wrapped
``Announce{Create{Note}}``, fetched the boosted comment again and logged a failure for each.

Two real peers follow our community, as the recorded payloads do it: a Lemmy-like instance
(``test_peer``) and a Mastodon one (``other_peer``, with Mastodon's recorded ``Follow``).
Content comes from our own people, and from the Lemmy peer's recorded ``Create{Page}`` and
``Create{Note}`` that our Group relays.  What each peer received over HTTP is checked.
"""

from __future__ import annotations

import pytest

from maillage.platform.extensions import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
RECORDED_GROUPS = (
    "http://enterprise.lemmy.ml/c/main",
    "https://enterprise.lemmy.ml/c/main",
    "https://ds9.lemmy.ml/c/testcom",
)


@pytest.fixture
def owner(create_user):
    return create_user("autrice")


@pytest.fixture
def community(create_community, owner):
    return create_community("Main", slug="main", owner=owner)


@pytest.fixture
def followed(client, test_peer, other_peer, rewrite, load_fixture, community):
    """Both peers follow ``community``; returns ``(lemmy, mastodon)``."""
    local = dict.fromkeys(RECORDED_GROUPS, community.ap_id)
    lemmy_follow = rewrite(load_fixture("lemmy/activities/following/follow.json"), local)
    mastodon_follow = rewrite(
        load_fixture("mastodon/activities/follow.json"), local, peer=other_peer
    )
    for peer, follow in ((test_peer, lemmy_follow), (other_peer, mastodon_follow)):
        assert follow["object"] == community.ap_id
        response = peer.post(client, f"/c/{community.slug}/inbox", follow)
        assert response.status_code == 202, response.get_data(as_text=True)
    db.session.expire_all()
    for peer in (test_peer, other_peer):
        assert peer.received_activities("Accept")
        peer.received.clear()
    return test_peer, other_peer


def boosts(peer) -> list[str]:
    """Ids of the bare objects our Group announced to ``peer``."""
    return [
        a["object"] for a in peer.received_activities("Announce") if isinstance(a["object"], str)
    ]


def wrapped(peer, kind: str) -> list[dict]:
    """The objects of the ``Announce{Create}`` our Group sent to ``peer`` (Lemmy's form)."""
    return [
        a["object"]["object"]
        for a in peer.received_activities("Announce")
        if isinstance(a["object"], dict)
        and a["object"]["type"] == "Create"
        and a["object"]["object"]["type"] == kind
    ]


def assert_lemmy_shape(announce: dict, recorded: dict, community) -> None:
    """Our wrapped Announce has the keys and addressing of Lemmy's recorded one."""
    assert set(recorded) - {"@context"} <= set(announce)
    assert announce["actor"] == community.ap_id
    assert (announce["to"], announce["cc"]) == ([PUBLIC], [f"{community.ap_id}/followers"])
    assert set(recorded["object"]) - {"@context"} <= set(announce["object"])


def test_a_local_post_is_boosted_and_its_comments_are_not(
    followed, load_fixture, community, owner, create_post
):
    from maillage.communities.posts.operations import add_comment

    lemmy, mastodon = followed
    post = create_post(community, owner, "Guide des achats")
    comment = add_comment(post, owner, "Une précision")
    db.session.commit()
    second = add_comment(post, owner, "Une autre précision")
    db.session.commit()
    recorded = load_fixture("lemmy/activities/community/announce_create_page.json")
    for peer in (lemmy, mastodon):
        [page] = wrapped(peer, "Page")
        assert page["id"] == post.ap_id
        [announce] = [
            a for a in peer.received_activities("Announce") if isinstance(a["object"], dict)
        ][:1]
        assert_lemmy_shape(announce, recorded, community)
        assert [note["id"] for note in wrapped(peer, "Note")] == [comment.ap_id, second.ap_id]
        assert boosts(peer) == [post.ap_id]  # the post only, none of its comments


def test_relayed_lemmy_post_is_boosted_and_its_comment_is_not(
    client, followed, rewrite, load_fixture, community
):
    """The Lemmy peer's recorded post and comment: our Group relays both to the Mastodon
    follower, and boosts the post only (nothing goes back to the Lemmy peer, their origin)."""
    lemmy, mastodon = followed
    local = dict.fromkeys(RECORDED_GROUPS, community.ap_id)
    page = rewrite(load_fixture("lemmy/activities/create_or_update/create_page.json"), local)
    note = rewrite(load_fixture("lemmy/activities/create_or_update/create_comment.json"), local)
    assert note["object"]["inReplyTo"] == page["object"]["id"]
    for activity in (page, note):
        response = lemmy.post(client, "/inbox", activity)
        assert response.status_code == 202, response.get_data(as_text=True)
    assert [item["id"] for item in wrapped(mastodon, "Page")] == [page["object"]["id"]]
    assert [item["id"] for item in wrapped(mastodon, "Note")] == [note["object"]["id"]]
    assert boosts(mastodon) == [page["object"]["id"]]
    assert lemmy.received_activities("Announce") == []


def test_boosts_follow_the_object_not_the_activity():
    from maillage.federation.outgoing.publish import boosted

    assert boosted({"id": "https://x.example/post/1", "type": "Page"})
    assert boosted({"id": "https://x.example/event/1", "type": "Event"})
    assert not boosted({"id": "https://x.example/comment/1", "type": "Note", "inReplyTo": "p"})
    assert not boosted({"type": "Page"})
    assert not boosted("https://x.example/post/1")
