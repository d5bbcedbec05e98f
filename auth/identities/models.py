from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class Identity(db.Model):
    """One way a user signs in: a provider and the key that provider gives the person.

    ``identifier`` is what the provider guarantees stable: an OIDC ``sub`` (with ProConnect, the
    pair ``sub`` + ``idp_id``), an LDAP entry's unique id.  ``data`` keeps the last profile the
    provider sent (claims or attributes, never a token or a password), for the account page and
    for support.
    """

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    identifier: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: when the directory sync suspended the account because this identity's directory no
    #: longer finds the person (equal to ``User.suspended_at`` while that suspension lasts): the
    #: directory finding them again lifts that suspension, and no other
    deprovisioned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Identity {self.provider}:{self.identifier!r} of user {self.user_id}>"


class LinkProof(db.Model):
    """A first sign-in waiting for the person to prove they hold the existing account that has
    the same e-mail address (their password, another identity of theirs, or a code e-mailed to
    the account's address) before the new identity is linked to it.

    Nothing is linked or created until then: this row only remembers what the provider said
    (``info``, an IdentityInfo as JSON — claims, never a token) for a short while.  The browser
    that started it holds a random key; only its hash is here, as only the hash of the e-mailed
    code is.
    """

    __tablename__ = "identity_link_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the existing account the person must prove they hold
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(64))
    identifier: Mapped[str] = mapped_column(String(500))
    info: Mapped[dict] = mapped_column(JSON, default=dict)
    next_url: Mapped[str | None] = mapped_column(String(2000))
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_code_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: passwords and codes tried, each counted before it is checked; the proof ends at the limit
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<LinkProof {self.provider}:{self.identifier!r} for user {self.user_id}>"
