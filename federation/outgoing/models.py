"""Our users' follows of remote communities (Groups of other servers)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class FollowState(enum.StrEnum):
    PENDING = "pending"  # Follow sent, no answer yet
    ACCEPTED = "accepted"  # the group sent Accept: the user is a member of the shadow community
    REJECTED = "rejected"  # the group sent Reject


class RemoteFollow(db.Model):
    """A local person following a remote Group (its local shadow is ``community``)."""

    __tablename__ = "remote_follows"
    __table_args__ = (UniqueConstraint("user_id", "community_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=FollowState.PENDING)
    follow_activity_id: Mapped[str] = mapped_column(String(500), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    community: Mapped[Community] = relationship()

    def __repr__(self) -> str:
        return f"<RemoteFollow {self.user_id}->{self.community_id} {self.state}>"


class RemovalCheckState(enum.StrEnum):
    PENDING = "pending"  # not checked yet (due at ``due_at``)
    APPLIED = "applied"  # the origin no longer serves the object
    NOT_APPLIED = "not_applied"  # the origin still serves it: the removal was refused there
    UNKNOWN = "unknown"  # the origin could not be asked (it stayed unreachable)


class RemovalCheck(db.Model):
    """A removal of a remote object, to read back from its origin once delivered.

    A peer answers ``202 Accepted`` and may refuse the activity later: fetching the object again
    from its own server says whether the removal was applied there (see
    ``federation.outgoing.removal_checks``).
    """

    __tablename__ = "federation_removal_checks"
    __table_args__ = (Index("ix_federation_removal_checks_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    object_ap_id: Mapped[str] = mapped_column(String(500))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    activity_id: Mapped[str | None] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(12), default=RemovalCheckState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<RemovalCheck {self.object_ap_id!r} {self.state}>"
