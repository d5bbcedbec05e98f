from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from maillage.platform.db import UTCDateTime
from maillage.platform.extensions import db


class ProviderStatus(db.Model):
    """What the last contact with a configured provider gave, shared by every process, so the
    admin page can show the last error a worker or another web node met."""

    __tablename__ = "auth_provider_status"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<ProviderStatus {self.name} error={self.last_error!r}>"
