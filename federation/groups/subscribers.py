"""Memberships of remote followers kept in step with their Follow.

A facilitator approving the join request of a remote follower accepts its Follow; a remote
person leaving or removed (banned) from one of our communities stops following it: their
``GroupFollower`` row goes (so nothing more is delivered to them) and their instance gets a
``Reject`` of the Follow, which ends it there too.
"""

from __future__ import annotations

from maillage.communities import signals


@signals.member_joined.connect
def _accept_pending_follow(membership, **_kwargs) -> None:
    user, community = membership.user, membership.community
    if user.local or not community.local:
        return
    from maillage.federation.actors.queries import remote_actor_for
    from maillage.federation.groups.follows import accepted_follow

    remote_actor = remote_actor_for(user)
    if remote_actor is not None:
        accepted_follow(community, remote_actor)


@signals.member_left.connect
def _forget_follower(community, user=None, **_kwargs) -> None:
    """A remote member removed or banned: forget the follower and reject its Follow.

    An ``Undo{Follow}`` received from them deletes the row before the membership (see
    ``follows.undo_follow``): no row here then, and nothing is sent back."""
    if user is None or user.local or not community.local:
        return
    from maillage.federation.actors.queries import remote_actor_for
    from maillage.federation.groups import relay
    from maillage.federation.groups.queries import follower
    from maillage.platform.extensions import db

    remote_actor = remote_actor_for(user)
    row = follower(community, remote_actor) if remote_actor is not None else None
    if row is None:
        return
    follow = {"type": "Follow", "actor": remote_actor.ap_id, "object": community.ap_id}
    if row.follow_activity_id:
        follow = {"id": row.follow_activity_id, **follow}
    db.session.delete(row)
    db.session.flush()
    inbox = remote_actor.inbox or remote_actor.shared_inbox
    if inbox:
        relay.answer_follow(community, follow, inbox, accepted=False)
