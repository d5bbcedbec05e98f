"""Reads about access grants: the policy's per-request question, the banner, the admin listing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from maillage.communities.community.models import Community, Membership, Role
from maillage.communities.oversight.models import AccessGrant
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db


def _running(now: dt.datetime):
    return AccessGrant.revoked_at.is_(None), AccessGrant.expires_at > now


def active_community_ids(user: User, now: dt.datetime | None = None) -> frozenset[int]:
    """Communities where administrator ``user`` holds a running grant (one query)."""
    rows = db.session.scalars(
        select(AccessGrant.community_id).where(
            AccessGrant.admin_id == user.id, *_running(now or utcnow())
        )
    )
    return frozenset(rows)


def active_grants_in(community: Community, now: dt.datetime | None = None) -> list[AccessGrant]:
    """The grants running in ``community``, the one ending last first (for the banner)."""
    return list(
        db.session.scalars(
            select(AccessGrant)
            .where(AccessGrant.community_id == community.id, *_running(now or utcnow()))
            .options(joinedload(AccessGrant.admin))
            .order_by(AccessGrant.expires_at.desc(), AccessGrant.id.desc())
        )
    )


def grants_of(community: Community, limit: int = 50) -> list[AccessGrant]:
    """The history of ``community``'s grants, most recent first."""
    return list(
        db.session.scalars(
            select(AccessGrant)
            .where(AccessGrant.community_id == community.id)
            .options(joinedload(AccessGrant.admin), joinedload(AccessGrant.revoked_by))
            .order_by(AccessGrant.created_at.desc(), AccessGrant.id.desc())
            .limit(limit)
        )
    )


def grant_in(community: Community, grant_id: int) -> AccessGrant | None:
    return db.session.scalar(
        select(AccessGrant).where(
            AccessGrant.id == grant_id, AccessGrant.community_id == community.id
        )
    )


def owners_by_community(community_ids: list[int]) -> dict[int, list[User]]:
    """``{community_id: [owners]}`` in one query (names only are shown: no content)."""
    owners: dict[int, list[User]] = {cid: [] for cid in community_ids}
    if not community_ids:
        return owners
    rows = db.session.execute(
        select(Membership.community_id, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.community_id.in_(community_ids), Membership.role == Role.OWNER)
        .order_by(User.display_name, User.id)
    )
    for community_id, user in rows:
        owners[community_id].append(user)
    return owners


def managers_of(community: Community) -> list[User]:
    """The owners and facilitators of ``community``: whom a grant is told to."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.community_id == community.id,
                Membership.role.in_([Role.OWNER, Role.FACILITATOR]),
            )
            .order_by(User.id)
        )
    )


@dataclass
class CommunityPage:
    items: list[Community]
    owners: dict[int, list[User]]
    page: int
    pages: int
    total: int


def all_communities(q: str = "", page: int = 1, per_page: int = 50) -> CommunityPage:
    """Every community, secret ones included, for the administrators' listing (no content)."""
    condition = []
    if q.strip():
        condition.append(Community.name.ilike(f"%{q.strip()}%"))
    total = db.session.scalar(select(func.count(Community.id)).where(*condition))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = list(
        db.session.scalars(
            select(Community)
            .where(*condition)
            .order_by(Community.name, Community.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return CommunityPage(items, owners_by_community([c.id for c in items]), page, pages, total)
