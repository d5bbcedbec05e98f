"""Reads of moderation: sanctions in force, the queue of reports, a community's audit log.

``is_banned`` and ``is_muted`` are what the permission policy asks; both are answered from a
per-request cache (mutes come with the roles query of ``permissions.roles_of``; bans of a person
load in one query the first time they are asked), unless ``now`` is given (fixed clocks in tests,
or a question about another moment), which asks the database directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import g, has_app_context
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from maillage.communities.community.models import Community
from maillage.communities.moderation import targets
from maillage.communities.moderation.models import Report, ReportStatus, Sanction, SanctionKind
from maillage.communities.permissions import muted_in
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

# -- sanctions ---------------------------------------------------------------------------------


def _active(now: dt.datetime):
    return and_(
        Sanction.lifted_at.is_(None), or_(Sanction.ends_at.is_(None), Sanction.ends_at > now)
    )


def active_sanction(
    user: User, community: Community, kind: str, now: dt.datetime | None = None
) -> Sanction | None:
    """The active sanction of ``kind`` ending last (a permanent one first)."""
    return db.session.scalar(
        select(Sanction)
        .where(
            Sanction.user_id == user.id,
            Sanction.community_id == community.id,
            Sanction.kind == kind,
            _active(now or utcnow()),
        )
        .order_by(Sanction.ends_at.is_(None).desc(), Sanction.ends_at.desc())
        .limit(1)
    )


def banned_from(user: User) -> frozenset[int]:
    """Ids of the communities ``user`` is banned from now, in one query cached for the request."""
    cache = g.setdefault("_maillage_bans", {}) if has_app_context() else {}
    if user.id not in cache:
        cache[user.id] = frozenset(
            db.session.scalars(
                select(Sanction.community_id).where(
                    Sanction.user_id == user.id,
                    Sanction.kind == SanctionKind.BAN,
                    _active(utcnow()),
                )
            )
        )
    return cache[user.id]


def is_banned(user: User | None, community: Community, now: dt.datetime | None = None) -> bool:
    if user is None or getattr(user, "id", None) is None:
        return False
    if now is not None:
        return active_sanction(user, community, SanctionKind.BAN, now) is not None
    return community.id in banned_from(user)


def is_muted(user: User | None, community: Community, now: dt.datetime | None = None) -> bool:
    """Muted members read but do not post, comment or react.  (A mute only matters for members;
    without ``now`` the answer comes with the person's roles, so it is False for non-members.)"""
    if user is None or getattr(user, "id", None) is None:
        return False
    if now is not None:
        return active_sanction(user, community, SanctionKind.MUTE, now) is not None
    return community.id in muted_in(user)


def sanctions_in(community: Community, limit: int = 100) -> list[Sanction]:
    """The community's sanctions, newest first, with the people loaded."""
    return list(
        db.session.scalars(
            select(Sanction)
            .where(Sanction.community_id == community.id)
            .options(joinedload(Sanction.user), joinedload(Sanction.created_by))
            .order_by(Sanction.created_at.desc(), Sanction.id.desc())
            .limit(limit)
        )
    )


def sanction_in(community: Community, sanction_id: int) -> Sanction | None:
    return db.session.scalar(
        select(Sanction).where(Sanction.id == sanction_id, Sanction.community_id == community.id)
    )


# -- reports -----------------------------------------------------------------------------------


def open_report_by(user: User, kind: str, object_id: int) -> Report | None:
    return db.session.scalar(
        select(Report).where(
            Report.reporter_id == user.id,
            Report.object_type == kind,
            Report.object_id == object_id,
            Report.status == ReportStatus.OPEN,
        )
    )


def reports_since(user: User, since: dt.datetime) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Report)
        .where(Report.reporter_id == user.id, Report.created_at >= since)
    )


def open_reports_of(kind: str, object_id: int) -> list[Report]:
    return list(
        db.session.scalars(
            select(Report).where(
                Report.object_type == kind,
                Report.object_id == object_id,
                Report.status == ReportStatus.OPEN,
            )
        )
    )


@dataclass
class QueueItem:
    """The open reports on one object."""

    kind: str
    object_id: int
    community_id: int
    count: int
    last_at: dt.datetime
    obj: object = None  # None: deleted since
    reports: list[Report] = field(default_factory=list)

    @property
    def target(self) -> targets.TargetKind | None:
        return targets.KINDS.get(self.kind)

    @property
    def categories(self) -> list[str]:
        return sorted({report.category for report in self.reports})


@dataclass
class QueuePage:
    items: list[QueueItem]
    page: int
    pages: int
    total: int


def queue(community: Community | None = None, page: int = 1, per_page: int = 20) -> QueuePage:
    """Open reports grouped by object, most recently reported first; ``community`` None is the
    platform-wide queue.  A fixed number of queries whatever the page holds."""
    condition = [Report.status == ReportStatus.OPEN]
    if community is not None:
        condition.append(Report.community_id == community.id)
    groups = (
        select(
            Report.object_type,
            Report.object_id,
            Report.community_id,
            func.count().label("count"),
            func.max(Report.created_at).label("last_at"),
        )
        .where(*condition)
        .group_by(Report.object_type, Report.object_id, Report.community_id)
    )
    total = db.session.scalar(select(func.count()).select_from(groups.subquery()))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        groups.order_by(func.max(Report.created_at).desc(), Report.object_type, Report.object_id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [QueueItem(kind, oid, cid, count, last) for kind, oid, cid, count, last in rows]
    _fill(items)
    return QueuePage(items, page, pages, total)


def _fill(items: list[QueueItem]) -> None:
    if not items:
        return
    keys = [(item.kind, item.object_id) for item in items]
    objects = targets.load_many(keys)
    reports = db.session.scalars(
        select(Report)
        .where(
            Report.status == ReportStatus.OPEN,
            or_(*(and_(Report.object_type == k, Report.object_id == i) for k, i in keys)),
        )
        .options(joinedload(Report.reporter))
        .order_by(Report.created_at, Report.id)
    )
    by_key: dict[tuple[str, int], list[Report]] = {}
    for report in reports:
        by_key.setdefault((report.object_type, report.object_id), []).append(report)
    for item in items:
        item.obj = objects.get((item.kind, item.object_id))
        item.reports = by_key.get((item.kind, item.object_id), [])


def communities_by_id(ids: set[int]) -> dict[int, Community]:
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Community).where(Community.id.in_(ids)))}


# -- audit log ---------------------------------------------------------------------------------


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    actors: dict[int, User]
    page: int
    has_next: bool


def audit_page(
    community: Community, action: str | None = None, page: int = 1, per_page: int = 50
) -> AuditPage:
    """A page of the community's audit log, newest first, with the actors in one more query."""
    statement = select(AuditEntry).where(AuditEntry.community_id == community.id)
    if action:
        statement = statement.where(AuditEntry.action == action)
    entries = list(
        db.session.scalars(
            statement.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(per_page + 1)
            .offset((max(page, 1) - 1) * per_page)
        )
    )
    has_next = len(entries) > per_page
    entries = entries[:per_page]
    actor_ids = {entry.actor_id for entry in entries if entry.actor_id is not None}
    actors = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    return AuditPage(entries, actors, max(page, 1), has_next)


def audit_actions(community: Community) -> list[str]:
    """The actions found in the community's log (the filter's choices)."""
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.community_id == community.id)
            .distinct()
            .order_by(AuditEntry.action)
        )
    )
