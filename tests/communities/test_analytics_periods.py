"""Period boundaries of analytics, with fixed clocks: Paris days, ISO weeks, calendar months."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.communities.analytics import queries, reports
from maillage.communities.analytics.models import ActivityEvent, paris_day
from maillage.communities.analytics.periods import (
    DAY,
    MONTH,
    WEEK,
    last_periods,
    period_of,
)
from maillage.platform.extensions import db

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def log(kind, user, community, moment, obj_type=None, obj_id=None):
    db.session.add(
        ActivityEvent(
            kind=kind,
            user_id=user.id if user else None,
            community_id=community.id if community else None,
            at=moment,
            object_type=obj_type,
            object_id=obj_id,
        )
    )


def test_late_utc_evening_on_last_day_of_month_is_next_paris_day():
    assert paris_day(at(2026, 1, 31, 23, 30)) == dt.date(2026, 2, 1)
    assert paris_day(at(2026, 1, 31, 22, 59)) == dt.date(2026, 1, 31)
    # summer time: Paris is UTC+2
    assert paris_day(at(2026, 6, 30, 21, 59)) == dt.date(2026, 6, 30)
    assert paris_day(at(2026, 6, 30, 22, 0)) == dt.date(2026, 7, 1)


def test_daylight_saving_changes():
    # 29 March 2026: clocks go forward at 01:00 UTC; the Paris day started at 23:00 UTC (28th)
    assert queries.paris_midnight(dt.date(2026, 3, 29)) == at(2026, 3, 28, 23, 0)
    assert queries.paris_midnight(dt.date(2026, 3, 30)) == at(2026, 3, 29, 22, 0)
    assert paris_day(at(2026, 3, 29, 22, 30)) == dt.date(2026, 3, 30)
    # 25 October 2026: back to winter time, the Paris day lasts 25 hours
    assert queries.paris_midnight(dt.date(2026, 10, 25)) == at(2026, 10, 24, 22, 0)
    assert queries.paris_midnight(dt.date(2026, 10, 26)) == at(2026, 10, 25, 23, 0)
    assert paris_day(at(2026, 10, 25, 22, 30)) == dt.date(2026, 10, 25)


def test_iso_weeks_across_a_year_boundary():
    week = period_of(WEEK, dt.date(2027, 1, 1))  # a Friday
    assert (week.start, week.end) == (dt.date(2026, 12, 28), dt.date(2027, 1, 4))
    assert week.label == "S53 2026"
    week = period_of(WEEK, dt.date(2026, 1, 1))  # a Thursday: ISO week 1 of 2026
    assert (week.start, week.label) == (dt.date(2025, 12, 29), "S01 2026")
    weeks = last_periods(WEEK, 3, now=at(2027, 1, 4, 0, 30))  # Monday 01:30 in Paris
    assert [w.start for w in weeks] == [
        dt.date(2026, 12, 21),
        dt.date(2026, 12, 28),
        dt.date(2027, 1, 4),
    ]
    # Sunday 23:30 UTC is already Monday in Paris: a new week
    assert last_periods(WEEK, 1, now=at(2027, 1, 3, 23, 30))[0].start == dt.date(2027, 1, 4)


def test_calendar_months():
    months = last_periods(MONTH, 13, now=at(2026, 12, 31, 23, 30))  # 1 January 2027 in Paris
    assert months[-1].start == dt.date(2027, 1, 1)
    assert months[0].start == dt.date(2026, 1, 1)
    assert period_of(MONTH, dt.date(2028, 2, 29)).end == dt.date(2028, 3, 1)
    assert period_of(DAY, dt.date(2026, 12, 31)).end == dt.date(2027, 1, 1)


def test_active_members_use_paris_days(app, create_user, create_community):
    alice, bob = create_user(), create_user()
    community = create_community(members=[alice, bob])
    log("visit", alice, community, at(2026, 1, 31, 23, 30))  # 1 February in Paris
    log("visit", bob, community, at(2026, 1, 31, 22, 30))  # 31 January in Paris
    db.session.commit()
    january = period_of(MONTH, dt.date(2026, 1, 15))
    february = period_of(MONTH, dt.date(2026, 2, 15))
    assert queries.active_members(community, january.start, january.end) == 1
    assert queries.active_members(community, february.start, february.end) == 1
    # exact instants select on ``at``
    assert queries.active_members(community, at(2026, 1, 31, 23, 0), at(2026, 2, 1, 0, 0)) == 1
    with pytest.raises(TypeError):
        queries.active_members(community, january.start, at(2026, 2, 1))


def test_period_summary(app, create_user, create_community, create_post):
    alice, bob, outsider = create_user(), create_user(), create_user()
    community = create_community(members=[alice, bob])
    post = create_post(community, alice, title="Le guide")
    ActivityEvent.query.delete()
    log("post", alice, community, at(2026, 3, 2, 9))
    log("comment", bob, community, at(2026, 3, 3, 9))
    log("comment", bob, community, at(2026, 3, 4, 9))
    for moment in (at(2026, 3, 5, 9), at(2026, 3, 6, 9), at(2026, 3, 7, 9)):
        log("view", bob, community, moment, "post", post.id)
    log("view", outsider, community, at(2026, 3, 5, 9), "post", post.id)
    log("view", bob, community, at(2026, 3, 5, 9), "post", 999_999)  # deleted since
    log("comment", bob, community, at(2026, 4, 1, 9))  # next month
    log("leave", alice, community, at(2026, 3, 8, 9))
    db.session.commit()
    summary = queries.period_summary(community, dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    assert summary["active_members"] == 2  # the outsider is not a member
    assert summary["contributions"]["post"] == 1
    assert summary["contributions"]["comment"] == 2
    assert summary["contributions"]["wiki_page"] == 0
    assert summary["most_read"] == [("Le guide", f"/post/{post.id}", 4)]
    assert summary["organisations"] == 2
    assert isinstance(summary["new_members"], int)


def test_trend_buckets_by_iso_week(app, create_user, create_community):
    alice, bob = create_user(), create_user()
    community = create_community(members=[alice, bob])
    ActivityEvent.query.delete()
    log("visit", alice, community, at(2026, 12, 27, 22, 30))  # Sunday 23:30 Paris: week 52
    log("visit", bob, community, at(2026, 12, 27, 23, 30))  # Monday 00:30 Paris: week 53
    log("post", bob, community, at(2027, 1, 1, 10))  # same ISO week 53 (year 2026)
    log("visit", alice, community, at(2027, 1, 4, 10))  # week 1 of 2027
    db.session.commit()
    points = reports.trend(community, WEEK, 3, now=at(2027, 1, 5, 12))
    assert [p.period.label for p in points] == ["S52 2026", "S53 2026", "S01 2027"]
    assert [p.active_members for p in points] == [1, 1, 1]
    assert [p.contributions for p in points] == [0, 1, 0]


def test_new_members_by_month_use_paris_midnight(app, create_user, create_community):
    from maillage.communities.community.models import Membership

    alice, bob = create_user(), create_user()
    community = create_community(members=[alice, bob])
    memberships = {m.user_id: m for m in Membership.query.filter_by(community_id=community.id)}
    memberships[alice.id].created_at = at(2026, 1, 31, 23, 30)  # February in Paris
    memberships[bob.id].created_at = at(2026, 1, 31, 22, 30)  # January in Paris
    db.session.commit()
    points = reports.trend(community, MONTH, 2, now=at(2026, 2, 10))
    assert [p.new_members for p in points] == [1, 1]
    assert queries.new_members(community, dt.date(2026, 2, 1), dt.date(2026, 3, 1)) == 1


def test_dormant_members(app, create_user, create_community):
    owner = create_user()
    sleeper, active, never = create_user(), create_user(), create_user()
    community = create_community(owner=owner, members=[sleeper, active, never])
    ActivityEvent.query.delete()
    now = at(2026, 6, 30, 12)
    log("visit", sleeper, community, at(2026, 3, 1, 12))  # 121 days before
    log("visit", active, community, at(2026, 6, 1, 12))  # 29 days before
    log("visit", owner, community, at(2026, 4, 2, 12))  # 89 days before: not dormant at 90
    db.session.commit()
    total, people = reports.dormant_members(community, 90, now=now)
    assert total == 2
    assert [p.user_id for p in people] == [never.id, sleeper.id]  # never seen first
    assert people[1].last_activity == dt.date(2026, 3, 1)
    total, _ = reports.dormant_members(community, 30, now=now)
    assert total == 3  # owner, sleeper, never
    total, people = reports.dormant_members(community, 30, now=now, limit=1)
    assert total == 3
    assert len(people) == 1


def test_organisations_and_kinds(app, create_user, create_community, create_organisation):
    town = create_organisation("Mairie de Lyon", "local_authority")
    state = create_organisation("DDT du Rhône", "state_service")
    owner = create_user(organisation=town)
    community = create_community(
        owner=owner, members=[create_user(organisation=town), create_user(organisation=state)]
    )
    rows = reports.organisations(community)
    assert rows == [("Mairie de Lyon", "local_authority", 2), ("DDT du Rhône", "state_service", 1)]
    assert reports.organisation_kinds(rows) == [("local_authority", 1, 2), ("state_service", 1, 1)]


def test_dashboard_query_count_does_not_grow(app, create_user, create_community, count_queries):
    from maillage.communities.analytics.dashboard import dashboard

    community = create_community(members=[create_user() for _ in range(3)])
    ActivityEvent.query.delete()
    with count_queries() as few:
        dashboard(community, now=at(2026, 6, 30, 12))
    people = [create_user() for _ in range(15)]
    for person in people:
        from maillage.communities.community.operations import add_membership

        add_membership(community, person, "member")
        for day in range(1, 20):
            log("visit", person, community, at(2026, 6, day, 12))
            log("comment", person, community, at(2026, 5, day, 12))
    db.session.commit()
    with count_queries() as many:
        dashboard(community, now=at(2026, 6, 30, 12))
    assert len(many) == len(few)
    assert len(many) < 40


def test_community_period_queries_use_the_index(app, create_community):
    """The per-community range on ``day`` is answered through ``ix_activity_events_community_day``
    (the planner's choice is checked on SQLite; PostgreSQL has the same index)."""
    from sqlalchemy import distinct, func, select

    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    statement = select(func.count(distinct(ActivityEvent.user_id))).where(
        ActivityEvent.community_id == 1,
        queries.period_clause(dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
    )
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = db.session.execute(db.text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    assert any("ix_activity_events_community_day" in str(row) for row in plan), plan
