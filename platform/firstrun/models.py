"""What the first run leaves behind: whether setup is done, and the one-time setup links.

Neither table names a person (no foreign key to ``users``): the audit log says who set the
instance up, and a setup link belongs to whoever reads the server console.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db

#: The id of the single ``instance_state`` row.
INSTANCE_STATE_ID = 1


class InstanceState(db.Model):
    """Facts about the installation itself, in a single row (id 1); no row yet means a fresh
    installation whose setup is not done."""

    __tablename__ = "instance_state"
    __table_args__ = (CheckConstraint(f"id = {INSTANCE_STATE_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    setup_completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: How setup was completed: ``web`` (setup link), ``cli``, ``demo`` or ``existing`` (an
    #: installation that had accounts before first-run setup existed).
    setup_completed_via: Mapped[str | None] = mapped_column(String(20))

    def __repr__(self) -> str:
        return f"<InstanceState setup_completed_at={self.setup_completed_at}>"


class SetupToken(db.Model):
    """A one-time setup link: only the SHA-256 of its secret is stored.

    A link is valid until it expires, is used, or a newer link replaces it (``revoked_at``).
    """

    __tablename__ = "setup_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<SetupToken {self.id} expires {self.expires_at:%Y-%m-%d %H:%M}>"
