"""Animation: pinned announcements, scheduled posts and monthly activity summaries."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class Announcement(db.Model):
    """A message pinned at the top of a community page, until ``pinned_until`` if set."""

    __tablename__ = "community_announcements"
    __table_args__ = (Index("ix_community_announcements_created", "community_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    pinned_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the e-mail to all members was queued (once per announcement).
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unpinned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    author: Mapped[User | None] = relationship()

    def is_pinned(self, now: dt.datetime | None = None) -> bool:
        now = now or utcnow()
        return self.unpinned_at is None and (self.pinned_until is None or self.pinned_until > now)

    def __repr__(self) -> str:
        return f"<Announcement {self.id} {self.title!r}@{self.community_id}>"


class ScheduledStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    FAILED = "failed"  # the author could no longer publish when it fell due


class ScheduledPost(db.Model):
    """A post written now and published at ``publish_at`` by the periodic task."""

    __tablename__ = "scheduled_posts"
    __table_args__ = (Index("ix_scheduled_posts_due", "status", "publish_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    publish_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=ScheduledStatus.SCHEDULED)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")

    community: Mapped[Community] = relationship()
    author: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ScheduledPost {self.id} {self.status} at {self.publish_at}>"


class ActivitySummary(db.Model):
    """The monthly activity summary of a community: a draft the facilitators edit, then send."""

    __tablename__ = "activity_summaries"
    __table_args__ = (UniqueConstraint("community_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)  # exclusive: the first day of next month
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    send_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    community: Mapped[Community] = relationship()
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])

    def __repr__(self) -> str:
        return f"<ActivitySummary {self.community_id} {self.period_start}>"
