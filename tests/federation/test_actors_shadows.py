"""Shadow rows of remote Groups keep the visibility their origin declares
(``maillage:visibility``), and resolving an actor is safe when two deliveries race for it."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from maillage.communities.community.models import Community, JoinPolicy, Visibility
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.federation.actors import operations, serialize
from maillage.federation.actors.models import RemoteActor
from maillage.federation.transport.operations import set_instance_policy
from maillage.platform.extensions import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _group_document(peer, name: str, **extra) -> dict:
    from urllib.parse import urlsplit

    group_id = peer.group_id(name)
    document = {**peer.actor_document(group_id), **extra}
    peer.documents[urlsplit(group_id).path] = document
    return document


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


# -- what we serve ------------------------------------------------------------------------------


def test_group_document_declares_the_visibility(create_community):
    public = create_community(slug="ouverte")
    private = create_community(slug="fermee", visibility="private")
    context = serialize.CONTEXT[2]
    assert context["maillage"] == serialize.MAILLAGE_NS
    public_doc, private_doc = serialize.group(public), serialize.group(private)
    assert public_doc["maillage:visibility"] == "public"
    assert public_doc["manuallyApprovesFollowers"] is False
    assert private_doc["maillage:visibility"] == "private"
    assert private_doc["manuallyApprovesFollowers"] is True
    assert private_doc["discoverable"] is False


def test_served_group_document_carries_the_visibility(client, create_community):
    create_community(slug="ouverte")
    response = client.get(
        "/c/ouverte",
        headers={"Accept": "application/activity+json"},
        base_url="https://maillage.test",
    )
    assert response.status_code == 200
    assert json.loads(response.data)["maillage:visibility"] == "public"


# -- what we read -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, Visibility.PUBLIC),  # Lemmy, PieFed, Mastodon say nothing: public
        ({"maillage:visibility": "public"}, Visibility.PUBLIC),
        ({"maillage:visibility": "private"}, Visibility.PRIVATE),
        ({"https://maillage.fr/ns#visibility": "private"}, Visibility.PRIVATE),
        ({"maillage:visibility": "secret"}, Visibility.PRIVATE),  # unknown value: fail closed
        ({"maillage:visibility": ["public"]}, Visibility.PRIVATE),
    ],
)
def test_remote_visibility(extra, expected):
    assert operations.remote_visibility({"type": "Group", **extra}) == expected


def test_private_remote_community_is_private_here(app, test_peer, create_user, create_post):
    _group_document(
        test_peer,
        "interne",
        **{"maillage:visibility": "private", "manuallyApprovesFollowers": True},
    )
    actor = operations.resolve_actor(test_peer.group_id("interne"))
    db.session.commit()
    community = actor.community
    assert (community.visibility, community.join_policy) == (
        Visibility.PRIVATE,
        JoinPolicy.REQUEST,
    )
    member, outsider = create_user("membre"), create_user("curieux")
    from maillage.communities.community.operations import add_membership

    add_membership(community, member, "member")
    db.session.commit()
    post = create_post(community, member, "Entre nous", "Réservé.")
    assert can(member, "view", post)
    assert not can(outsider, "view", post)
    assert not can(None, "view", post)


def test_our_posts_in_a_private_remote_community_are_never_public(
    app, test_peer, create_user, create_post
):
    from maillage.communities.community.operations import add_membership
    from maillage.federation.transport.models import Delivery

    _group_document(test_peer, "interne", **{"maillage:visibility": "private"})
    community = operations.resolve_actor(test_peer.group_id("interne")).community
    member = create_user("membre")
    add_membership(community, member, "member")
    set_instance_policy(create_user(is_admin=True), test_peer.domain, "allowed")
    db.session.commit()
    create_post(community, member, "Entre nous", "Réservé.")
    rows = db.session.scalars(select(Delivery)).all()
    assert [row.payload["type"] for row in rows] == ["Create"]
    assert PUBLIC not in json.dumps(rows[0].payload)
    assert rows[0].payload["object"]["audience"] == community.ap_id


def test_visibility_follows_the_group_document(app, test_peer):
    group_id = test_peer.group_id("change")
    _group_document(test_peer, "change", **{"maillage:visibility": "private"})
    community = operations.resolve_actor(group_id).community
    db.session.commit()
    assert community.visibility == Visibility.PRIVATE
    _group_document(test_peer, "change", **{"maillage:visibility": "public"})
    operations.resolve_actor(group_id, refresh=True)
    db.session.commit()
    assert community.visibility == Visibility.PUBLIC
    assert _count(Community) == 1


# -- races --------------------------------------------------------------------------------------


def test_two_concurrent_resolutions_make_one_actor_and_one_shadow(app, test_peer):
    """Two deliveries of a new actor at the same moment, each in its own app context (a worker
    each): both fetch (the peer answers only once both asked), both store; one row each."""
    operations.instance_actor_key(commit=True)
    alice_id = test_peer.person_id("alice")
    barrier = threading.Barrier(2, timeout=10)

    def both_asked(path: str) -> None:  # answers only once both workers are fetching
        if path == "/u/alice":
            barrier.wait()

    test_peer.on_get = both_asked
    results, errors = [], []

    def worker():
        with app.app_context():
            try:
                actor = operations.resolve_actor(alice_id)
                db.session.commit()
                results.append((actor.id, actor.user_id))
            except Exception as exc:  # reported below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 2
    assert results[0] == results[1]
    db.session.expire_all()
    assert _count(RemoteActor) == 1
    assert db.session.scalar(select(func.count(User.id)).where(User.ap_id == alice_id)) == 1


@pytest.mark.parametrize("kind", ["Person", "Group"])
def test_actor_inserted_meanwhile_is_read_again(app, test_peer, kind):
    """Deterministic version: another connection commits the same actor (and its shadow row)
    just before our first write; our insert fails, the savepoint rolls back, the winner's rows
    are updated instead of an IntegrityError escaping."""
    operations.instance_actor_key(commit=True)
    actor_id = test_peer.person_id("bob") if kind == "Person" else test_peer.group_id("bob")
    fired = []

    def competitor(session, _context, _instances):
        if fired or not any(isinstance(obj, RemoteActor) for obj in session.new):
            return
        fired.append(True)
        with Session(db.engine) as other:
            shadow = (
                User(username=f"bob@{test_peer.netloc}", ap_id=actor_id, local=False)
                if kind == "Person"
                else Community(slug=f"bob@{test_peer.netloc}", ap_id=actor_id, local=False)
            )
            other.add(shadow)
            other.flush()
            other.add(
                RemoteActor(
                    ap_id=actor_id,
                    type=kind,
                    preferred_username="bob",
                    domain=test_peer.netloc,
                    inbox=f"{actor_id}/inbox",
                    user_id=shadow.id if kind == "Person" else None,
                    community_id=shadow.id if kind == "Group" else None,
                )
            )
            other.commit()

    event.listen(Session, "before_flush", competitor)
    try:
        actor = operations.resolve_actor(actor_id)
        db.session.commit()
    finally:
        event.remove(Session, "before_flush", competitor)
    assert fired == [True]
    db.session.expire_all()
    assert _count(RemoteActor) == 1
    assert actor.public_key_pem == test_peer.public_key_pem  # the winner's row, brought up to date
    shadow = actor.user if kind == "Person" else actor.community
    assert shadow is not None
    assert (shadow.ap_id, shadow.local) == (actor_id, False)
    assert (shadow.display_name if kind == "Person" else shadow.name) == "Bob"
