"""Follow / Undo{Follow} of our Groups, and Accept / Reject of our users' follows."""

from __future__ import annotations

from maillage.communities.community.models import JoinPolicy, Role, Visibility
from maillage.federation.groups import relay
from maillage.federation.groups.models import FollowerState, GroupFollower
from maillage.federation.groups.queries import follower
from maillage.federation.groups.registry import (
    Ignored,
    Incoming,
    Rejected,
    handles,
    id_of,
    undoes,
)
from maillage.federation.groups.targets import community_by_ap_id
from maillage.platform.audit.operations import record
from maillage.platform.extensions import db


def _is_banned(user, community) -> bool:
    from maillage.communities.moderation.queries import is_banned

    return is_banned(user, community)


def _allow_listed(domain: str) -> bool:
    from maillage.federation.transport.policy import domain_allow_listed

    return domain_allow_listed(domain)


def _local_group(ap_id: str):
    community = community_by_ap_id(ap_id)
    if community is None or not community.local:
        raise Ignored("not one of our groups")
    if community.visibility == Visibility.SECRET:
        raise Rejected("secret communities do not federate")  # never answered: 404 elsewhere
    return community


def _not_announced(incoming: Incoming) -> None:
    """A follow and its answer come signed by their own actor, never inside a group's Announce
    (the Announce handler refuses them too)."""
    if incoming.announced_by is not None:
        raise Rejected("a follow is not announced by a group")


def refusal(community, user, remote_actor) -> str | None:
    """Why a remote person may not follow ``community`` (None: they may)."""
    from maillage.communities.community.operations import membership_of

    if _is_banned(user, community):
        return "banned"
    if community.visibility == Visibility.PRIVATE and not _allow_listed(remote_actor.domain):
        return "private community, instance not allow-listed"
    if community.join_policy == JoinPolicy.INVITE and membership_of(community, user) is None:
        return "invitation only"
    return None


@handles("Follow")
def follow(incoming: Incoming) -> None:
    from maillage.communities.community.operations import (
        add_membership,
        membership_of,
        pending_request,
        request_to_join,
    )

    _not_announced(incoming)
    community = _local_group(id_of(incoming.activity.get("object")))
    actor = incoming.actor()
    user = incoming.user()
    inbox = actor.inbox or actor.shared_inbox
    why = refusal(community, user, actor)
    if why is not None:
        relay.answer_follow(community, incoming.activity, inbox, accepted=False)
        record(user, "federation.follow_rejected", community, community=community, reason=why)
        return
    row = follower(community, actor) or GroupFollower(community=community, remote_actor=actor)
    row.follow_activity_id = incoming.activity["id"][:1000]
    db.session.add(row)
    member = membership_of(community, user) is not None
    if community.join_policy == JoinPolicy.REQUEST and not member:
        row.state = FollowerState.PENDING  # accepted when a facilitator approves the request
        if pending_request(community, user) is None:
            request_to_join(community, user, "", accept_charter=None)
        return
    row.state = FollowerState.ACCEPTED
    if not member:
        add_membership(community, user, Role.MEMBER)
    record(user, "federation.follow", community, community=community)
    relay.answer_follow(community, incoming.activity, inbox, accepted=True)


@undoes("Follow")
def undo_follow(incoming: Incoming) -> None:
    from maillage.communities.community.operations import membership_of, remove_membership

    _not_announced(incoming)
    community = _local_group(id_of(incoming.activity.get("object")))
    actor = incoming.actor()
    user = incoming.user()
    row = follower(community, actor)
    if row is not None:
        # Deleted first: the member_left subscriber then finds no row and sends no Reject
        # back for a follow its author ended.
        db.session.delete(row)
        db.session.flush()
    membership = membership_of(community, user)
    if membership is not None and membership.role != Role.OWNER:
        remove_membership(community, user)
    record(user, "federation.unfollow", community, community=community)


def accepted_follow(community, remote_actor) -> None:
    """A facilitator approved the join request of a remote follower: Accept its Follow."""
    row = follower(community, remote_actor)
    if row is None or row.state == FollowerState.ACCEPTED:
        return
    row.state = FollowerState.ACCEPTED
    follow = {
        "id": row.follow_activity_id,
        "type": "Follow",
        "actor": remote_actor.ap_id,
        "object": community.ap_id,
    }
    relay.answer_follow(
        community, follow, remote_actor.inbox or remote_actor.shared_inbox, accepted=True
    )


@handles("Accept", "Reject")
def answer(incoming: Incoming) -> None:
    """A remote Group answered the Follow one of our users sent."""
    _not_announced(incoming)
    obj = incoming.activity.get("object")
    follow_id = id_of(obj)
    if isinstance(obj, dict):
        if obj.get("type") not in (None, "Follow"):
            raise Ignored(f"{incoming.type} of {obj.get('type')!r}")
        if id_of(obj.get("object")) not in ("", incoming.actor_id):
            raise Rejected("a group can only answer follows of itself")
    if not follow_id:
        raise Rejected("no follow id")
    group = incoming.actor()
    if not group.is_group:
        raise Ignored("only group follows are ours to track")
    from maillage.federation.outgoing.operations import follow_answered

    follow_answered(follow_id, incoming.type == "Accept", group)
