"""Our users' follows of remote communities (Groups of other servers)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
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
