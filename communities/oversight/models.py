"""Exceptional access of a platform administrator to a secret or private community's content.

An administrator is not a member: without a grant they see that a secret community exists (name,
owners, size) but never its content.  A grant names its reason, is justified in words, lasts a
chosen time (at most 7 days) and may be ended early; the permission policy reads the active ones
once per request (``communities/permissions.py``).  Nothing runs when a grant expires: the policy
compares ``expires_at`` with the clock.
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


class GrantReason(enum.StrEnum):
    MODERATION = "moderation"
    LEGAL_REQUEST = "legal_request"  # réquisition judiciaire
    SECURITY = "security"  # incident de sécurité
    OTHER = "other"


#: The durations an administrator may choose, in hours (the longest is the 7-day maximum).
DURATIONS_HOURS = (1, 24, 72, 168)
MAX_DURATION = dt.timedelta(days=7)


class AccessGrant(db.Model):
    __tablename__ = "access_grants"
    __table_args__ = (
        # The policy's question, once per request: this administrator's grants still running.
        Index("ix_access_grants_admin_id_expires_at", "admin_id", "expires_at"),
        # The banner and the owners' view: a community's grants.
        Index("ix_access_grants_community_id_expires_at", "community_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL: when the administrator's account is erased, the history stays (anonymised).
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    justification: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    admin: Mapped[User | None] = relationship(foreign_keys=[admin_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    community: Mapped[Community] = relationship()

    def active(self, now: dt.datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())

    def __repr__(self) -> str:
        return (
            f"<AccessGrant {self.id} admin={self.admin_id} community={self.community_id}"
            f" until={self.expires_at:%Y-%m-%d %H:%M}>"
        )
