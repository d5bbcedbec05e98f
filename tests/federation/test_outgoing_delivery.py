"""Local changes become deliveries with the right activity, addressing and signer.

The remote side is the ``test_peer`` of tests/federation/conftest.py, a real HTTP server on
loopback: it follows our communities with signed ``Follow`` activities sent to our inbox, and
receives what the transport delivers.  Assertions read the outbox rows (``Delivery``), which are
written in the transaction of the change.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.platform.extensions import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def submit(client, url: str, data: dict | None = None):
    """POST a form as a browser does, with the CSRF token of a page."""
    token = CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **(data or {})})


def deliveries(kind: str | None = None, inner: str | None = None) -> list:
    from maillage.federation.transport.models import Delivery

    rows = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    return [
        row
        for row in rows
        if (kind is None or row.payload.get("type") == kind)
        and (inner is None or _inner_type(row.payload) == inner)
    ]


def _inner_type(payload: dict):
    obj = payload.get("object")
    return obj.get("type") if isinstance(obj, dict) else None


def follow_local(test_peer, client, community, name: str = "alice") -> None:
    """The peer's person follows our ``community`` (a signed Follow to its inbox)."""
    follow = test_peer.activity(
        "Follow", community.ap_id, actor=test_peer.person_id(name), to=[community.ap_id]
    )
    response = test_peer.post(client, f"/c/{community.slug}/inbox", follow)
    assert response.status_code == 202, response.get_data(as_text=True)
    db.session.expire_all()


def addresses(document: dict) -> set[str]:
    found: set[str] = set()
    for key in ("to", "cc", "bto", "bcc"):
        value = document.get(key) or []
        found.update([value] if isinstance(value, str) else value)
    return found


def all_addresses(document) -> set[str]:
    """Every address in an activity and the activities/objects it embeds."""
    if not isinstance(document, dict):
        return set()
    found = addresses(document)
    return found | all_addresses(document.get("object"))


@pytest.fixture
def owner(create_user):
    return create_user("proprietaire")


# -- local communities: the Group announces -------------------------------------------------


def test_post_in_public_community_is_announced_to_followers(
    test_peer, client, login_as, owner, create_community
):
    community = create_community("Acheteurs", owner=owner, slug="acheteurs")
    follow_local(test_peer, client, community)
    login_as(owner)
    response = submit(
        client, "/c/acheteurs/posts", {"title": "Marchés publics", "body": "Un **guide**."}
    )
    assert response.status_code == 302
    [row] = deliveries("Announce", "Create")
    assert row.signer_ap_id == community.ap_id
    assert row.inbox_url == f"{test_peer.base_url}/inbox"
    announce = row.payload
    assert announce["actor"] == community.ap_id
    assert announce["to"] == [PUBLIC]
    assert announce["cc"] == [f"{community.ap_id}/followers"]
    create = announce["object"]
    assert create["actor"] == owner.ap_id
    assert create["audience"] == community.ap_id
    page = create["object"]
    assert page["type"] == "Page"
    assert page["name"] == "Marchés publics"
    assert page["attributedTo"] == owner.ap_id
    assert page["audience"] == community.ap_id
    assert PUBLIC in addresses(page)
    assert "@context" not in create


def test_edit_comment_and_delete_follow_the_post(
    test_peer, client, login_as, owner, create_community, create_post
):
    community = create_community(owner=owner, slug="reseau")
    follow_local(test_peer, client, community)
    post = create_post(community, owner, "Avant", "texte")
    login_as(owner)
    assert (
        submit(client, f"/post/{post.id}/edit", {"title": "Après", "body": "texte"}).status_code
        == 302
    )
    [update] = deliveries("Announce", "Update")
    assert update.payload["object"]["object"]["name"] == "Après"
    assert submit(client, f"/post/{post.id}/comments", {"body": "Bien vu"}).status_code == 302
    [create_note] = [
        row
        for row in deliveries("Announce", "Create")
        if row.payload["object"]["object"]["type"] == "Note"
    ]
    note = create_note.payload["object"]["object"]
    assert note["inReplyTo"] == post.ap_id
    post_ap_id = post.ap_id
    assert submit(client, f"/post/{post.id}/delete", {"confirmed": "1"}).status_code == 302
    [delete] = deliveries("Announce", "Delete")
    assert delete.payload["object"]["object"] == post_ap_id
    assert "summary" not in delete.payload["object"]  # the author deleted: not a removal
    assert delete.signer_ap_id == community.ap_id


