"""The inboxes: what is refused at the door (and why), what is stored once and processed."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from maillage.federation.groups.models import InboxActivity
from maillage.platform.extensions import db


def _rows():
    return list(db.session.scalars(select(InboxActivity).order_by(InboxActivity.id)))


@pytest.fixture
def community(create_community):
    return create_community("Main", slug="main")


@pytest.fixture
def follow(test_peer, community):
    return test_peer.activity("Follow", community.ap_id, to=[community.ap_id])


def test_signed_activity_is_accepted_stored_and_processed(client, test_peer, follow):
    response = test_peer.post(client, "/inbox", follow)
    assert response.status_code == 202
    [row] = _rows()
    assert row.activity_id == follow["id"]
    assert row.status == "done"
    assert row.key_id == test_peer.key_id(follow["actor"])


def test_duplicate_activity_is_processed_once(client, test_peer, follow):
    assert test_peer.post(client, "/inbox", follow).status_code == 202
    assert test_peer.post(client, "/c/main/inbox", follow).status_code == 202
    assert len(_rows()) == 1
    assert len(test_peer.received_activities("Accept")) <= 1


def test_unsigned_activity_is_refused(client, test_peer, follow):
    assert test_peer.post(client, "/inbox", follow, sign=False).status_code == 401
    assert _rows() == []


def test_bad_signature_is_refused(client, test_peer, other_peer, follow):
    """Signed with another key than the one the actor publishes."""

    def resign(headers, body):
        key_id = test_peer.key_id(follow["actor"])
        return other_peer.sign("POST", "https://maillage.test/inbox", body, key_id), body

    assert test_peer.post(client, "/inbox", follow, tamper=resign).status_code == 401
    assert _rows() == []


def test_digest_mismatch_is_refused(client, test_peer, follow):
    def swap_body(headers, body):
        changed = json.loads(body)
        changed["object"] = changed["object"] + "-other"
        return headers, json.dumps(changed).encode()

    assert test_peer.post(client, "/inbox", follow, tamper=swap_body).status_code == 401
    assert _rows() == []


def test_stale_date_is_refused(client, test_peer, follow):
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    assert test_peer.post(client, "/inbox", follow, now=stale).status_code == 401
    assert _rows() == []


def test_key_of_another_actor_is_refused(client, test_peer, other_peer, follow):
    """Signed correctly by the other peer's actor, for an activity claiming our peer's actor."""
    key_id = other_peer.key_id(other_peer.person_id("mallory"))

    def sign_as_other(headers, body):
        return other_peer.sign("POST", "https://maillage.test/inbox", body, key_id), body

    response = test_peer.post(client, "/inbox", follow, tamper=sign_as_other)
    assert response.status_code in (401, 403)
    assert _rows() == []


def test_activity_id_of_another_origin_is_refused(client, test_peer, other_peer, follow):
    """CVE-2024-23832 class: an activity id on another server than its actor's."""
    forged = {**follow, "id": f"{other_peer.base_url}/activities/follow/1"}
    assert test_peer.post(client, "/inbox", forged).status_code == 403
    assert _rows() == []


def test_oversized_body_is_refused(client, test_peer, follow):
    big = {**follow, "padding": "x" * (1024 * 1024)}
    assert test_peer.post(client, "/inbox", big).status_code == 413
    assert _rows() == []


def test_not_json_is_refused(client, test_peer):
    assert test_peer.post(client, "/inbox", b"{not json", sign=False).status_code == 400


def test_denied_domain_is_refused(app, client, test_peer, follow):
    from maillage.federation.transport.models import Instance

    db.session.add(Instance(domain=test_peer.netloc, policy="denied"))
    db.session.add(Instance(domain=test_peer.domain, policy="denied"))
    db.session.commit()
    assert test_peer.post(client, "/inbox", follow).status_code == 403
    assert _rows() == []


def test_allowlist_mode_refuses_unknown_instances(app, client, test_peer, follow):
    app.config["FEDERATION_MODE"] = "allowlist"
    assert test_peer.post(client, "/inbox", follow).status_code == 403


def test_inbox_of_unknown_or_secret_community_is_404(client, test_peer, create_community, follow):
    secret = create_community("Secrète", visibility="secret")
    assert test_peer.post(client, "/c/nope/inbox", follow).status_code == 404
    assert test_peer.post(client, f"/c/{secret.slug}/inbox", follow).status_code == 404


def test_sweeper_processes_rows_left_pending(app, client, test_peer, follow):
    from maillage.federation.groups import inbox, processing

    inbox.store(follow, "/inbox", key_id=test_peer.key_id(follow["actor"]))
    db.session.commit()
    assert [row.status for row in _rows()] == ["pending"]
    assert processing.sweep() == 1
    db.session.expire_all()
    assert [row.status for row in _rows()] == ["done"]
    assert processing.sweep() == 0
