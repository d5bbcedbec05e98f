from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.organisations.models import Organisation
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class User(db.Model):
    """A person, local or known to us through federation (``local`` is False)."""

    __tablename__ = "users"
    # ActivityPub ids are never reused: no rowid handed out again on SQLite (see
    # maillage.federation.actors.tombstones).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    job_title: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str | None] = mapped_column(String(5))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_trainer: Mapped[bool] = mapped_column(Boolean, default=False)
    # Helps colleagues adopt the platform; listed per organisation on the help page.
    is_ambassador: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to sign the user out of every session (it is part of the login id).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Suspension by an administrator (platform/people): is_active is False meanwhile.
    suspended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    suspended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    ap_id: Mapped[str] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set when the person proved they receive mail at ``email`` (invitation link, verified
    # provider claim); an unverified address never links an account to an identity.
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the person accepted the platform charter (at sign-up).
    charter_accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # TOTP second factor of a local account: base32 secret, active once confirmed.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time step accepted: a code is never accepted twice within its window.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Account deletion (maillage.platform.account_deletion): requested, runs at ``due``, keeps
    # or deletes contributions; ``deleted_at`` marks the anonymised row kept for foreign keys.
    deletion_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deletion_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    deletion_erasure: Mapped[str | None] = mapped_column(String(20))
    deletion_requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    inactivity_warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"
