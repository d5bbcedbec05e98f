"""Whole flows of our Groups with remote followers: a join-request community (Follow pending
until a facilitator approves), a private community shared with allow-listed instances only,
inbox retries with backoff and the sweeper, and the Host header of incoming requests.

Signed fetches of private objects are proven in test_actors_private.py (allow-listed peer
reads, others get 404, bad signature 404, secret stays 404)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from maillage.communities.community.models import JoinRequest, Membership
from maillage.communities.posts.models import Post
from maillage.federation.groups import processing
from maillage.federation.groups.models import GroupFollower, InboxActivity
from maillage.federation.transport.models import Delivery
from maillage.federation.transport.operations import set_instance_policy
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
BASE = "https://maillage.test"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def submit(client, url: str, data: dict):
    token = CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **data})


def _row(activity_id: str) -> InboxActivity:
    db.session.expire_all()
    return db.session.scalar(select(InboxActivity).where(InboxActivity.activity_id == activity_id))


def _follow(client, peer, community, name="alice"):
    follow = peer.activity("Follow", community.ap_id, actor=peer.person_id(name))
    assert peer.post(client, "/inbox", follow).status_code == 202
    return follow


# -- join-request community --------------------------------------------------------------------


def test_follow_of_a_request_community_waits_for_the_facilitator(
    client, test_peer, create_user, create_community, login_as
):
    owner = create_user("hote")
    community = create_community("Sur demande", owner=owner, join_policy="request", slug="demande")
    follow = _follow(client, test_peer, community)
    assert _row(follow["id"]).status == "done"
    assert db.session.scalar(select(GroupFollower)).state == "pending"
    join_request = db.session.scalar(select(JoinRequest))
    assert join_request.status == "pending"
    assert test_peer.received_activities("Accept") == []  # nothing until a facilitator decides

    login_as(owner)
    response = submit(client, f"/c/demande/requests/{join_request.id}", {"decision": "approve"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(GroupFollower)).state == "accepted"
    shadow = join_request.user
    membership = db.session.scalar(select(Membership).where(Membership.user_id == shadow.id))
    assert membership.role == "member"
    [accept] = test_peer.received_activities("Accept")
    assert accept["actor"] == community.ap_id
    assert accept["object"]["id"] == follow["id"]
    assert accept["object"]["actor"] == follow["actor"]
    [post] = [item for item in test_peer.received if item["json"] == accept]
    assert post["path"] == "/u/alice/inbox"  # the follower's own inbox
    assert "Signature" in post["headers"]


def test_refused_join_request_sends_no_accept(
    client, test_peer, create_user, create_community, login_as
):
    owner = create_user("hote")
    community = create_community("Sur demande", owner=owner, join_policy="request", slug="demande")
    _follow(client, test_peer, community)
    join_request = db.session.scalar(select(JoinRequest))
    login_as(owner)
    response = submit(client, f"/c/demande/requests/{join_request.id}", {"decision": "refuse"})
    assert response.status_code == 303
    assert test_peer.received_activities("Accept") == []
    db.session.expire_all()
    assert db.session.scalar(select(GroupFollower)).state == "pending"


# -- private community and the allow-list ------------------------------------------------------


@pytest.fixture
def private(create_user, create_community):
    owner = create_user("hote")
    return create_community("Inter-admin", owner=owner, visibility="private", slug="interne")


def test_private_community_accepts_allow_listed_and_rejects_others(
    client, test_peer, other_peer, create_user, create_post, private
):
    set_instance_policy(create_user(is_admin=True), test_peer.domain, "allowed")
    db.session.commit()
    _follow(client, test_peer, private, "alice")
    _follow(client, other_peer, private, "bob")
    [accept] = test_peer.received_activities("Accept")
    assert accept["actor"] == private.ap_id
    assert other_peer.received_activities("Accept") == []
    [reject] = other_peer.received_activities("Reject")
    assert reject["actor"] == private.ap_id
    db.session.expire_all()
    followers = db.session.scalars(select(GroupFollower)).all()
    assert [row.remote_actor.domain for row in followers] == [test_peer.netloc]

    # Content of the private community reaches the allow-listed followers only, never Public.
    owner = db.session.scalar(select(Membership).where(Membership.role == "owner")).user
    create_post(private, owner, "Réservé", "Aux membres des instances partenaires.")
    deliveries = db.session.scalars(select(Delivery)).all()
    created = [row for row in deliveries if row.payload["type"] in ("Announce", "Create")]
    assert created
    assert {row.host for row in created} == {test_peer.domain}
    for row in created:
        assert PUBLIC not in json.dumps(row.payload)
    assert not [
        item for item in other_peer.received if item["json"] and "Réservé" in item["body"].decode()
    ]
    assert [item for item in test_peer.received if "Réservé" in item["body"].decode()]


# -- inbox retries and the sweeper ------------------------------------------------------------


@pytest.fixture
def community(create_community):
    return create_community("Main", slug="main")


def _create_by_reference(peer, community):
    """A Create whose object is only an id: the object is fetched while processing."""
    actor = peer.person_id("alice")
    page_id = f"{peer.base_url}/post/77"
    peer.documents["/post/77"] = {
        "id": page_id,
        "type": "Page",
        "attributedTo": actor,
        "to": [community.ap_id, PUBLIC],
        "audience": community.ap_id,
        "name": "Revenue plus tard",
        "content": "<p>Bonjour</p>",
        "mediaType": "text/html",
    }
    return peer.activity("Create", page_id, actor=actor, audience=community.ap_id)


def test_origin_down_is_retried_with_backoff_then_processed(client, test_peer, community):
    _follow(client, test_peer, community)
    down = {"on": True}
    test_peer.on_get = lambda path: 503 if down["on"] and path == "/post/77" else None
    create = _create_by_reference(test_peer, community)
    before = utcnow()
    assert test_peer.post(client, "/inbox", create).status_code == 202
    row = _row(create["id"])
    assert (row.status, row.attempts) == ("pending", 1)
    assert "HTTP 503" in row.error
    due = row.available_at
    assert before + processing.retry_delay(1) <= due <= utcnow() + processing.retry_delay(1)
    assert processing.sweep(now=due - dt.timedelta(seconds=1)) == 0  # not due yet

    assert processing.sweep(now=due) == 1  # still down: second attempt, longer wait
    row = _row(create["id"])
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.available_at == due + processing.retry_delay(2)

    down["on"] = False
    assert processing.sweep(now=row.available_at) == 1
    row = _row(create["id"])
    assert row.status == "done"
    assert db.session.scalar(select(Post).where(Post.ap_id.endswith("/post/77"))).title == (
        "Revenue plus tard"
    )


def test_backoff_grows_and_gives_up_after_max_attempts(client, test_peer, community):
    _follow(client, test_peer, community)
    test_peer.on_get = lambda path: 503 if path == "/post/77" else None
    create = _create_by_reference(test_peer, community)
    test_peer.post(client, "/inbox", create)
    delays = [processing.retry_delay(attempt) for attempt in range(1, processing.MAX_ATTEMPTS)]
    assert delays == sorted(delays)
    assert delays[-1] == dt.timedelta(hours=6)
    assert sum(delays, dt.timedelta()) > dt.timedelta(hours=18)
    for _ in range(processing.MAX_ATTEMPTS - 1):
        processing.sweep(now=_row(create["id"]).available_at)
    row = _row(create["id"])
    assert (row.status, row.attempts) == ("failed", processing.MAX_ATTEMPTS)


def test_refusal_of_the_origin_is_not_retried(client, test_peer, community):
    _follow(client, test_peer, community)
    test_peer.on_get = lambda path: 410 if path == "/post/77" else None
    create = _create_by_reference(test_peer, community)
    test_peer.post(client, "/inbox", create)
    row = _row(create["id"])
    assert (row.status, row.attempts) == ("rejected", 0)


def test_sweeper_requeues_a_row_whose_worker_died(client, test_peer, community):
    from maillage.federation.groups import inbox

    follow = test_peer.activity("Follow", community.ap_id)
    inbox.store(follow, "/inbox", key_id=test_peer.key_id(follow["actor"]))
    db.session.commit()
    [row_id] = processing.due_ids()
    claimed = processing.claim(row_id)  # a worker takes it… and dies
    assert claimed is not None
    assert claimed.lease
    now = utcnow()
    assert processing.due_ids(now=now) == []
    assert processing.sweep(now=now) == 0  # leased: left to its worker
    later = now + processing.LEASE + dt.timedelta(seconds=1)
    assert processing.due_ids(now=later) == [row_id]
    assert processing.sweep(now=later) == 1
    row = _row(follow["id"])
    assert (row.status, row.lease) == ("done", None)
    assert db.session.scalar(select(GroupFollower)).state == "accepted"
    assert processing.sweep(now=later) == 0  # idempotent


# -- Host header -------------------------------------------------------------------------------


def test_request_signed_for_another_host_is_refused(client, test_peer, community):
    """A signed POST captured on its way to another server, replayed to us with that server's
    Host: the signature verifies, the Host does not name us."""
    follow = test_peer.activity("Follow", community.ap_id)
    body = json.dumps(follow).encode()
    headers = test_peer.sign(
        "POST", "https://ailleurs.example/inbox", body, test_peer.key_id(follow["actor"])
    )
    response = client.post(
        "/inbox", data=body, headers=headers, base_url="https://ailleurs.example"
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "request for another host"
    assert _row(follow["id"]) is None


def test_host_with_a_port_and_other_case_is_ours(client, test_peer, community):
    follow = test_peer.activity("Follow", community.ap_id)
    response = test_peer.post(
        client,
        "/inbox",
        follow,
        tamper=lambda headers, body: ({**headers, "Host": "maillage.test:443"}, body),
    )
    # The peer signed "maillage.test"; the receiving side tries the host without its port.
    assert response.status_code == 202


def test_signed_get_for_another_host_gets_404(client, test_peer, create_user, private):
    set_instance_policy(create_user(is_admin=True), test_peer.domain, "allowed")
    db.session.commit()
    key_id = test_peer.key_id(test_peer.person_id("alice"))
    headers = test_peer.sign("GET", "https://ailleurs.example/c/interne", None, key_id)
    headers.pop("Host")
    response = client.get("/c/interne", headers=headers, base_url="https://ailleurs.example")
    assert response.status_code == 404
    headers = test_peer.sign("GET", f"{BASE}/c/interne", None, key_id)
    headers.pop("Host")
    assert client.get("/c/interne", headers=headers, base_url=BASE).status_code == 200


# -- a remote follower removed or banned -------------------------------------------------------


def _announced_to(peer) -> list[dict]:
    db.session.expire_all()
    return [
        row.payload
        for row in db.session.scalars(select(Delivery))
        if row.payload["type"] == "Announce" and peer.domain in row.host
    ]


def test_removed_remote_follower_gets_a_reject_and_no_more_content(
    client, test_peer, create_user, create_community, create_post, login_as
):
    owner = create_user("hote")
    community = create_community("Main", owner=owner, slug="main")
    follow = _follow(client, test_peer, community)
    shadow = db.session.scalar(select(GroupFollower)).remote_actor.user
    create_post(community, owner, "Avant", "Encore livré.")
    before = len(_announced_to(test_peer))
    assert before

    login_as(owner)
    response = submit(client, f"/c/main/members/{shadow.id}/remove", {"confirmed": "1"})
    assert response.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.scalar(select(GroupFollower)) is None
    [reject] = test_peer.received_activities("Reject")
    assert reject["actor"] == community.ap_id
    assert reject["object"]["id"] == follow["id"]
    assert reject["object"]["actor"] == follow["actor"]

    create_post(community, owner, "Après", "Plus livré.")
    assert len(_announced_to(test_peer)) == before


def test_banned_remote_follower_gets_a_reject(client, test_peer, create_user, create_community):
    from maillage.communities.moderation.operations import ban

    owner = create_user("hote")
    community = create_community("Main", owner=owner, slug="main")
    _follow(client, test_peer, community)
    shadow = db.session.scalar(select(GroupFollower)).remote_actor.user
    ban(owner, community, shadow, "Spam", None)
    db.session.commit()
    assert db.session.scalar(select(GroupFollower)) is None
    assert len(test_peer.received_activities("Reject")) == 1


def test_undo_follow_sends_nothing_back(client, test_peer, create_user, create_community):
    community = create_community("Main", owner=create_user("hote"), slug="main")
    follow = _follow(client, test_peer, community)
    undo = test_peer.activity("Undo", follow, actor=follow["actor"])
    assert test_peer.post(client, "/inbox", undo).status_code == 202
    assert _row(undo["id"]).status == "done"
    assert db.session.scalar(select(GroupFollower)) is None
    assert test_peer.received_activities("Reject") == []
    assert not [
        row for row in db.session.scalars(select(Delivery)) if row.payload["type"] == "Reject"
    ]