def test_removal_by_a_moderator_carries_a_summary(
    test_peer, client, login_as, owner, create_user, create_community, create_post
):
    author = create_user()
    community = create_community(owner=owner, slug="moderee", members=[author])
    follow_local(test_peer, client, community)
    post = create_post(community, author)
    login_as(owner)
    assert submit(client, f"/post/{post.id}/delete", {"confirmed": "1"}).status_code == 302
    [delete] = deliveries("Announce", "Delete")
    assert delete.payload["object"]["actor"] == owner.ap_id
    assert delete.payload["object"]["summary"]


def test_private_community_reaches_allow_listed_followers_only_never_public(
    app, test_peer, client, owner, create_community, create_post
):
    from maillage.federation.transport.policy import domain_allow_listed

    community = create_community(owner=owner, slug="interne", visibility="private")
    follow_local(test_peer, client, community)  # not allow-listed: refused
    create_post(community, owner, "Réservé")
    assert not domain_allow_listed(test_peer.domain)
    assert deliveries("Announce") == []
    _allow(test_peer.domain)
    follow_local(test_peer, client, community, "bob")
    create_post(community, owner, "Réservé, bis")
    rows = deliveries("Announce", "Create")
    assert rows, "an allow-listed follower instance receives the private community"
    for row in rows:
        assert PUBLIC not in all_addresses(row.payload)
        assert row.payload["to"] == [f"{community.ap_id}/followers"]
        assert row.payload["object"]["object"]["name"] == "Réservé, bis"


def _allow(domain: str) -> None:
    from maillage.federation.transport.operations import set_instance_policy

    set_instance_policy(None, domain, "allowed", "tests")
    db.session.commit()


def test_secret_community_never_federates(owner, create_community, create_post):
    community = create_community(owner=owner, visibility="secret")
    create_post(community, owner, "Secret")
    assert deliveries() == []


def test_community_without_remote_followers_sends_nothing(owner, create_community, create_post):
    community = create_community(owner=owner)
    create_post(community, owner)
    assert deliveries() == []


def test_community_settings_change_sends_update_group(
    test_peer, client, login_as, owner, create_community
):
    from maillage.communities.community.operations import update_settings

    community = create_community("Ancien nom", owner=owner, slug="renommee")
    follow_local(test_peer, client, community)
    update_settings(community, owner, "Nouveau nom", "", "public", "open", [])
    db.session.commit()
    [row] = deliveries("Announce", "Update")
    assert row.payload["object"]["object"]["type"] == "Group"
    assert row.payload["object"]["object"]["name"] == "Nouveau nom"


def test_remote_content_is_not_announced_again_by_this_package(
    test_peer, client, owner, create_community
):
    """A remote person's post reaches followers through groups' relay (the activity itself),
    never as a second Announce made by the post_created subscriber."""
    community = create_community(owner=owner, slug="accueil")
    follow_local(test_peer, client, community, "bob")
    follow_local(test_peer, client, community, "alice")
    page = {
        "id": f"{test_peer.base_url}/post/1",
        "type": "Page",
        "attributedTo": test_peer.person_id("alice"),
        "audience": community.ap_id,
        "to": [community.ap_id, PUBLIC],
        "name": "Bonjour",
        "content": "<p>Bonjour</p>",
        "mediaType": "text/html",
    }
    create = test_peer.activity(
        "Create",
        page,
        actor=test_peer.person_id("alice"),
        cc=[community.ap_id],
        audience=community.ap_id,
    )
    assert test_peer.post(client, "/inbox", create).status_code == 202
    db.session.expire_all()
    announces = deliveries("Announce", "Create")
    # groups' relay does not send back to the origin instance: nothing for the only peer.
    assert all(row.payload["object"]["id"] == create["id"] for row in announces)
