"""Reads of the activity log: every number is one SQL aggregation over a date range.

Periods are half-open ``[start, end)``.  Bounds given as ``date`` are Paris calendar days and select
on the indexed ``day`` column; bounds given as aware ``datetime`` select on ``at`` exactly (a
monthly summary from 1 March 00:00 Paris to 1 April 00:00 Paris is the same either way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask import current_app, has_request_context
from sqlalchemy import and_, distinct, func, select

from maillage.communities.analytics.models import PARIS, ActivityEvent
from maillage.communities.community.models import Community, Membership
from maillage.communities.users.models import User
from maillage.platform.extensions import db

#: Kinds that count as contributions, in the order tables show them.
CONTRIBUTION_KINDS = (
    "post",
    "comment",
    "topic",
    "reply",
    "event",
    "document",
    "wiki_page",
    "poll",
    "task",
    "reaction",
)
#: Kinds that do not make someone "active" (something happened to them, they did nothing).
PASSIVE_KINDS = ("leave",)

Bound = dt.date | dt.datetime


def _is_datetime(value: Bound) -> bool:
    return isinstance(value, dt.datetime)


def period_clause(start: Bound, end: Bound):
    """``ActivityEvent`` rows of ``[start, end)`` (dates: Paris days; datetimes: exact times)."""
    if _is_datetime(start) != _is_datetime(end):
        raise TypeError("start and end must both be dates or both be datetimes")
    column = ActivityEvent.at if _is_datetime(start) else ActivityEvent.day
    return and_(column >= start, column < end)


def paris_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant a Paris calendar day starts (23:00 or 22:00 UTC the day before)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=PARIS).astimezone(dt.UTC)


def as_instants(start: Bound, end: Bound) -> tuple[dt.datetime, dt.datetime]:
    if _is_datetime(start):
        return start, end
    return paris_midnight(start), paris_midnight(end)


def _scope(statement, community: Community | None):
    if community is None:
        return statement
    return statement.where(ActivityEvent.community_id == community.id)


def _readable_scope(statement, community: Community | None, viewer: User | None):
    """Like :func:`_scope`, but platform-wide only the activity of platform objects and of the
    communities whose content ``viewer`` may read (public ones, memberships, running grants): what
    names content — titles, links — never shows a private or secret community's to others."""
    if community is not None:
        return _scope(statement, community)
    from maillage.communities.permissions import readable_community_ids_clause

    readable = select(Community.id).where(readable_community_ids_clause(viewer))
    return statement.where(
        ActivityEvent.community_id.is_(None) | ActivityEvent.community_id.in_(readable)
    )


def _member_filter(statement, community: Community | None):
    """Only people who are (still) members of ``community``; everyone on the platform-wide view."""
    if community is None:
        return statement.where(ActivityEvent.user_id.is_not(None))
    members = select(Membership.user_id).where(Membership.community_id == community.id)
    return statement.where(ActivityEvent.user_id.in_(members))


def active_members(community: Community | None, start: Bound, end: Bound) -> int:
    """People who did anything (visit, read, contribute) in the community during the period."""
    statement = select(func.count(distinct(ActivityEvent.user_id))).where(
        period_clause(start, end), ActivityEvent.kind.not_in(PASSIVE_KINDS)
    )
    statement = _member_filter(_scope(statement, community), community)
    return db.session.scalar(statement) or 0


def new_members(community: Community | None, start: Bound, end: Bound) -> int:
    """Members who joined the community (platform-wide: accounts created) during the period."""
    since, until = as_instants(start, end)
    if community is None:
        statement = select(func.count(User.id)).where(
            User.created_at >= since, User.created_at < until, User.local.is_(True)
        )
    else:
        statement = select(func.count(Membership.id)).where(
            Membership.community_id == community.id,
            Membership.created_at >= since,
            Membership.created_at < until,
        )
    return db.session.scalar(statement) or 0


