"""Reads on communities shared by views and the API, each a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from maillage.communities.community.models import (
    Community,
    Invitation,
    JoinPolicy,
    JoinRequest,
    Membership,
    RequestStatus,
    Role,
    Topic,
    Visibility,
    community_topics,
)
from maillage.communities.organisations.models import Organisation
from maillage.communities.permissions import (
    MANAGING_ROLES,
    can,
    prime_roles,
    roles_of,
    visible_community_ids_clause,
)
from maillage.communities.users.models import User
from maillage.platform.db import escape_like, utcnow
from maillage.platform.extensions import db


def community_by_slug(slug: str) -> Community | None:
    return db.session.scalar(
        select(Community)
        .where(Community.slug == slug)
        .options(selectinload(Community.topics), joinedload(Community.organisation))
    )


def my_communities(viewer: User) -> list[Community]:
    ids = list(roles_of(viewer))
    if not ids:
        return []
    return list(
        db.session.scalars(select(Community).where(Community.id.in_(ids)).order_by(Community.name))
    )


def suggested_communities(viewer: User | None, limit: int = 6) -> list[Community]:
    """Public communities the viewer is not in, the liveliest first."""
    statement = select(Community).where(Community.visibility == Visibility.PUBLIC)
    if viewer is not None and roles_of(viewer):
        statement = statement.where(Community.id.not_in(list(roles_of(viewer))))
    return list(
        db.session.scalars(
            statement.order_by(Community.member_count.desc(), Community.id).limit(limit)
        )
    )


def directory(
    viewer: User | None,
    *,
    query: str = "",
    kind: str = "",
    topic: str = "",
    page: int = 1,
    per_page: int = 24,
) -> tuple[list[Community], int]:
    """Communities the viewer may see, filtered by the kind of organisation they gather and by
    topic; returns one page and the total."""
    statement = select(Community).where(visible_community_ids_clause(viewer))
    if query:
        statement = statement.where(Community.name.ilike(f"%{escape_like(query)}%", escape="\\"))
    if topic:
        statement = statement.where(
            Community.id.in_(
                select(community_topics.c.community_id).join(Topic).where(Topic.slug == topic)
            )
        )
    if kind:
        gathering = (
            select(Membership.community_id)
            .join(User, User.id == Membership.user_id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(Organisation.kind == kind)
        )
        statement = statement.where(Community.id.in_(gathering))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    items = list(
        db.session.scalars(
            statement.options(selectinload(Community.topics), joinedload(Community.organisation))
            .order_by(Community.member_count.desc(), Community.name, Community.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return items, total


def organisation_mix(community_ids: list[int]) -> dict[int, dict[str, int]]:
    """``{community_id: {organisation kind: members}}`` — the mix a community gathers."""
    if not community_ids:
        return {}
    rows = db.session.execute(
        select(Membership.community_id, Organisation.kind, func.count())
        .join(User, User.id == Membership.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Membership.community_id.in_(community_ids))
        .group_by(Membership.community_id, Organisation.kind)
    )
    mix: dict[int, dict[str, int]] = {}
    for community_id, kind, count in rows:
        mix.setdefault(community_id, {})[kind] = count
    return mix


def members(community: Community, page: int = 1, per_page: int = 50) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.community_id == community.id)
            .options(joinedload(Membership.user).joinedload(User.organisation))
            .order_by(
                Membership.role != Role.OWNER,
                Membership.role != Role.FACILITATOR,
                Membership.created_at,
                Membership.id,
            )
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )


def pending_requests(
    community: Community, page: int = 1, per_page: int | None = None
) -> list[JoinRequest]:
    """Pending requests, oldest first (the ones waiting longest come first)."""
    statement = (
        select(JoinRequest)
        .where(
            JoinRequest.community_id == community.id,
            JoinRequest.status == RequestStatus.PENDING,
        )
        .options(joinedload(JoinRequest.user).joinedload(User.organisation))
        .order_by(JoinRequest.created_at, JoinRequest.id)
    )
    if per_page is not None:
        statement = statement.offset((page - 1) * per_page).limit(per_page)
    return list(db.session.scalars(statement))


def pending_request_count(community: Community) -> int:
    return pending_request_counts([community.id]).get(community.id, 0)


def request_deciders(community: Community) -> list[User]:
    """Who decides on join requests: the members holding a managing role, checked by the
    permission policy with their roles primed in one go (no query per person)."""
    people = list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.community_id == community.id,
                Membership.role.in_([str(role) for role in MANAGING_ROLES]),
            )
            .order_by(User.id)
        )
    )
    prime_roles([user.id for user in people])
    return [user for user in people if can(user, "approve_requests", community)]


def pending_request_counts(community_ids) -> dict[int, int]:
    """``{community_id: pending requests}`` for many communities in one grouped query (the
    partial unique index on pending requests serves it); communities with none are absent."""
    ids = list(community_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(JoinRequest.community_id, func.count())
        .where(JoinRequest.community_id.in_(ids), JoinRequest.status == RequestStatus.PENDING)
        .group_by(JoinRequest.community_id)
    )
    return {community_id: count for community_id, count in rows}


@dataclass(frozen=True)
class PendingRequests:
    community: Community
    count: int


def pending_requests_to_decide(viewer: User | None) -> list[PendingRequests]:
    """The communities where ``viewer`` decides on join requests and some are waiting, most
    waiting first: two queries whatever the number of communities (roles are cached)."""
    if viewer is None:
        return []
    managed = [cid for cid, role in roles_of(viewer).items() if role in MANAGING_ROLES]
    counts = pending_request_counts(managed)
    if not counts:
        return []
    communities = db.session.scalars(select(Community).where(Community.id.in_(list(counts))))
    found = [
        PendingRequests(community, counts[community.id])
        for community in communities
        if can(viewer, "approve_requests", community)
    ]
    return sorted(found, key=lambda item: (-item.count, item.community.name))


def join_request_in(community: Community, request_id: int) -> JoinRequest | None:
    """A join request of this community (any status), with its requester loaded."""
    return db.session.scalar(
        select(JoinRequest)
        .where(JoinRequest.id == request_id, JoinRequest.community_id == community.id)
        .options(joinedload(JoinRequest.user))
    )


def open_invitations(community: Community, limit: int = 100) -> list[Invitation]:
    """Invitations sent and neither used nor expired, the most recent first."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.community_id == community.id,
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .options(joinedload(Invitation.invited_by))
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class MembershipStatus:
    """Where the viewer stands with a community, which decides the action offered to them.

    ``kind`` is one of ``anonymous``, ``member``, ``pending``, ``join``, ``request``,
    ``invite_only`` or ``closed`` (e.g. a remote community joined from its own instance).
    """

    kind: str
    role: str | None = None
    can_leave: bool = False
    pending: JoinRequest | None = None


