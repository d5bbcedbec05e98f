from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class DirectoryGrant(db.Model):
    """A community membership a directory group gives a person.

    One row per (person, community, provider, group): several groups may grant the same
    membership, and the membership goes only when the last of them goes, and only when the
    directory created it (``Membership.via_directory``): a person who joined by hand stays.
    """

    __tablename__ = "directory_grants"
    __table_args__ = (UniqueConstraint("user_id", "community_id", "provider", "group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(64))
    group: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<DirectoryGrant {self.user_id}@{self.community_id} via {self.group!r}>"
