"""Reads of the animation tools, each a bounded number of queries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from maillage.communities.animation.models import (
    ActivitySummary,
    Announcement,
    ScheduledPost,
    ScheduledStatus,
)
from maillage.communities.community.models import Community
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

PINNED_LIMIT = 5


def pinned_announcements(
    community: Community, now: dt.datetime | None = None, limit: int = PINNED_LIMIT
) -> list[Announcement]:
    """The announcements pinned on the community page now, the most recent first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Announcement)
            .where(
                Announcement.community_id == community.id,
                Announcement.unpinned_at.is_(None),
                (Announcement.pinned_until.is_(None)) | (Announcement.pinned_until > now),
            )
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .limit(limit)
        )
    )


def announcements(community: Community, limit: int = 50) -> list[Announcement]:
    return list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.community_id == community.id)
            .options(joinedload(Announcement.author))
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .limit(limit)
        )
    )


def announcement_in(community: Community, announcement_id: int) -> Announcement | None:
    return db.session.scalar(
        select(Announcement).where(
            Announcement.id == announcement_id, Announcement.community_id == community.id
        )
    )


def scheduled_posts(community: Community, limit: int = 100) -> list[ScheduledPost]:
    """Upcoming ones first (soonest first), then the others (most recent first)."""
    return list(
        db.session.scalars(
            select(ScheduledPost)
            .where(ScheduledPost.community_id == community.id)
            .options(joinedload(ScheduledPost.author))
            .order_by(
                ScheduledPost.status != ScheduledStatus.SCHEDULED,
                ScheduledPost.publish_at,
                ScheduledPost.id,
            )
            .limit(limit)
        )
    )


def scheduled_post_in(community: Community, scheduled_id: int) -> ScheduledPost | None:
    return db.session.scalar(
        select(ScheduledPost).where(
            ScheduledPost.id == scheduled_id, ScheduledPost.community_id == community.id
        )
    )


def summaries(community: Community, limit: int = 24) -> list[ActivitySummary]:
    return list(
        db.session.scalars(
            select(ActivitySummary)
            .where(ActivitySummary.community_id == community.id)
            .options(joinedload(ActivitySummary.sent_by))
            .order_by(ActivitySummary.period_start.desc())
            .limit(limit)
        )
    )


def summary_in(community: Community, summary_id: int) -> ActivitySummary | None:
    return db.session.scalar(
        select(ActivitySummary).where(
            ActivitySummary.id == summary_id, ActivitySummary.community_id == community.id
        )
    )
