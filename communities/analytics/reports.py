"""The dashboard's tables: trends, organisations represented, dormant members.

Each function is one or two SQL aggregations whatever the size of the log: trends put every row in
its period with a ``CASE`` over the periods' bounds and group by it, not one query per period.
``community=None`` means the whole platform.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, distinct, func, literal, select

from maillage.communities.analytics.models import ActivityEvent
from maillage.communities.analytics.periods import Period, last_periods, today
from maillage.communities.analytics.queries import (
    CONTRIBUTION_KINDS,
    PASSIVE_KINDS,
    _member_filter,
    _scope,
    as_instants,
)
from maillage.communities.community.models import Community, Membership
from maillage.communities.organisations.models import Organisation
from maillage.communities.users.models import User
from maillage.platform.extensions import db

DORMANT_DAYS_DEFAULT = 90
DORMANT_DAYS_CHOICES = (30, 60, 90, 180, 365)


@dataclass(frozen=True)
class TrendPoint:
    period: Period
    active_members: int
    contributions: int
    new_members: int


def _bucket(column, periods: list[Period], instants: bool = False):
    """The index of the period ``column`` falls in (NULL outside them all)."""
    whens = []
    for index, period in enumerate(periods):
        start, end = (
            as_instants(period.start, period.end) if instants else (period.start, period.end)
        )
        whens.append(((column >= start) & (column < end), literal(index)))
    return case(*whens, else_=None)


def trend(
    community: Community | None, unit: str, count: int = 12, now: dt.datetime | None = None
) -> list[TrendPoint]:
    """Active members, contributions and new members in each of the last ``count`` periods."""
    periods = last_periods(unit, count, now)
    first, end = periods[0].start, periods[-1].end
    bucket = _bucket(ActivityEvent.day, periods).label("bucket")
    active = (
        select(bucket, func.count(distinct(ActivityEvent.user_id)))
        .where(
            ActivityEvent.day >= first,
            ActivityEvent.day < end,
            ActivityEvent.kind.not_in(PASSIVE_KINDS),
        )
        .group_by(bucket)
    )
    active = dict(db.session.execute(_member_filter(_scope(active, community), community)).all())
    contributed = (
        select(bucket, func.count(ActivityEvent.id))
        .where(
            ActivityEvent.day >= first,
            ActivityEvent.day < end,
            ActivityEvent.kind.in_(CONTRIBUTION_KINDS),
        )
        .group_by(bucket)
    )
    contributed = dict(db.session.execute(_scope(contributed, community)).all())
    joined = _new_members_by_bucket(community, periods)
    return [
        TrendPoint(period, active.get(i, 0), contributed.get(i, 0), joined.get(i, 0))
        for i, period in enumerate(periods)
    ]


def _new_members_by_bucket(community: Community | None, periods: list[Period]) -> dict[int, int]:
    since, _ = as_instants(periods[0].start, periods[0].end)
    _, until = as_instants(periods[-1].start, periods[-1].end)
    column = User.created_at if community is None else Membership.created_at
    bucket = _bucket(column, periods, instants=True).label("bucket")
    if community is None:
        statement = select(bucket, func.count(User.id)).where(User.local.is_(True))
    else:
        statement = select(bucket, func.count(Membership.id)).where(
            Membership.community_id == community.id
        )
    statement = statement.where(column >= since, column < until).group_by(bucket)
    return dict(db.session.execute(statement).all())


def _people(community: Community | None):
    """``(user_id,)`` of the people counted: the community's members, or active local accounts."""
    if community is None:
        return select(User.id.label("user_id")).where(
            User.local.is_(True), User.is_active.is_(True)
        )
    return select(Membership.user_id.label("user_id")).where(
        Membership.community_id == community.id
    )


def organisations(community: Community | None) -> list[tuple[str, str, int]]:
    """``(organisation name, kind, people)`` of the organisations represented, largest first."""
    people = _people(community).subquery()
    count = func.count(User.id).label("people")
    rows = db.session.execute(
        select(Organisation.name, Organisation.kind, count)
        .select_from(people)
        .join(User, User.id == people.c.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .group_by(Organisation.id, Organisation.name, Organisation.kind)
        .order_by(count.desc(), Organisation.name)
    ).all()
    return [tuple(row) for row in rows]


def organisation_kinds(rows: list[tuple[str, str, int]]) -> list[tuple[str, int, int]]:
    """``(kind, organisations, people)`` from :func:`organisations`' rows (no extra query)."""
    kinds: dict[str, list[int]] = {}
    for _name, kind, people in rows:
        totals = kinds.setdefault(kind, [0, 0])
        totals[0] += 1
        totals[1] += people
    return sorted(
        ((kind, orgs, people) for kind, (orgs, people) in kinds.items()),
        key=lambda row: (-row[2], row[0]),
    )


@dataclass(frozen=True)
class DormantMember:
    user_id: int
    display_name: str
    username: str
    organisation: str | None
    last_activity: dt.date | None


def dormant_members(
    community: Community | None,
    days: int = DORMANT_DAYS_DEFAULT,
    now: dt.datetime | None = None,
    limit: int | None = None,
) -> tuple[int, list[DormantMember]]:
    """People with no activity (visit, reading, contribution) in the last ``days`` Paris days:
    their total number and the first ``limit`` of them, longest asleep first (never seen first)."""
    threshold = today(now) - dt.timedelta(days=days - 1)
    last = select(
        ActivityEvent.user_id.label("user_id"), func.max(ActivityEvent.day).label("last_day")
    ).where(ActivityEvent.user_id.is_not(None), ActivityEvent.kind.not_in(PASSIVE_KINDS))
    if community is not None:
        last = last.where(ActivityEvent.community_id == community.id)
    last = last.group_by(ActivityEvent.user_id).subquery()
    people = _people(community).subquery()
    condition = (last.c.last_day.is_(None)) | (last.c.last_day < threshold)
    base = (
        select(people.c.user_id)
        .select_from(people)
        .outerjoin(last, last.c.user_id == people.c.user_id)
        .where(condition)
    )
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    statement = (
        select(User.id, User.display_name, User.username, Organisation.name, last.c.last_day)
        .select_from(people)
        .join(User, User.id == people.c.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .outerjoin(last, last.c.user_id == people.c.user_id)
        .where(condition)
        .order_by(last.c.last_day.is_not(None), last.c.last_day, User.display_name, User.id)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return total, [DormantMember(*row) for row in db.session.execute(statement).all()]
