"""Discussions: topics (a question or a subject) and their replies, and what each member has read.

The classes are prefixed (``DiscussionTopic``, ``DiscussionReply``) because ``Topic`` already names
the themes of communities (``communities.community.models.Topic``) in the same declarative registry.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class DiscussionTopic(db.Model):
    __tablename__ = "discussion_topics"
    __table_args__ = (
        # The community's list: pinned first, then by last activity.
        Index("ix_discussion_topics_listing", "community_id", "pinned", "last_activity_at", "id"),
        # ActivityPub ids are never reused: no rowid handed out again on SQLite (see
        # maillage.federation.actors.tombstones).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Replies that are not deleted; kept by the operations so lists never count rows.
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # No ORM relationship: topic -> answer -> topic would be a cycle for the unit of work.
    answered_reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_replies.id", ondelete="SET NULL", use_alter=True)
    )
    ap_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The topic's creation or its latest reply (edits do not count).
    last_activity_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When ``locked`` was last set (moderation shows it); ``locked`` stays the flag rules read.
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Moderation: hidden items stay for their author (who sees the reason) and moderators.
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    community: Mapped[Community] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def answered(self) -> bool:
        return self.answered_reply_id is not None

    def __repr__(self) -> str:
        return f"<DiscussionTopic {self.id} in {self.community_id}>"


class DiscussionReply(db.Model):
    __tablename__ = "discussion_replies"
    __table_args__ = (
        Index("ix_discussion_replies_topic_created", "topic_id", "created_at", "id"),
        # ActivityPub ids are never reused: no rowid handed out again on SQLite (see
        # maillage.federation.actors.tombstones).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("discussion_topics.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    quoted_reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_replies.id", ondelete="SET NULL"), index=True
    )
    ap_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A reply others quoted stays as a "message supprimé" placeholder, its text erased.
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Moderation: hidden items stay for their author (who sees the reason) and moderators.
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    topic: Mapped[DiscussionTopic] = relationship(foreign_keys=[topic_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None

    quoted: Mapped[DiscussionReply | None] = relationship(remote_side=[id])

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<DiscussionReply {self.id} on {self.topic_id}>"


class TopicRead(db.Model):
    """Up to when a member has read a topic (the replies created after are new to them)."""

    __tablename__ = "discussion_topic_reads"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<TopicRead {self.user_id} read {self.topic_id} until {self.last_read_at}>"


class DiscussionReadMark(db.Model):
    """ "Tout marquer comme lu" in a community: everything active before ``all_read_at`` is read.

    One row per member and community instead of one per topic; the member's ``TopicRead`` rows of
    that community are removed at the same time, so any that exists is more recent than the mark.
    """

    __tablename__ = "discussion_read_marks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    all_read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DiscussionReadMark {self.user_id} in {self.community_id} at {self.all_read_at}>"
