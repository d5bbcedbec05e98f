"""Announcements, scheduled posts and activity summaries in the personal data registry.

Scheduled posts not yet published are drafts: always deleted (published ones became posts,
handled with the posts).  Announcements stay when the person keeps their contributions and are
deleted otherwise.  Activity summaries are the community's monthly letters, written and sent by
its facilitators together: they stay, ``created_by_id``/``sent_by_id`` pointing at the
anonymised account; the archive lists those the person wrote or sent.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from maillage.communities.animation.models import (
    ActivitySummary,
    Announcement,
    ScheduledPost,
    ScheduledStatus,
)
from maillage.communities.community.models import Community
from maillage.platform.personal_data.registry import Erasure, holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def export_announcements(user) -> list[dict]:
    return export_rows(
        select(
            Announcement.id,
            Community.slug.label("community"),
            Announcement.title,
            Announcement.body_source.label("body_markdown"),
            Announcement.created_at,
            Announcement.pinned_until,
            Announcement.unpinned_at,
        )
        .join(Community, Community.id == Announcement.community_id)
        .where(Announcement.author_id == user.id),
        Announcement.id,
    )


def erase_announcements(user, erasure: Erasure) -> None:
    if erasure == Erasure.DELETE_CONTENT:
        delete_rows(Announcement, Announcement.author_id == user.id)


def export_scheduled(user) -> list[dict]:
    return export_rows(
        select(
            ScheduledPost.id,
            Community.slug.label("community"),
            ScheduledPost.title,
            ScheduledPost.body.label("body_markdown"),
            ScheduledPost.publish_at,
            ScheduledPost.status,
            ScheduledPost.post_id,
            ScheduledPost.created_at,
            ScheduledPost.published_at,
        )
        .join(Community, Community.id == ScheduledPost.community_id)
        .where(ScheduledPost.author_id == user.id),
        ScheduledPost.id,
    )


def erase_scheduled(user, erasure: Erasure) -> None:
    mine = ScheduledPost.author_id == user.id
    if erasure == Erasure.DELETE_CONTENT:
        delete_rows(ScheduledPost, mine)
    else:
        delete_rows(ScheduledPost, mine, ScheduledPost.status != ScheduledStatus.PUBLISHED)


def export_summaries(user) -> list[dict]:
    return export_rows(
        select(
            ActivitySummary.id,
            Community.slug.label("community"),
            ActivitySummary.period_start,
            ActivitySummary.subject,
            ActivitySummary.created_at,
            ActivitySummary.sent_at,
        )
        .join(Community, Community.id == ActivitySummary.community_id)
        .where(
            or_(ActivitySummary.created_by_id == user.id, ActivitySummary.sent_by_id == user.id)
        ),
        ActivitySummary.id,
    )


holds_personal_data(
    Announcement,
    section="community_announcements",
    export=export_announcements,
    erase=erase_announcements,
)
holds_personal_data(
    ScheduledPost, section="scheduled_posts", export=export_scheduled, erase=erase_scheduled
)
holds_personal_data(
    ActivitySummary,
    section="activity_summaries",
    export=export_summaries,
    erase=lambda _user, _erasure: None,
)
