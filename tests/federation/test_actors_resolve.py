"""Resolving remote actors over real HTTP (the ``test_peer`` loopback server of conftest.py,
fetched through ``transport.fetch.fetch_object``), origin checks and shadow rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.federation.actors import operations
from maillage.federation.actors.documents import ActorError
from maillage.federation.actors.models import RemoteActor
from maillage.platform.db import utcnow
from maillage.platform.extensions import db


def _serve(peer, document):
    """Serve an actor document at its id (``publish`` would also file its ``#main-key``
    fragment under the same path)."""
    from urllib.parse import urlsplit

    peer.documents[urlsplit(document["id"]).path] = document


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_person_becomes_a_remote_actor_and_a_shadow_user(app, test_peer):
    alice_id = test_peer.person_id("alice")
    actor = operations.resolve_actor(alice_id)
    db.session.commit()
    assert actor.type == "Person"
    assert actor.domain == test_peer.netloc
    assert actor.inbox == f"{alice_id}/inbox"
    assert actor.shared_inbox == f"{test_peer.base_url}/inbox"
    assert actor.public_key_id == f"{alice_id}#main-key"
    assert actor.public_key_pem == test_peer.public_key_pem
    user = actor.user
    assert user.local is False
    assert user.ap_id == alice_id
    assert user.username == f"alice@{test_peer.netloc}"
    assert user.display_name == "Alice"
    assert user.bio == "Person alice de peer"
    assert user.email is None
    assert user.password_hash is None
    assert operations.remote_actor_for(user) is actor
    assert "/u/alice" in test_peer.fetched


def test_group_becomes_a_shadow_community(app, test_peer):
    group_id = test_peer.group_id("jardins")
    document = test_peer.actor_document(group_id)
    document["manuallyApprovesFollowers"] = True
    document["icon"] = {"type": "Image", "url": f"{test_peer.base_url}/icon.png"}
    _serve(test_peer, document)
    actor = operations.resolve_actor(group_id)
    db.session.commit()
    community = actor.community
    assert (actor.type, actor.moderators) == ("Group", f"{group_id}/moderators")
    assert actor.featured == f"{group_id}/featured"
    assert actor.icon_url == f"{test_peer.base_url}/icon.png"
    assert community.local is False
    assert community.slug == f"jardins@{test_peer.netloc}"
    assert community.name == "Jardins"
    assert community.join_policy == "request"
    assert operations.remote_actor_for(community) is actor
    assert _count(User) == 0


def test_summary_is_sanitised(app, test_peer):
    person_id = test_peer.person_id("hostile")
    document = test_peer.actor_document(person_id)
    document["summary"] = (
        '<p onclick="x()">Bonjour <script>alert(1)</script><a href="javascript:x">lien</a></p>'
    )
    document["name"] = "<b>Nom</b>"
    _serve(test_peer, document)
    actor = operations.resolve_actor(person_id)
    assert "script" not in actor.summary
    assert "onclick" not in actor.summary
    assert "javascript" not in actor.summary
    assert actor.user.bio == "Bonjour lien"


def test_actor_id_on_another_host_is_refused(app, test_peer, other_peer):
    """An actor document must come from the actor's own host (Mastodon CVE-2024-23832)."""
    forged = test_peer.actor_document(other_peer.person_id("victim"))
    test_peer.documents["/u/mallory"] = forged
    with pytest.raises(ActorError) as error:
        operations.resolve_actor(test_peer.person_id("mallory"))
    assert "host" in error.value.reason
    assert _count(RemoteActor) == 0


def test_public_key_owned_by_someone_else_is_refused(app, test_peer):
    mallory = test_peer.person_id("mallory")
    document = test_peer.actor_document(mallory)
    document["publicKey"]["owner"] = test_peer.person_id("alice")
    _serve(test_peer, document)
    with pytest.raises(ActorError) as error:
        operations.resolve_actor(mallory)
    assert error.value.reason == "public key owner is not the actor"
    assert _count(RemoteActor) == 0


def test_not_an_actor_is_refused(app, test_peer):
    test_peer.publish({"id": f"{test_peer.base_url}/post/1", "type": "Page", "name": "x"})
    with pytest.raises(ActorError):
        operations.resolve_actor(f"{test_peer.base_url}/post/1")
    with pytest.raises(ActorError):
        operations.resolve_actor(f"{test_peer.base_url}/missing/thing")


