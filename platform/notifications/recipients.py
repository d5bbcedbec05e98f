"""Who may be told about an object: the permission policy decides, person by person.

Checking thousands of members one by one must not cost a query each: the memberships of all the
candidates are read in a few queries and put in the permission module's per-request cache of
roles (the very dict ``roles_of`` fills, with the same content), then ``can`` runs in memory.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from maillage.communities.community.models import Community, Membership
from maillage.communities.permissions import can, prime_roles
from maillage.communities.users.models import User
from maillage.platform.extensions import db


def community_members(community: Community) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == community.id)
            .order_by(User.id)
        )
    )


def _may_see(user: User, obj, community: Community | None) -> bool:
    if community is not None and not can(user, "read", community):
        return False
    try:
        return can(user, "view", obj)
    except LookupError:  # no rule for this type: reading the community is what counts
        return community is not None


def allowed_recipients(
    obj, community: Community | None, actor: User | None, recipients: Iterable[User] | None
) -> list[User]:
    """The people to notify about ``obj``: the given ones (None: the community's members),
    without the actor, inactive or remote accounts, or anyone who may not see ``obj``."""
    if recipients is None:
        candidates = community_members(community) if community is not None else []
    else:
        candidates = list({user.id: user for user in recipients if user is not None}.values())
    actor_id = actor.id if actor is not None else None
    candidates = [
        user for user in candidates if user.id != actor_id and user.is_active and user.local
    ]
    prime_roles([user.id for user in candidates])
    return [user for user in candidates if _may_see(user, obj, community)]
