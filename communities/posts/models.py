from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db

ALLOWED_REACTIONS = ("👍", "❤️", "🎉", "💡", "🤔", "👀")


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        # Keyset pagination of a community's posts and of the home feed.
        Index("ix_posts_community_created", "community_id", "created_at", "id"),
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
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    ap_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Moderation: hidden items stay for their author (who sees the reason) and moderators.
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A locked post takes no new comments (moderators excepted).
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    def __repr__(self) -> str:
        return f"<Post {self.id} in {self.community_id}>"


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_post_created", "post_id", "created_at"),
        # ActivityPub ids are never reused: no rowid handed out again on SQLite (see
        # maillage.federation.actors.tombstones).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    ap_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moderation: hidden items stay for their author (who sees the reason) and moderators.
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    post: Mapped[Post] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None

    def __repr__(self) -> str:
        return f"<Comment {self.id} on {self.post_id}>"


class Reaction(db.Model):
    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("post_id", "user_id", "emoji"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Reaction {self.emoji} by {self.user_id} on {self.post_id}>"
