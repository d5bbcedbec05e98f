"""Notifications shown in the header bell and sent by e-mail, and each person's preferences."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db

UNREAD = db.text("read_at IS NULL")
EMAIL_PENDING = db.text("emailed_at IS NULL AND read_at IS NULL")


class Mode(enum.StrEnum):
    """How a person hears about a community by e-mail.

    ``off`` also stops in-app notices of new content; what concerns the person directly
    (mentions, replies, assignments…) always shows in the bell.
    """

    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


MODES = tuple(mode.value for mode in Mode)
DIGEST_MODES = (Mode.DAILY.value, Mode.WEEKLY.value)
#: The reason of notices sent to a whole community, which ``off`` silences.
NEW_CONTENT = "new_content"


class Notification(db.Model):
    """One thing one person should know about (in-app always; by e-mail per preference)."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The notifications page: a person's notices, newest first (keyset on created_at, id).
        Index("ix_notifications_recipient_created", "recipient_id", "created_at", "id"),
        # The bell: a person's unread notices.
        Index(
            "ix_notifications_unread",
            "recipient_id",
            "created_at",
            sqlite_where=UNREAD,
            postgresql_where=UNREAD,
        ),
        # The same notice (person, object, reason) is stored once while unread: a repeated
        # event refreshes it instead of piling up duplicates.
        Index(
            "uq_notifications_unread_object",
            "recipient_id",
            "object_type",
            "object_id",
            "reason",
            unique=True,
            sqlite_where=UNREAD,
            postgresql_where=UNREAD,
        ),
        # The digests: what is neither read nor e-mailed yet.
        Index(
            "ix_notifications_email_pending",
            "recipient_id",
            "community_id",
            sqlite_where=EMAIL_PENDING,
            postgresql_where=EMAIL_PENDING,
        ),
        # Forgetting the notices about a deleted object.
        Index("ix_notifications_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    #: A local absolute path (never a full URL: no open redirect from a notification).
    url: Mapped[str] = mapped_column(String(500))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Set when an e-mail (immediate or digest) carrying the notice was queued.
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    community: Mapped[Community | None] = relationship()

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    def __repr__(self) -> str:
        return (
            f"<Notification {self.id} {self.reason} {self.object_type}:{self.object_id} "
            f"for {self.recipient_id}>"
        )


class NotificationPreference(db.Model):
    """A person's e-mail mode for one community, or their default (``community_id`` NULL)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("user_id", "community_id"),
        # NULLs are distinct in a unique constraint: one default row per person, enforced here.
        Index(
            "uq_notification_preferences_default",
            "user_id",
            unique=True,
            sqlite_where=db.text("community_id IS NULL"),
            postgresql_where=db.text("community_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE")
    )
    mode: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        scope = self.community_id if self.community_id is not None else "default"
        return f"<NotificationPreference {self.user_id}@{scope} {self.mode}>"
