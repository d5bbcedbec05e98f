"""A person's request for an archive of their personal data, built in the background."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class ExportStatus(enum.StrEnum):
    PENDING = "pending"  # asked; the outbox item is waiting
    BUILDING = "building"  # a worker is writing the archive
    READY = "ready"  # downloadable until ``expires_at``
    FAILED = "failed"  # could not be built (the person may ask again)
    EXPIRED = "expired"  # past ``expires_at``: the archive file is gone


#: While an export is in one of these states, no other can be asked (nor the account deleted).
IN_PROGRESS = (ExportStatus.PENDING.value, ExportStatus.BUILDING.value)


class ExportRequest(db.Model):
    """One archive asked by one person.

    The download link carries a random token of which only the SHA-256 is stored; the link also
    requires the person to be signed in, so a forwarded e-mail gives nothing to anyone else.
    """

    __tablename__ = "personal_data_exports"
    __table_args__ = (
        # "Is an export running for this person?" and the person's list, newest first.
        Index("ix_personal_data_exports_user_status", "user_id", "status"),
        # The periodic cleanup: ready archives past their expiry.
        Index("ix_personal_data_exports_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default=ExportStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: While ``ready``, when the archive goes; while ``building``, when the worker's build lease
    #: ends (another worker may then take the export over).
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The ZIP file in the storage (platform/storage.py) while ``ready``.
    archive_key: Mapped[str | None] = mapped_column(String(64))
    archive_size: Mapped[int | None] = mapped_column(BigInteger)
    #: SHA-256 of the download link's token (set when the archive is ready).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    error: Mapped[str] = mapped_column(Text, default="", server_default="")

    user: Mapped[User] = relationship()

    def is_downloadable(self, now: dt.datetime | None = None) -> bool:
        return (
            self.status == ExportStatus.READY
            and self.archive_key is not None
            and self.expires_at is not None
            and self.expires_at > (now or utcnow())
        )

    def __repr__(self) -> str:
        return f"<ExportRequest {self.id} of {self.user_id} {self.status}>"
