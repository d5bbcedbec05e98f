"""ActivityPub ids are never reused, and a deleted object's id answers 410 with a Tombstone.

On SQLite a table without AUTOINCREMENT hands the id of the last deleted row out again: a new
post became ``/post/12`` like the one just deleted, and a real peer dropped it.  Each federated
kind is created, deleted and created again here, on both databases.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from maillage.communities.discussions import operations as discussions
from maillage.communities.events import operations as events
from maillage.communities.posts import operations as posts
from maillage.federation.actors.models import Tombstone
from maillage.platform.extensions import db

BASE = "https://maillage.test"
AP = {"Accept": "application/activity+json"}


def _event(community, author):
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    fields = events.EventFields("Atelier", start, start + dt.timedelta(hours=2))
    return events.create_event(community, author, fields)


def _topic(community, author):
    return discussions.create_topic(community, author, "Sujet", "Texte")


def _post(community, author):
    return posts.create_post(community, author, "Titre", "Texte")


#: kind -> (create(community, author, parent), delete(obj, actor), parent maker or None)
KINDS = {
    "post": (lambda c, a, p: _post(c, a), posts.delete_post, None),
    "comment": (lambda c, a, p: posts.add_comment(p, a, "Oui"), posts.delete_comment, _post),
    "topic": (lambda c, a, p: _topic(c, a), discussions.delete_topic, None),
    "reply": (lambda c, a, p: discussions.add_reply(p, a, "Oui"), discussions.delete_reply, _topic),
    "event": (lambda c, a, p: _event(c, a), events.delete_event, None),
}
FORMER_TYPES = {
    "post": "Page",
    "comment": "Note",
    "topic": "Page",
    "reply": "Note",
    "event": "Event",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_create_delete_create_never_reuses_the_id(client, create_user, create_community, kind):
    create, remove, parent_maker = KINDS[kind]
    author = create_user()
    community = create_community(owner=author)
    parent = parent_maker(community, author) if parent_maker else None
    first = create(community, author, parent)
    db.session.commit()
    old_id, old_ap_id = first.id, first.ap_id
    remove(first, author)
    db.session.commit()
    second = create(community, author, parent)
    db.session.commit()

    assert second.id > old_id
    assert second.ap_id != old_ap_id
    response = client.get(old_ap_id, base_url=BASE, headers=AP)
    assert response.status_code == 410
    assert response.mimetype == "application/activity+json"
    document = response.get_json()
    assert document["type"] == "Tombstone"
    assert document["id"] == old_ap_id
    assert document["formerType"] == FORMER_TYPES[kind]
    assert document["deleted"]
    assert client.get(second.ap_id, base_url=BASE, headers=AP).status_code == 200


def test_comments_deleted_with_their_post_are_tombstoned(client, create_user, create_community):
    """The comments go with a bulk ``delete()`` (no unit of work): retired all the same."""
    author = create_user()
    post = _post(create_community(owner=author), author)
    comments = [posts.add_comment(post, author, f"Commentaire {n}") for n in range(3)]
    db.session.commit()
    ids = [comment.ap_id for comment in comments]
    posts.delete_post(post, author)
    db.session.commit()
    for ap_id in ids:
        assert client.get(ap_id, base_url=BASE, headers=AP).status_code == 410
    assert len(db.session.scalars(select(Tombstone)).all()) == 4


def test_tombstones_hold_no_content(create_user, create_community):
    author = create_user()
    post = _post(create_community(owner=author), author)
    db.session.commit()
    posts.delete_post(post, author)
    db.session.commit()
    [tombstone] = db.session.scalars(select(Tombstone)).all()
    assert (tombstone.ap_id, tombstone.type) == (f"{BASE}/post/{post.id}", "Page")
    assert {column.name for column in Tombstone.__table__.columns} == {
        "id",
        "digest",
        "ap_id",
        "type",
        "public",
        "deleted_at",
    }


def test_unknown_ids_stay_404(client):
    assert client.get("/post/987654", base_url=BASE, headers=AP).status_code == 404
    assert client.get("/u/personne", base_url=BASE, headers=AP).status_code == 404


def test_remote_content_leaves_no_tombstone(create_user, create_community):
    author = create_user()
    post = _post(create_community(owner=author), author)
    post.ap_id, post.local = "https://ailleurs.example/post/1", False
    db.session.commit()
    posts.delete_post(post, author)
    db.session.commit()
    assert db.session.scalar(select(Tombstone.id)) is None


def test_deleted_account_id_is_gone_and_never_given_again(client, create_user):
    """Account deletion gives the kept row a new id; the old one (``/u/<name>``) is retired."""
    from maillage.communities.users.operations import create_user as create
    from maillage.federation.actors.tombstones import IdRetired
    from maillage.platform.account_deletion.operations import execute, request_deletion

    alice = create_user("alice")
    old_ap_id = alice.ap_id
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    request_deletion(alice, now=past)
    db.session.commit()
    assert execute(alice.id)
    assert alice.ap_id != old_ap_id

    response = client.get("/u/alice", base_url=BASE, headers=AP)
    assert response.status_code == 410
    assert response.get_json()["formerType"] == "Person"
    tombstone = db.session.scalar(select(Tombstone))
    assert tombstone.ap_id is None  # the digest answers; nothing keeps the name
    from maillage.communities.users.queries import username_taken

    assert username_taken("alice")  # the sign-up form says so before trying
    with pytest.raises(IdRetired):
        create("alice", "Alice bis", "alice.bis@example.gouv.fr")
    db.session.rollback()
    assert create("alice2", "Alice bis", "alice.bis@example.gouv.fr").ap_id == f"{BASE}/u/alice2"


def test_single_sign_on_never_derives_a_retired_username(create_user):
    """A first SSO sign-in whose name leads to a deleted account's username gets the next free
    one instead of the « identifiant » error (the retired ActivityPub id is never issued)."""
    from maillage.auth.identities.info import IdentityInfo
    from maillage.auth.identities.operations import _available_username
    from maillage.platform.account_deletion.operations import execute, request_deletion

    camille = create_user("camille")
    request_deletion(camille, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
    db.session.commit()
    assert execute(camille.id)

    info = IdentityInfo(provider="proconnect", identifier="sub-1", username_hint="camille")
    assert _available_username(info) == "camille2"
