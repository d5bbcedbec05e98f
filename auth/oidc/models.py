from __future__ import annotations

import datetime as dt

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maillage.platform.db import UTCDateTime
from maillage.platform.extensions import db


class UsedLogoutToken(db.Model):
    """A back-channel logout token already received, known by a hash of its ``jti`` and kept
    until the token expires: the same token sent again is refused (OIDC Back-Channel Logout
    1.0, 2.6).  No personal data: neither the person nor the session is recorded."""

    __tablename__ = "oidc_logout_tokens"
    __table_args__ = (UniqueConstraint("provider", "jti_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the token's ``jti`` (hex): a fixed length whatever the provider sends
    jti_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"<UsedLogoutToken {self.provider} {self.jti_hash[:12]}… until {self.expires_at}>"
