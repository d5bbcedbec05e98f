"""The editable legal pages and the accessibility statement's structured fields.

Who edited what and when is in the audit log (``legal.page_edited``, ``legal.statement_edited``);
these tables keep only the current text, so they hold no personal data.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class LegalPage(db.Model):
    """An admin-edited legal page (no row: the default text generated from the configuration).

    ``source_*`` is the Markdown as typed, ``html_*`` its rendering sanitised on save; English
    is optional (readers fall back to French).  ``version`` counts the edits: for the charter it
    is what sign-up stores as the accepted version.
    """

    __tablename__ = "legal_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    source_fr: Mapped[str] = mapped_column(Text)
    html_fr: Mapped[str] = mapped_column(Text)
    source_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<LegalPage {self.slug} v{self.version}>"


class AccessibilityStatement(db.Model):
    """The structured part of the RGAA accessibility statement (one row, id 1, once edited).

    ``state`` is ``non`` (non conforme: the RGAA requires it while no audit is recorded),
    ``partial`` (partiellement conforme, a rate from 50 %) or ``full`` (totalement conforme,
    100 %).
    """

    __tablename__ = "accessibility_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="non", server_default="non")
    compliance_rate: Mapped[float | None] = mapped_column(Float)
    audit_date: Mapped[dt.date | None] = mapped_column(Date)
    auditor: Mapped[str] = mapped_column(String(200), default="", server_default="")
    statement_date: Mapped[dt.date | None] = mapped_column(Date)
    technologies: Mapped[str] = mapped_column(String(300), default="", server_default="")
    test_environment: Mapped[str] = mapped_column(Text, default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    contact_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<AccessibilityStatement {self.state} {self.compliance_rate}>"
