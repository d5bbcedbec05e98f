"""What our Groups send: ``Accept``/``Reject`` of follows, and the FEP-1b12 ``Announce``.

Deliveries go through the transport's outbox (``enqueue_delivery``) in the current transaction:
they leave only if the change that caused them commits.
"""

from __future__ import annotations

import logging
import uuid

from maillage.communities.community.models import Community, Visibility
from maillage.federation.groups.registry import PUBLIC, id_of
from maillage.federation.ids import base_url, domain_of
from maillage.federation.outgoing.publish import boosted

log = logging.getLogger(__name__)

CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
#: Activities a Group re-sends to its followers after applying them: content and votes, and
#: what a remote moderator did here (removal is a ``Delete``, lock, ban, moderators; their
#: ``Undo``).  ``Flag`` stays private (a report names its reporter): only our moderators see it.
RELAYED = frozenset(
    {"Create", "Update", "Delete", "Like", "Dislike", "Undo", "Lock", "Block", "Add", "Remove"}
)


def new_id(kind: str) -> str:
    return f"{base_url()}/activities/{kind.lower()}/{uuid.uuid4()}"


def send(activity: dict, inboxes: list[str], signer_ap_id: str) -> int:
    from maillage.federation.transport.delivery import enqueue_delivery

    if not inboxes:
        return 0
    return enqueue_delivery(activity, inboxes, signer_ap_id)


def without_context(activity: dict) -> dict:
    return {key: value for key, value in activity.items() if key != "@context"}


def answer_follow(community: Community, follow: dict, inbox: str, *, accepted: bool) -> dict:
    """``Accept`` (or ``Reject``) with the Follow embedded, to the follower's own inbox."""
    kind = "Accept" if accepted else "Reject"
    answer = {
        "@context": CONTEXT,
        "id": new_id(kind),
        "type": kind,
        "actor": community.ap_id,
        "to": [id_of(follow.get("actor"))],
        "object": without_context(follow),
    }
    send(answer, [inbox], community.ap_id)
    return answer


def _addressing(community: Community) -> tuple[list[str], list[str]]:
    followers = f"{community.ap_id}/followers"
    if community.visibility == Visibility.PUBLIC:
        return [PUBLIC], [followers]
    return [followers], []


def announce(community: Community, activity: dict, *, origin: str) -> list[dict]:
    """Re-send ``activity`` unchanged inside an ``Announce`` of the Group to its followers'
    instances, except the one it came from; a new public top-level object (a post, not a
    comment: ``publish.boosted``) is also announced as the plain object, which Mastodon
    understands.  Returns the announces queued."""
    if not community.local or community.visibility == Visibility.SECRET:
        return []
    if activity.get("type") not in RELAYED:
        return []
    from maillage.federation.groups.queries import follower_inboxes

    inboxes = follower_inboxes(community, exclude_domains=[domain_of(origin)])
    if not inboxes:
        return []
    to, cc = _addressing(community)
    sent = [_announce(community, without_context(activity), to, cc)]
    obj = activity.get("object")
    public = community.visibility == Visibility.PUBLIC
    if public and activity.get("type") == "Create" and boosted(obj):
        # the bare object for Mastodon: it fetches it, so only for what anyone may read
        sent.append(_announce(community, obj["id"], to, cc))
    for item in sent:
        send(item, inboxes, community.ap_id)
    return sent


def _announce(community: Community, obj, to: list[str], cc: list[str]) -> dict:
    return {
        "@context": CONTEXT,
        "id": new_id("Announce"),
        "type": "Announce",
        "actor": community.ap_id,
        "to": to,
        "cc": cc,
        "audience": community.ap_id,
        "object": obj,
    }
