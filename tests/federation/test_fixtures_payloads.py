"""Every recorded payload of Lemmy, Mastodon, Mobilizon and PeerTube is understood.

The hosts of each payload are rewritten to the test peer (which signs with its own key); the
recorded group becomes our community ``main`` — except in the Announces, where the group is
the peer's and our shadow of it receives the content.  Activities are posted to our shared
inbox and must be processed (handled, or deliberately ignored: status ``done``); actor
documents are resolved; collections are fetched documents, never posted to an inbox: they
only have to parse.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from maillage.federation.groups.models import InboxActivity
from maillage.platform.extensions import db

from .conftest import FIXTURES

FILES = sorted(str(path.relative_to(FIXTURES)) for path in FIXTURES.rglob("*.json"))
GROUP_URL = re.compile(r"^https?://[^/]+/(c|u)/main$|^https?://[^/]+/c/testcom$")
#: The recorded group stays the peer's: it announces to us, or answers our follow.
REMOTE_GROUP = {
    "lemmy/activities/following/accept.json",
    "lemmy/activities/community/announce_create_page.json",
    "peertube/activities/announce_video.json",
}
ACTOR_TYPES = {"Person", "Group", "Application", "Service", "Organization"}
#: Moderation by a remote person: they are made a facilitator of our community first.
BY_MODERATOR = {
    "lemmy/activities/block/block_user.json",
    "lemmy/activities/block/undo_block_user.json",
    "lemmy/activities/deletion/remove_note.json",
    "lemmy/activities/deletion/undo_remove_note.json",
    "lemmy/activities/community/add_mod.json",
    "lemmy/activities/community/remove_mod.json",
    "lemmy/activities/community/lock_page.json",
    "lemmy/activities/community/lock_note.json",
    "lemmy/activities/community/undo_lock_page.json",
    "lemmy/activities/community/undo_lock_note.json",
}
#: Refused on purpose (the row says why): nobody but our own facilitators changes our group.
REJECTED = {"lemmy/activities/community/update_community.json"}
PREAMBLE = [
    "lemmy/activities/create_or_update/create_page.json",
    "lemmy/activities/create_or_update/create_comment.json",
]


def _urls(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, str) and value.startswith("http"):
        yield value


@pytest.fixture
def community(create_community):
    return create_community("Main", slug="main")


@pytest.fixture
def prepare(app, test_peer, rewrite, load_fixture, community):
    """``prepare(relative) -> payload`` rewritten for the peer (and our community)."""

    def do(relative: str, *, remote_group: bool = False) -> dict:
        payload = load_fixture(relative)
        local = (
            {}
            if remote_group
            else {url: community.ap_id for url in set(_urls(payload)) if GROUP_URL.match(url)}
        )
        return rewrite(payload, local)

    return do


@pytest.fixture
def publish_objects(test_peer, prepare):
    """The peer serves every recorded object (so fetches of them by id succeed)."""
    for relative in FILES:
        if "/objects/" in relative:
            test_peer.publish(prepare(relative, remote_group=True))


def _status(activity_id: str) -> tuple[str, str]:
    row = db.session.scalar(select(InboxActivity).where(InboxActivity.activity_id == activity_id))
    return (row.status, row.error) if row else ("missing", "")


@pytest.mark.parametrize("relative", [f for f in FILES if "/activities/" in f])
def test_recorded_activity_is_processed(
    client, test_peer, prepare, publish_objects, relative, community
):
    from maillage.federation.actors.operations import resolve_actor

    remote_group = relative in REMOTE_GROUP
    if remote_group:
        payload = prepare(relative, remote_group=True)
        resolve_actor(payload["actor"])  # one of our users follows this group
        db.session.commit()
    else:
        for preamble in PREAMBLE:
            if preamble != relative:
                test_peer.post(client, "/inbox", prepare(preamble))
        payload = prepare(relative)
        if "actor" not in payload:  # an object recorded among activities: its Create
            payload = test_peer.activity("Create", payload, actor=payload["attributedTo"])
        if relative in BY_MODERATOR:
            _make_facilitator(payload["actor"], community)
    response = test_peer.post(client, "/inbox", payload)
    assert response.status_code == 202, response.get_data(as_text=True)
    status, error = _status(payload["id"])
    assert status == ("rejected" if relative in REJECTED else "done"), error


def _make_facilitator(actor_id: str, community) -> None:
    from maillage.communities.community.operations import add_membership, membership_of
    from maillage.federation.actors.operations import resolve_actor, shadow_user

    user = shadow_user(resolve_actor(actor_id))
    membership = membership_of(community, user)
    if membership is None:
        add_membership(community, user, "facilitator")
    else:
        membership.role = "facilitator"
    db.session.commit()


@pytest.mark.parametrize("relative", [f for f in FILES if "/objects/" in f])
def test_recorded_object_is_understood(client, test_peer, prepare, relative, community):
    from maillage.federation.actors.operations import resolve_actor

    document = prepare(relative)
    if document.get("type") in ACTOR_TYPES:
        test_peer.publish(document)
        actor = resolve_actor(document["id"])
        assert actor.ap_id == document["id"]
        return
    author = document.get("attributedTo") or test_peer.person_id("author")
    author = author[0] if isinstance(author, list) else author
    author = author.get("id") if isinstance(author, dict) else author
    if document.get("type") == "Tombstone":
        activity = test_peer.activity("Delete", document, actor=author)
    else:
        document.setdefault("audience", community.ap_id)
        activity = test_peer.activity("Create", document, actor=author)
    test_peer.publish(document)
    assert test_peer.post(client, "/inbox", activity).status_code == 202
    status, error = _status(activity["id"])
    assert status in ("done", "rejected"), error


@pytest.mark.parametrize("relative", [f for f in FILES if "/collections/" in f])
def test_recorded_collection_parses(relative):
    document = json.loads((FIXTURES / relative).read_text())
    assert document["type"] in ("Collection", "OrderedCollection")
