"""Server-side session records: one row per signed-in browser, deleted when it signs out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db

USER_AGENT_MAX = 255


class SessionRecord(db.Model):
    """A signed-in browser.  The session cookie (and the remember-me cookie) carries a random
    token whose SHA-256 is ``token_hash``: deleting the row ends the session however the cookie
    was copied, and a stolen database does not hand out usable cookies.

    ``ip_prefix`` keeps the network, not the address (IPv4 /24, IPv6 /48): enough for a person
    to recognise « au bureau » or « à la maison », little to track them with.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (
        Index("ix_user_sessions_provider_subject", "provider", "provider_subject"),
        Index("ix_user_sessions_provider_sid", "provider", "provider_sid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_agent: Mapped[str] = mapped_column(String(USER_AGENT_MAX), default="")
    ip_prefix: Mapped[str] = mapped_column(String(50), default="")
    #: how the person signed in: ``local`` (password), or an identity provider's name
    provider: Mapped[str | None] = mapped_column(String(64))
    #: the person's identifier at that provider and the OIDC ``sid`` of this sign-in, for
    #: back-channel logout
    provider_subject: Mapped[str | None] = mapped_column(String(500))
    provider_sid: Mapped[str | None] = mapped_column(String(255))
    remember: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<SessionRecord {self.id} of user {self.user_id} via {self.provider}>"