def test_local_ids_are_not_resolved(app, create_user):
    create_user("locale")
    with pytest.raises(ActorError):
        operations.resolve_actor("https://maillage.test/u/locale")


def test_cache_refresh_and_stale_documents(app, test_peer):
    alice_id = test_peer.person_id("alice")
    operations.resolve_actor(alice_id)
    fetches = len(test_peer.fetched)
    operations.resolve_actor(alice_id)
    assert len(test_peer.fetched) == fetches  # fresh: served from the table

    renamed = test_peer.actor_document(alice_id)
    renamed["name"] = "Alice Dupont"
    _serve(test_peer, renamed)
    actor = operations.resolve_actor(alice_id, refresh=True)
    assert actor.user.display_name == "Alice Dupont"
    assert _count(User) == 1

    later = utcnow() + dt.timedelta(days=2)
    test_peer.close()  # the peer is down: a stale actor stays usable
    assert operations.resolve_actor(alice_id, now=later) is actor


def test_two_actors_with_the_same_name_get_distinct_shadows(app, test_peer):
    first = operations.resolve_actor(test_peer.person_id("alex"))
    second = operations.resolve_actor(f"{test_peer.base_url}/users/alex")
    assert first.user.username == f"alex@{test_peer.netloc}"
    assert second.user.username != first.user.username
    assert second.user.username.endswith(f"@{test_peer.netloc}")


def _publish_webfinger(peer, name, links):
    peer.documents["/.well-known/webfinger"] = {
        "subject": f"acct:{name}@{peer.netloc}",
        "links": links,
    }


def _self(href, kind):
    return {
        "rel": "self",
        "type": "application/activity+json",
        "href": href,
        "properties": {"https://www.w3.org/ns/activitystreams#type": kind},
    }


def test_resolve_handle_through_webfinger(app, test_peer):
    _publish_webfinger(
        test_peer,
        "info",
        [
            {"rel": "http://webfinger.net/rel/profile-page", "href": "x"},
            _self(test_peer.person_id("info"), "Person"),
            _self(test_peer.group_id("info"), "Group"),
        ],
    )
    assert operations.resolve_handle(f"!info@{test_peer.netloc}").type == "Group"
    assert operations.resolve_handle(f"@info@{test_peer.netloc}").type == "Person"
    assert operations.resolve_handle(f"info@{test_peer.netloc}").type == "Person"
    url = operations.resolve_handle(test_peer.group_id("autre"))
    assert url.ap_id == test_peer.group_id("autre")


def test_resolve_handle_errors(app, test_peer):
    for handle in ("", "sans-arobase", "a@b@c", "https://"):
        with pytest.raises(ActorError):
            operations.resolve_handle(handle)
    _publish_webfinger(test_peer, "vide", [{"rel": "self", "type": "text/html", "href": "x"}])
    with pytest.raises(ActorError):
        operations.resolve_handle(f"vide@{test_peer.netloc}")


def test_public_key_for_fetches_then_refreshes_a_rotated_key(app, test_peer, other_peer):
    alice_id = test_peer.person_id("alice")
    key_id = f"{alice_id}#main-key"
    assert operations.public_key_for(key_id, False) == test_peer.public_key_pem
    rotated = test_peer.actor_document(alice_id)
    rotated["publicKey"]["publicKeyPem"] = other_peer.public_key_pem
    _serve(test_peer, rotated)
    assert operations.public_key_for(key_id, False) == test_peer.public_key_pem  # cached
    assert operations.public_key_for(key_id, True) == other_peer.public_key_pem
    assert operations.public_key_for(f"{test_peer.base_url}/u/ghost/x#k", False) is None


def test_a_shadow_never_takes_over_a_local_community(app, test_peer, create_community):
    community = create_community(slug="locale")
    assert db.session.scalar(select(Community).where(Community.local.is_(False))) is None
    with pytest.raises(ActorError):
        operations.resolve_actor(community.ap_id)


def test_alias_url_leads_to_the_canonical_document(app, test_peer):
    alice_id = test_peer.person_id("alice")
    test_peer.documents["/@alice"] = {"id": alice_id, "type": "Person"}  # a stub, no inbox
    actor = operations.resolve_actor(f"{test_peer.base_url}/@alice")
    assert actor.ap_id == alice_id
    assert actor.inbox == f"{alice_id}/inbox"
