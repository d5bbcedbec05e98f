"""The wiki of a community: a tree of pages, each with its full history of revisions.

``WikiPage`` holds the current state (title, Markdown source and its sanitised HTML) and the
number of its latest revision, ``current_revision``: every save changes it with a conditional
UPDATE (compare-and-swap), so two people who started from the same version cannot both win.
``WikiRevision`` keeps each saved version (number, author, title, source, comment).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db

TITLE_MAX = 200
SLUG_MAX = 80
COMMENT_MAX = 300


class WikiPage(db.Model):
    __tablename__ = "wiki_pages"
    __table_args__ = (
        # The address of a page inside its community: stable, never reused at the same time.
        UniqueConstraint("community_id", "slug"),
        # Children of a page (or top-level pages) in their order.
        Index("ix_wiki_pages_tree", "community_id", "parent_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    # No cascade: the database refuses to delete a page that still has children.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("wiki_pages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    slug: Mapped[str] = mapped_column(String(SLUG_MAX))
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    is_faq: Mapped[bool] = mapped_column(Boolean, default=False)
    #: number of the latest revision; changed only by a compare-and-swap UPDATE
    current_revision: Mapped[int] = mapped_column(Integer, default=0)
    #: someone other than the creator saved a revision (the creator may then no longer
    #: move or delete the page alone)
    edited_by_others: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ap_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    def __repr__(self) -> str:
        return f"<WikiPage {self.id} {self.slug!r} in {self.community_id} v{self.current_revision}>"


class WikiRevision(db.Model):
    __tablename__ = "wiki_revisions"
    # A second guard behind the compare-and-swap: one revision per number and page.
    __table_args__ = (UniqueConstraint("page_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("wiki_pages.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body_source: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(String(COMMENT_MAX), default="")
    #: the revision whose content this one restored, if any
    restored_from: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    page: Mapped[WikiPage] = relationship()
    author: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<WikiRevision {self.page_id}#{self.number}>"
