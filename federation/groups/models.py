"""What the inboxes received, and who follows our communities from other servers.

``InboxActivity`` is the durable record of an incoming activity: the inbox view stores it (once
per activity id) and answers 202; a task claims it with a lease, runs its handler and marks it
done, rejected or failed; a periodic sweeper re-queues rows that stayed pending.
``GroupFollower`` is a remote actor following one of our local communities (FEP-1b12): its
instance receives what the community announces.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.federation.actors.models import RemoteActor
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class InboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"  # handled, or deliberately ignored (unknown type)
    REJECTED = "rejected"  # refused for good: bad origin, not allowed, banned…
    FAILED = "failed"  # kept failing after every retry


class InboxActivity(db.Model):
    __tablename__ = "inbox_activities"
    __table_args__ = (Index("ix_inbox_activities_pending", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(1000), unique=True)
    actor_ap_id: Mapped[str] = mapped_column(String(500), index=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    key_id: Mapped[str] = mapped_column(String(600))
    # The inbox it arrived at: "/inbox", "/c/<slug>/inbox"…
    inbox_path: Mapped[str] = mapped_column(String(300), default="/inbox")
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=InboxStatus.PENDING)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A worker's claim (a random token); it expires at ``available_at``.
    lease: Mapped[str | None] = mapped_column(String(32))
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<InboxActivity {self.id} {self.type} {self.status}>"


class FollowerState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"


class GroupFollower(db.Model):
    __tablename__ = "group_followers"
    __table_args__ = (UniqueConstraint("community_id", "remote_actor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    remote_actor_id: Mapped[int] = mapped_column(
        ForeignKey("remote_actors.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=FollowerState.PENDING)
    follow_activity_id: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    remote_actor: Mapped[RemoteActor] = relationship()

    def __repr__(self) -> str:
        return f"<GroupFollower {self.remote_actor_id}->{self.community_id} {self.state}>"
