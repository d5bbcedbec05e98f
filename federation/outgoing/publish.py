"""Addressing and delivery of what our side sends.

Two paths (FEP-1b12):
- a LOCAL community (we are the Group): the activity of a local person is wrapped in the Group's
  ``Announce`` and delivered to the follower instances' inboxes, signed by the community;
- a REMOTE community (a shadow row of another server's Group): our person's activity goes
  straight to that Group's inbox, signed by the person; the Group announces it to the others.

Visibility: secret communities never federate; private ones only to followers on allow-listed
instances, addressed to the followers collection (never Public); public ones to Public + followers.
Deliveries join the current transaction (``transport.delivery.enqueue_delivery``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib.util import find_spec
from urllib.parse import urlsplit

from flask import current_app

from maillage.communities.community.models import Community, Visibility
from maillage.federation.outgoing import activities

log = logging.getLogger(__name__)


@dataclass
class Addressing:
    to: list[str]
    cc: list[str]
    inboxes: list[str] = field(default_factory=list)
    public: bool = True


#: What this package calls in the other federation packages (imported inside functions).
REQUIRED_MODULES = (
    "maillage.federation.transport.delivery",
    "maillage.federation.transport.policy",
    "maillage.federation.actors.operations",
    "maillage.federation.actors.serialize",
    "maillage.federation.groups.queries",
)


def enabled() -> bool:
    """Federation is switched on and its packages are installed (while the federation packages
    are being assembled, a missing one turns sending off instead of breaking every write)."""
    if not current_app.config.get("FEDERATION_ENABLED", True):
        return False
    return all(find_spec(name) is not None for name in REQUIRED_MODULES)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def followers_url(community: Community) -> str:
    return f"{community.ap_id}/followers"


def local_group_addressing(community: Community) -> Addressing | None:
    """Who receives what a local community announces; None when nothing may leave."""
    from maillage.federation.groups.queries import follower_inboxes

    if community.visibility == Visibility.SECRET:
        return None
    inboxes = follower_inboxes(community)
    if community.visibility == Visibility.PRIVATE:
        from maillage.federation.transport.policy import domain_allow_listed

        inboxes = [inbox for inbox in inboxes if domain_allow_listed(host_of(inbox))]
        return Addressing([followers_url(community)], [], inboxes, public=False)
    return Addressing([activities.PUBLIC], [followers_url(community)], inboxes)


def remote_group_addressing(community: Community) -> Addressing | None:
    """Where our person's activity in a remote community goes: that Group's inbox."""
    from maillage.federation.actors.operations import remote_actor_for

    if community.visibility == Visibility.SECRET:
        return None
    group = remote_actor_for(community)
    if group is None or not (group.inbox or group.shared_inbox):
        log.warning("no remote actor known for community %s: nothing sent", community.ap_id)
        return None
    inbox = group.inbox or group.shared_inbox
    if community.visibility == Visibility.PRIVATE:
        from maillage.federation.transport.policy import domain_allow_listed

        if not domain_allow_listed(host_of(inbox)):
            return None
        return Addressing([community.ap_id], [], [inbox], public=False)
    return Addressing([community.ap_id], [activities.PUBLIC], [inbox])


def enqueue(activity: dict, inboxes: list[str], signer_ap_id: str) -> int:
    from maillage.federation.transport.delivery import enqueue_delivery

    if not inboxes:
        return 0
    return enqueue_delivery(activity, inboxes, signer_ap_id)


def inner_addressing(community: Community, public: bool) -> tuple[list[str], list[str]]:
    """``to``/``cc`` of a person's activity in ``community`` (Lemmy's shape)."""
    if public:
        return [activities.PUBLIC], [community.ap_id]
    return [community.ap_id], [followers_url(community)] if community.local else []


def announce_local(
    community: Community, build, *, plain_object: bool = False, extra_inboxes=()
) -> dict | None:
    """Wrap the activity ``build(addressing)`` returns in the Group's Announce and queue it.

    ``build`` is called only when someone will receive it, so a community without remote
    followers costs no serialisation.  ``plain_object``: a new public top-level object (a post,
    a topic, an event) is also announced as the bare object id (a boost, the form Mastodon
    shows), once per inbox; see :func:`boosted`.  ``extra_inboxes``: instances that must hear it
    without following (a banned person's).
    """
    addressing = local_group_addressing(community)
    if addressing is None:
        return None
    inboxes = list(dict.fromkeys([*addressing.inboxes, *extra_inboxes]))
    if not inboxes:
        return None
    inner = build(addressing)
    if inner is None:
        return None
    wrapper = activities.announce(community.ap_id, inner, to=addressing.to, cc=addressing.cc)
    enqueue(wrapper, inboxes, community.ap_id)
    obj = inner.get("object")
    if plain_object and addressing.public and boosted(obj):
        boost = activities.activity(
            "Announce",
            community.ap_id,
            obj["id"],
            to=addressing.to,
            cc=addressing.cc,
            audience=community.ap_id,
        )
        enqueue(boost, inboxes, community.ap_id)
    return wrapper


def boosted(obj) -> bool:
    """Is this new object of a PUBLIC community also announced as its bare id?

    The plain ``Announce`` is for Mastodon-like servers, which show a Group's boost of a post
    in their timelines and ignore the FEP-1b12 ``Announce{Create}``.  Only for top-level
    objects (a ``Page``, an ``Event``…, never a reply: no ``inReplyTo``): a boost of a comment
    shows nobody a thread, and Lemmy-like servers, which already applied the wrapped
    ``Create``, fetch the announced id again and log a failure for each comment.  Decided from
    the object, not per receiving server: we know no peer's software without asking its
    NodeInfo, and the wrapped activity carries everything Lemmy, PieFed, Mbin and another
    Maillage need, so the one extra boost per post is harmless to them.
    """
    return isinstance(obj, dict) and bool(obj.get("id")) and not obj.get("inReplyTo")


def send_to_remote_group(community: Community, signer_ap_id: str, build) -> dict | None:
    """Queue ``build(addressing)`` for the remote Group's inbox, signed by ``signer_ap_id``."""
    addressing = remote_group_addressing(community)
    if addressing is None:
        return None
    document = build(addressing)
    if document is None:
        return None
    enqueue(document, addressing.inboxes, signer_ap_id)
    return document


def publish(
    community: Community, signer_ap_id: str, build, *, plain_object: bool = False
) -> dict | None:
    """The right path for ``community``: Announce when it is ours, direct when it is remote.

    ``build(addressing)`` returns the activity of the person (or None to send nothing)."""
    if not enabled():
        return None
    if community.local:
        return announce_local(community, build, plain_object=plain_object)
    return send_to_remote_group(community, signer_ap_id, build)
