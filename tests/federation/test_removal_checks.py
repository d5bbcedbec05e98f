"""A removal the remote instance refused is shown to our moderators.

The test peer is a real HTTP server: it answers 202 to the removal, then (playing a server that
rejected it) still serves the object at its id — or no longer does, for a removal it applied.
The check, due some minutes after the removal left, reads the object back and writes what it
found into the community's moderation log.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from maillage.communities.posts.models import Post
from maillage.federation.outgoing import removal_checks
from maillage.federation.outgoing.models import RemovalCheck
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NOT_APPLIED = "non appliqué sur l'instance distante"


def submit(client, url: str, data: dict | None = None):
    token = CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **(data or {})})


@pytest.fixture
def owner(create_user):
    return create_user("proprietaire")


@pytest.fixture
def community(owner, create_community):
    return create_community("Acheteurs", owner=owner, slug="acheteurs")


@pytest.fixture
def remote_post(client, test_peer, community):
    """A post of the peer's alice in our community, which the peer serves at its id."""
    page = {
        "id": f"{test_peer.base_url}/post/41",
        "type": "Page",
        "attributedTo": test_peer.person_id("alice"),
        "audience": community.ap_id,
        "to": [community.ap_id, "https://www.w3.org/ns/activitystreams#Public"],
        "name": "Publicité",
        "content": "<p>Achetez !</p>",
    }
    test_peer.publish(page)
    create = test_peer.activity("Create", page, actor=page["attributedTo"])
    assert test_peer.post(client, "/inbox", create).status_code == 202
    return db.session.scalar(select(Post).where(Post.ap_id == page["id"]))


def _hide(client, login_as, owner, post) -> RemovalCheck:
    login_as(owner)
    url = f"/c/acheteurs/moderation/post/{post.id}/hide"
    assert submit(client, url, {"reason": "Publicité"}).status_code == 303
    db.session.expire_all()
    return db.session.scalar(select(RemovalCheck))


def _later(minutes: int = 10) -> dt.datetime:
    return utcnow() + dt.timedelta(minutes=minutes)


def test_refused_removal_shows_as_not_applied(
    client, login_as, test_peer, owner, community, remote_post
):
    check = _hide(client, login_as, owner, remote_post)
    # The removal reached the author's instance (it follows nothing here), which said 202.
    deletes = [
        item["json"]["object"]
        for item in test_peer.received
        if item["json"] and item["json"].get("type") == "Announce"
    ]
    assert [d["type"] for d in deletes] == ["Delete"]
    assert check.state == "pending"
    assert check.object_ap_id == remote_post.ap_id
    assert removal_checks.run_due(now=utcnow()) == 0  # not due yet: nothing asked
    assert test_peer.fetched.count("/post/41") == 0

    assert removal_checks.run_due(now=_later()) == 1
    db.session.expire_all()
    assert db.session.get(RemovalCheck, check.id).state == "not_applied"
    assert test_peer.fetched.count("/post/41") == 1
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "federation.removal_not_applied")
    )
    assert entry.community_id == community.id
    assert entry.data["object_id"] == remote_post.id

    page = client.get("/c/acheteurs/audit").get_data(as_text=True)
    assert NOT_APPLIED in page
    assert test_peer.domain in page


def test_applied_removal_shows_as_applied(
    client, login_as, test_peer, owner, community, remote_post
):
    check = _hide(client, login_as, owner, remote_post)
    del test_peer.documents["/post/41"]  # the peer removed it: 404 now
    removal_checks.run_due(now=_later())
    db.session.expire_all()
    assert db.session.get(RemovalCheck, check.id).state == "applied"
    page = client.get("/c/acheteurs/audit").get_data(as_text=True)
    assert "appliqué sur l'instance distante" in page
    assert NOT_APPLIED not in page


def test_a_tombstone_counts_as_applied(client, login_as, test_peer, owner, remote_post):
    check = _hide(client, login_as, owner, remote_post)
    test_peer.documents["/post/41"] = {"id": remote_post.ap_id, "type": "Tombstone"}
    removal_checks.run_due(now=_later())
    db.session.expire_all()
    assert db.session.get(RemovalCheck, check.id).state == "applied"


def test_check_waits_for_the_delivery_then_for_an_unreachable_peer(
    client, login_as, test_peer, owner, remote_post
):
    from maillage.federation.transport.models import Delivery

    check = _hide(client, login_as, owner, remote_post)
    db.session.execute(update(Delivery).values(status="pending"))  # not gone yet
    db.session.commit()
    removal_checks.run_due(now=_later())
    db.session.expire_all()
    assert db.session.get(RemovalCheck, check.id).state == "pending"
    assert test_peer.fetched.count("/post/41") == 0  # nothing asked before it left

    db.session.execute(update(Delivery).values(status="delivered"))
    db.session.commit()
    test_peer.on_get = lambda path: 503 if path == "/post/41" else None
    minutes = 10
    for _ in range(removal_checks.MAX_WAITS + removal_checks.MAX_UNREACHABLE):
        minutes += 10
        removal_checks.run_due(now=_later(minutes))
    db.session.expire_all()
    assert db.session.get(RemovalCheck, check.id).state == "unknown"
    assert db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "federation.removal_unknown")
    )


def test_local_content_is_not_read_back(client, login_as, owner, community, create_post, test_peer):
    post = create_post(community, owner, "À nous")
    assert _hide(client, login_as, owner, post) is None


def test_the_checks_run_periodically():
    from maillage.platform.celery_app import BEAT_SCHEDULE

    assert "maillage.federation.removal_checks" in BEAT_SCHEDULE
