"""Moderation: reports on content and sanctions (mute, ban) on people, per community.

A report names its object by kind and id (``post``, ``comment``, ``topic``, ``reply``; see
``targets.py``) rather than by one foreign key per kind, so a new kind of content needs no
migration.  A sanction applies while it is neither lifted nor past ``ends_at`` (None: permanent);
nothing has to run when it expires.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"  # nothing wrong
    ACTIONED = "actioned"  # the content was hidden or deleted, or the thread locked


class ReportCategory(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"  # harassment, insults
    HATE = "hate"
    CONFIDENTIAL = "confidential"  # personal data, confidential information
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class SanctionKind(enum.StrEnum):
    MUTE = "mute"  # reads, but cannot post, comment or react
    BAN = "ban"  # loses the membership and cannot come back


class Report(db.Model):
    __tablename__ = "moderation_reports"
    __table_args__ = (
        # One open report per person and object, enforced by the database.
        Index(
            "uq_moderation_reports_open",
            "reporter_id",
            "object_type",
            "object_id",
            unique=True,
            sqlite_where=db.text("status = 'open'"),
            postgresql_where=db.text("status = 'open'"),
        ),
        # The queue: a community's open reports.
        Index("ix_moderation_reports_queue", "community_id", "status", "created_at"),
        Index("ix_moderation_reports_object", "object_type", "object_id"),
        # Flood control counts a person's recent reports.
        Index("ix_moderation_reports_reporter_created", "reporter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int]
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=ReportStatus.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What was done: dismiss, hide, delete, lock.
    resolution: Mapped[str] = mapped_column(String(16), default="", server_default="")

    community: Mapped[Community] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.object_type}:{self.object_id} {self.status}>"


class Sanction(db.Model):
    __tablename__ = "moderation_sanctions"
    __table_args__ = (
        Index("ix_moderation_sanctions_user_community", "user_id", "community_id"),
        Index("ix_moderation_sanctions_community_created", "community_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # None: permanent
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    community: Mapped[Community] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def active_at(self, moment: dt.datetime) -> bool:
        return self.lifted_at is None and (self.ends_at is None or self.ends_at > moment)

    def __repr__(self) -> str:
        return f"<Sanction {self.kind} {self.user_id}@{self.community_id} until {self.ends_at}>"