def membership_status(community: Community, viewer: User | None) -> MembershipStatus:
    from maillage.communities.community.operations import pending_request

    if viewer is None:
        return MembershipStatus("anonymous")
    role = roles_of(viewer).get(community.id)
    if role is not None:
        return MembershipStatus("member", role=role, can_leave=can(viewer, "leave", community))
    pending = pending_request(community, viewer)
    if pending is not None:
        return MembershipStatus("pending", pending=pending)
    return MembershipStatus(_newcomer_action(community, viewer))


def _newcomer_action(community: Community, viewer: User) -> str:
    if can(viewer, "join", community):
        return "join"
    if can(viewer, "request_join", community):
        return "request"
    return "invite_only" if community.join_policy == JoinPolicy.INVITE else "closed"


def all_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).order_by(Topic.name)))


# -- the facilitator console -------------------------------------------------------------------

#: Activity filters of the members page: (key, days, active?) — "active" means seen within the
#: last ``days`` days, "dormant" not seen (or never) for more than ``days`` days.
ACTIVITY_FILTERS = {
    "active30": (30, True),
    "dormant90": (90, False),
}


@dataclass(frozen=True)
class MemberFilters:
    organisation: int | None = None
    kind: str = ""
    role: str = ""
    activity: str = ""

    def active(self) -> dict:
        values = {
            "organisation": self.organisation,
            "kind": self.kind,
            "role": self.role,
            "activity": self.activity,
        }
        return {key: value for key, value in values.items() if value}


def filtered_members(
    community: Community,
    filters: MemberFilters,
    page: int = 1,
    per_page: int = 50,
    now: dt.datetime | None = None,
) -> tuple[list[Membership], int]:
    """One page of members matching ``filters`` and their total: two queries."""
    now = now or utcnow()
    statement = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.community_id == community.id)
    )
    if filters.organisation:
        statement = statement.where(User.organisation_id == filters.organisation)
    if filters.kind:
        statement = statement.where(
            User.organisation_id.in_(
                select(Organisation.id).where(Organisation.kind == filters.kind)
            )
        )
    if filters.role:
        statement = statement.where(Membership.role == filters.role)
    if filters.activity in ACTIVITY_FILTERS:
        days, active = ACTIVITY_FILTERS[filters.activity]
        since = now - dt.timedelta(days=days)
        if active:
            statement = statement.where(User.last_seen_at >= since)
        else:
            statement = statement.where((User.last_seen_at.is_(None)) | (User.last_seen_at < since))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    items = db.session.scalars(
        statement.options(joinedload(Membership.user).joinedload(User.organisation))
        .order_by(
            Membership.role != Role.OWNER,
            Membership.role != Role.FACILITATOR,
            Membership.created_at,
            Membership.id,
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(items.unique()), total


def member_organisations(community: Community) -> list[Organisation]:
    """The organisations the members belong to (the members page's filter)."""
    ids = (
        select(User.organisation_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.community_id == community.id)
    )
    return list(
        db.session.scalars(
            select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
        )
    )


INVITATION_STATES = ("pending", "accepted", "expired", "revoked")


def invitations(
    community: Community,
    state: str = "",
    page: int = 1,
    per_page: int = 50,
    now: dt.datetime | None = None,
) -> tuple[list[Invitation], int]:
    """Invitations of ``community`` (all, or in one state), the most recent first, and total."""
    now = now or utcnow()
    statement = select(Invitation).where(Invitation.community_id == community.id)
    conditions = {
        "pending": (
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        ),
        "accepted": (Invitation.used_at.is_not(None),),
        "revoked": (Invitation.used_at.is_(None), Invitation.revoked_at.is_not(None)),
        "expired": (
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at <= now,
        ),
    }
    if state in conditions:
        statement = statement.where(*conditions[state])
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    items = db.session.scalars(
        statement.options(joinedload(Invitation.invited_by))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(items), total


def invitation_in(community: Community, invitation_id: int) -> Invitation | None:
    return db.session.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id, Invitation.community_id == community.id)
        .options(joinedload(Invitation.community))
    )
