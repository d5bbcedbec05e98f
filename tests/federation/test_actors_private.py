"""Private communities are served only to GETs signed by an actor of an allow-listed instance
(verified with ``transport.signatures.verify_request``, the key fetched from the test peer)."""

from __future__ import annotations

import pytest

from maillage.federation.transport.operations import set_instance_policy
from maillage.platform.extensions import db

BASE = "https://maillage.test"


def signed_get(client, peer, path, *, tamper=None):
    key_id = peer.key_id(peer.person_id("alice"))
    headers = peer.sign("GET", f"{BASE}{path}", None, key_id)
    headers.pop("Host")  # the test client sends it from base_url
    if tamper is not None:
        headers = tamper(headers)
    return client.get(path, headers=headers, base_url=BASE)


@pytest.fixture
def allow_listed(test_peer, create_user):
    set_instance_policy(create_user(is_admin=True), test_peer.domain, "allowed")
    db.session.commit()
    return test_peer


@pytest.fixture
def private(create_user, create_community, create_post):
    owner = create_user("hote")
    community = create_community(owner=owner, visibility="private", slug="inter-admin")
    post = create_post(community, owner, "Réservé", "Aux membres.")
    return community, post


def test_allow_listed_peer_reads_the_private_group_and_its_content(client, allow_listed, private):
    community, post = private
    response = signed_get(client, allow_listed, "/c/inter-admin")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/activity+json"
    group = response.get_json(force=True)
    assert group["id"] == community.ap_id
    assert group["manuallyApprovesFollowers"] is True
    page = signed_get(client, allow_listed, f"/post/{post.id}").get_json(force=True)
    assert page["id"] == post.ap_id
    assert "https://www.w3.org/ns/activitystreams#Public" not in page["to"] + page["cc"]
    assert signed_get(client, allow_listed, "/c/inter-admin/outbox").status_code == 200


def test_allow_listed_peer_sees_the_followers_themselves(client, allow_listed, private):
    followers = signed_get(client, allow_listed, "/c/inter-admin/followers").get_json(force=True)
    assert followers["orderedItems"] == []
    anonymous = client.get("/c/inter-admin/followers", base_url=BASE)
    assert anonymous.status_code == 404


def test_peer_not_on_the_allow_list_gets_404(client, test_peer, private):
    _community, post = private
    assert signed_get(client, test_peer, "/c/inter-admin").status_code == 404
    assert signed_get(client, test_peer, f"/post/{post.id}").status_code == 404


def test_bad_signature_gets_404(client, allow_listed, private):
    def forge(headers):
        headers["Signature"] = headers["Signature"].replace('signature="', 'signature="AAAA')
        return headers

    assert signed_get(client, allow_listed, "/c/inter-admin", tamper=forge).status_code == 404


def test_secret_community_stays_404_even_for_allow_listed_peers(
    client, allow_listed, create_community
):
    community = create_community(visibility="secret")
    assert signed_get(client, allow_listed, f"/c/{community.slug}").status_code == 404
