"""Actors of the federation: our keys, and what we know of remote actors.

``ActorKey`` holds the RSA key pair of a local actor (a user, a community, or the instance actor
used for signed fetches); the private key never leaves the database.  ``RemoteActor`` is the
cached actor document of a person or group of another server, linked to its local "shadow" row
(a ``User`` or ``Community`` with ``local=False``) so the rest of the platform works unchanged.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db

ACTOR_TYPES = ("Person", "Group", "Service", "Application", "Organization")


class ActorKey(db.Model):
    """The key pair of one local actor: exactly one of user, community or the instance."""

    __tablename__ = "actor_keys"
    __table_args__ = (
        # One instance actor key at most.
        Index(
            "uq_actor_keys_instance",
            "is_instance",
            unique=True,
            sqlite_where=db.text("is_instance = 1"),
            postgresql_where=db.text("is_instance"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), unique=True
    )
    is_instance: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    key_id: Mapped[str] = mapped_column(String(600), unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ActorKey {self.key_id!r}>"


class RemoteActor(db.Model):
    """The last fetched actor document of a person, group or service of another server."""

    __tablename__ = "remote_actors"

    id: Mapped[int] = mapped_column(primary_key=True)
    ap_id: Mapped[str] = mapped_column(String(500), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    preferred_username: Mapped[str] = mapped_column(String(255), default="")
    domain: Mapped[str] = mapped_column(String(255), index=True)
    inbox: Mapped[str] = mapped_column(String(500), default="")
    shared_inbox: Mapped[str | None] = mapped_column(String(500))
    outbox: Mapped[str | None] = mapped_column(String(500))
    followers: Mapped[str | None] = mapped_column(String(500))
    featured: Mapped[str | None] = mapped_column(String(500))
    moderators: Mapped[str | None] = mapped_column(String(500))
    public_key_id: Mapped[str | None] = mapped_column(String(600), index=True)
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(255), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    icon_url: Mapped[str | None] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(1000))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL"), unique=True
    )
    raw: Mapped[dict] = mapped_column(JSON, default=dict)
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()
    community: Mapped[Community | None] = relationship()

    @property
    def is_group(self) -> bool:
        return self.type == "Group"

    @property
    def handle(self) -> str:
        """``name@domain``, lowercase: the username/slug of the shadow row."""
        return f"{self.preferred_username}@{self.domain}".lower()

    def __repr__(self) -> str:
        return f"<RemoteActor {self.type} {self.ap_id!r}>"


class Tombstone(db.Model):
    """A local object that was deleted: its id is never issued again.

    No content is kept, only what a ``Tombstone`` document says.  ``digest`` (SHA-256 of the
    id) is what lookups use; the id itself is kept for content, but not for people: a deleted
    account's old id names them (its username), and the digest is enough to answer for it and
    to refuse to give it to someone else.

    ``public``: whether anyone could read the object's document when it was deleted (a person,
    a public community, what anonymous visitors saw in one).  Only then does its id answer
    ``410 Gone``; the id of anything else (secret or private community, its content, hidden
    content) answers 404 like an id that never existed, so the tombstone tells no more than
    the live object did.
    """

    __tablename__ = "federation_tombstones"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    ap_id: Mapped[str | None] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Tombstone {self.type} {self.ap_id or self.digest[:12]!r}>"


class RemoteMedia(db.Model):
    """An image of remote content, fetched once through the safe fetcher and re-encoded here.

    Pages show our copy (``/media/remote/<storage_key>``), never the remote URL: the visitor's
    browser does not call the remote server, and what is shown is an image we decoded and
    encoded again (no metadata, no script, bounded size).
    """

    __tablename__ = "federation_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    url_digest: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    storage_key: Mapped[str] = mapped_column(String(32), unique=True)
    mime: Mapped[str] = mapped_column(String(20))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<RemoteMedia {self.storage_key} {self.url!r}>"
