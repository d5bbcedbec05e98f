from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.organisations.models import Organisation
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # anyone, even anonymous, reads
    PRIVATE = "private"  # listed; content for members only
    SECRET = "secret"  # noqa: S105 - invisible (404) to non-members everywhere


class JoinPolicy(enum.StrEnum):
    OPEN = "open"
    REQUEST = "request"  # a facilitator approves
    INVITE = "invite"  # only facilitators invite


class Role(enum.StrEnum):
    OWNER = "owner"
    FACILITATOR = "facilitator"
    MODERATOR = "moderator"
    MEMBER = "member"
    GUEST = "guest"


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


community_topics = Table(
    "community_topics",
    db.metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
)


class Topic(db.Model):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))

    def __repr__(self) -> str:
        return f"<Topic {self.slug!r}>"


class Community(db.Model):
    __tablename__ = "communities"
    # ActivityPub ids are never reused: no rowid handed out again on SQLite (see
    # maillage.federation.actors.tombstones).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(10), default=Visibility.PUBLIC, index=True)
    join_policy: Mapped[str] = mapped_column(String(10), default=JoinPolicy.OPEN)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # Kept by operations so listings never count rows per community.
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    ap_id: Mapped[str] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Module keys (communities.modules) the facilitators switched off; new modules start on.
    disabled_modules: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # Markdown sources: sent to each new member / accepted by each person who joins (if set).
    welcome_message: Mapped[str] = mapped_column(Text, default="", server_default="")
    charter: Mapped[str] = mapped_column(Text, default="", server_default="")

    organisation: Mapped[Organisation | None] = relationship()
    topics: Mapped[list[Topic]] = relationship(secondary=community_topics, order_by=Topic.name)

    def __repr__(self) -> str:
        return f"<Community {self.id} {self.slug!r} {self.visibility}/{self.join_policy}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(12), default=Role.MEMBER)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Created by a directory group (auth.directory); removed when no group grants it any more.
    via_directory: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # When the person ticked "J'accepte la charte" (None: no charter when they joined).
    charter_accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Membership {self.user_id}@{self.community_id} {self.role}>"


class JoinRequest(db.Model):
    __tablename__ = "join_requests"
    __table_args__ = (
        # One pending request per person and community, enforced by the database.
        Index(
            "uq_join_requests_pending",
            "community_id",
            "user_id",
            unique=True,
            sqlite_where=db.text("status = 'pending'"),
            postgresql_where=db.text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=RequestStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The charter was accepted with the request; the membership keeps this time on approval.
    charter_accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<JoinRequest {self.user_id}->{self.community_id} {self.status}>"


class Invitation(db.Model):
    """An e-mail invitation; only the SHA-256 of its single-use token is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(12), default=Role.MEMBER)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])

    def state(self, now: dt.datetime | None = None) -> str:
        """``pending``, ``accepted``, ``revoked`` or ``expired``."""
        if self.used_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at < (now or utcnow()) else "pending"

    def __repr__(self) -> str:
        return f"<Invitation {self.email!r}->{self.community_id}>"
