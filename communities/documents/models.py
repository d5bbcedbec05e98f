"""Documents shared in a community: folders, documents and their versions.

A document's file never changes: each upload (or restoration of an old version) adds a version,
and the document points to its current one.  Files live in the storage (platform/storage.py)
under a random key; the name the person gave the file is only a label (``file_name``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class DocumentFolder(db.Model):
    __tablename__ = "document_folders"
    __table_args__ = (Index("ix_document_folders_community_parent", "community_id", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    # None: at the root of the community's documents.  Only empty folders are deleted.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("document_folders.id"))
    name: Mapped[str] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    parent: Mapped[DocumentFolder | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<DocumentFolder {self.id} {self.name!r} in {self.community_id}>"


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_community_folder", "community_id", "folder_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("document_folders.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "document_versions.id",
            use_alter=True,
            name="fk_documents_current_version_id_document_versions",
            ondelete="SET NULL",
        )
    )
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    ap_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    folder: Mapped[DocumentFolder | None] = relationship()
    uploader: Mapped[User] = relationship()
    current_version: Mapped[DocumentVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.title!r} in {self.community_id}>"


class DocumentVersion(db.Model):
    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    #: the type detected from the content (filetypes.TYPES key) and its MIME type
    type_key: Mapped[str] = mapped_column(String(10))
    mime_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    comment: Mapped[str] = mapped_column(String(500), default="")
    #: the number of the version this one restored, if it is a restoration
    restored_from: Mapped[int | None] = mapped_column(Integer)
    #: previews.READY / NONE / TOO_LARGE / UNREADABLE; the thumbnail's storage key when ready
    preview_status: Mapped[str] = mapped_column(String(12), default="none")
    preview_key: Mapped[str | None] = mapped_column(String(64))
    image_width: Mapped[int | None] = mapped_column(Integer)
    image_height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship(foreign_keys=[document_id])
    uploader: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<DocumentVersion {self.number} of {self.document_id}>"
