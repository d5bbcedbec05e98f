"""The Delete of the Person sent to the instances that received the person's content.

Built before the row is anonymised: it names the old actor id, which other servers know (the
kept row's new id names no one).  Recipients: the followers of the local communities the person
belonged to or wrote in, and the remote communities (Groups) they belonged to or followed.
Deliveries are signed with the person's key, kept until they have left (see
``maillage.federation.actors.personal_data``).
"""

from __future__ import annotations

from sqlalchemy import select, union

from maillage.communities.community.models import Community, Membership, Visibility
from maillage.communities.posts.models import Comment, Post
from maillage.communities.users.models import User
from maillage.platform.extensions import db

KEY_SUFFIX = "#main-key"


def _communities(user: User) -> list[Community]:
    member = select(Membership.community_id).where(Membership.user_id == user.id)
    posted = select(Post.community_id).where(Post.author_id == user.id)
    commented = (
        select(Post.community_id)
        .join(Comment, Comment.post_id == Post.id)
        .where(Comment.author_id == user.id)
    )
    parts = [member, posted, commented]
    try:
        from maillage.federation.outgoing.models import RemoteFollow

        parts.append(select(RemoteFollow.community_id).where(RemoteFollow.user_id == user.id))
    except ImportError:  # federation switched off in this build
        pass
    ids = union(*parts)
    return list(
        db.session.scalars(
            select(Community).where(
                Community.id.in_(ids.scalar_subquery()),
                Community.visibility != Visibility.SECRET,
            )
        )
    )


def recipient_inboxes(user: User) -> list[str]:
    """The inboxes that received (or could have received) the person's activities."""
    from maillage.federation.outgoing.publish import (
        local_group_addressing,
        remote_group_addressing,
    )

    inboxes: list[str] = []
    for community in _communities(user):
        addressing = (
            local_group_addressing(community)
            if community.local
            else remote_group_addressing(community)
        )
        if addressing is not None:
            inboxes.extend(addressing.inboxes)
    return list(dict.fromkeys(inboxes))


def delete_person_activity(actor_id: str) -> dict:
    from maillage.federation.outgoing.activities import PUBLIC, activity

    return activity("Delete", actor_id, actor_id, to=[PUBLIC], cc=[])


def send_delete_person(user: User) -> int:
    """Queue the Delete{Person} deliveries (current transaction); returns how many."""
    from maillage.federation.outgoing.publish import enabled, enqueue

    if not user.local or not enabled():
        return 0
    inboxes = recipient_inboxes(user)
    if not inboxes:
        return 0
    from maillage.federation.actors.operations import ensure_key

    ensure_key(user)  # its key id names the old actor: what the receivers verify against
    return enqueue(delete_person_activity(user.ap_id), inboxes, user.ap_id)


def delete_pending(user: User) -> bool:
    """Whether a delivery signed by the deleted person's key is still waiting."""
    from maillage.federation.actors.models import ActorKey
    from maillage.federation.transport.models import Delivery

    key_id = db.session.scalar(select(ActorKey.key_id).where(ActorKey.user_id == user.id))
    if key_id is None:
        return False
    signer = key_id.removesuffix(KEY_SUFFIX)
    return (
        db.session.scalar(
            select(Delivery.id)
            .where(Delivery.signer_ap_id == signer, Delivery.status == "pending")
            .limit(1)
        )
        is not None
    )