def contributions(community: Community | None, start: Bound, end: Bound) -> dict[str, int]:
    """Contributions by kind (every kind listed, zero included), in ``CONTRIBUTION_KINDS`` order."""
    statement = (
        select(ActivityEvent.kind, func.count(ActivityEvent.id))
        .where(period_clause(start, end), ActivityEvent.kind.in_(CONTRIBUTION_KINDS))
        .group_by(ActivityEvent.kind)
    )
    counts = dict(db.session.execute(_scope(statement, community)).all())
    return {kind: counts.get(kind, 0) for kind in CONTRIBUTION_KINDS}


def active_organisations(community: Community | None, start: Bound, end: Bound) -> int:
    """Distinct organisations of the members who were active during the period."""
    statement = (
        select(func.count(distinct(User.organisation_id)))
        .select_from(ActivityEvent)
        .join(User, User.id == ActivityEvent.user_id)
        .where(period_clause(start, end), ActivityEvent.kind.not_in(PASSIVE_KINDS))
    )
    statement = _member_filter(_scope(statement, community), community)
    return db.session.scalar(statement) or 0


def most_read(
    community: Community | None,
    start: Bound,
    end: Bound,
    limit: int = 10,
    viewer: User | None = None,
) -> list[tuple[str, str, int]]:
    """The most viewed pieces of content: ``(title, url, views)``, most views first.

    One aggregation, then one query per kind of object to get titles and links (through the
    search kinds registry, which every content module fills); deleted objects are skipped.
    Platform-wide (``community=None``), only content ``viewer`` may read is listed — public
    communities' alone without a viewer: an administrator is no member of a secret community.
    """
    views = func.count(ActivityEvent.id).label("views")
    statement = (
        select(ActivityEvent.object_type, ActivityEvent.object_id, views)
        .where(
            period_clause(start, end),
            ActivityEvent.kind == "view",
            ActivityEvent.object_id.is_not(None),
        )
        .group_by(ActivityEvent.object_type, ActivityEvent.object_id)
        .order_by(views.desc(), ActivityEvent.object_type, ActivityEvent.object_id)
        .limit(limit * 2)  # room for deleted objects
    )
    rows = db.session.execute(_readable_scope(statement, community, viewer)).all()
    described = describe_objects((row.object_type, row.object_id) for row in rows)
    result = [
        (*described[(row.object_type, row.object_id)], row.views)
        for row in rows
        if (row.object_type, row.object_id) in described
    ]
    return result[:limit]


def describe_objects(keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], tuple[str, str]]:
    """``(title, path)`` of objects named by ``(kind, id)``, loaded in one query per kind."""
    from maillage.communities.search.kinds import SEARCH_KINDS

    by_kind: dict[str, list[int]] = {}
    for kind, object_id in keys:
        by_kind.setdefault(kind, []).append(object_id)
    described: dict[tuple[str, int], tuple[str, str]] = {}
    if not by_kind:
        return described
    context = None if has_request_context() else current_app.test_request_context("/")
    if context is not None:
        context.push()
    try:
        for kind, ids in by_kind.items():
            search_kind = SEARCH_KINDS.get(kind)
            if search_kind is None:
                continue
            for obj in search_kind.load(ids):
                shown = search_kind.present(obj)
                described[(kind, obj.id)] = (shown.title, shown.url)
    finally:
        if context is not None:
            context.pop()
    return described


def period_summary(community: Community | None, start: Bound, end: Bound) -> dict:
    """What happened in a community during ``[start, end)`` (the monthly summary's numbers).

    ``organisations`` counts the organisations of the members active in the period.
    ``community=None`` summarises the whole platform.
    """
    return {
        "active_members": active_members(community, start, end),
        "new_members": new_members(community, start, end),
        "contributions": contributions(community, start, end),
        "most_read": most_read(community, start, end, limit=5),
        "organisations": active_organisations(community, start, end),
    }
