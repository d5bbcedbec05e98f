"""Reads on the followers of our communities, shared with the outgoing package."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from maillage.communities.community.models import Community, Visibility
from maillage.federation.actors.models import RemoteActor
from maillage.federation.groups.models import FollowerState, GroupFollower
from maillage.federation.ids import domain_of
from maillage.platform.extensions import db


def follower_inboxes(community: Community, *, exclude_domains: Iterable[str] = ()) -> list[str]:
    """Where the community's announces go: one inbox per follower, its instance's shared
    inbox when it has one (so an instance gets each activity once), without duplicates, in a
    stable order.  A secret community has none; a private one only allow-listed instances'."""
    if not community.local or community.visibility == Visibility.SECRET:
        return []
    excluded = {domain.lower() for domain in exclude_domains}
    rows = db.session.execute(
        select(RemoteActor.shared_inbox, RemoteActor.inbox, RemoteActor.domain)
        .join(GroupFollower, GroupFollower.remote_actor_id == RemoteActor.id)
        .where(
            GroupFollower.community_id == community.id,
            GroupFollower.state == FollowerState.ACCEPTED,
        )
        .order_by(RemoteActor.id)
    ).all()
    private = community.visibility == Visibility.PRIVATE
    inboxes: list[str] = []
    for shared, inbox, domain in rows:
        target = shared or inbox
        host = domain_of(target)
        if not target or host in excluded or domain.lower() in excluded or target in inboxes:
            continue
        if private and not _allow_listed(host):
            continue
        inboxes.append(target)
    return inboxes


def _allow_listed(domain: str) -> bool:
    from maillage.federation.transport.policy import domain_allow_listed

    return domain_allow_listed(domain)


def followers_count(community: Community) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(GroupFollower)
        .where(
            GroupFollower.community_id == community.id,
            GroupFollower.state == FollowerState.ACCEPTED,
        )
    )


def follower(community: Community, remote_actor: RemoteActor) -> GroupFollower | None:
    return db.session.scalar(
        select(GroupFollower).where(
            GroupFollower.community_id == community.id,
            GroupFollower.remote_actor_id == remote_actor.id,
        )
    )
