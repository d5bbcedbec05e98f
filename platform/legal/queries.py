"""Reads of the legal pages: the text to show (stored, else default), the accessibility
statement, the charter's version, the footer's conformity state (cached) and the site map."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from maillage.communities.community.models import Community, Visibility
from maillage.communities.permissions import visible_community_ids_clause
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from maillage.platform.legal.defaults import default_html
from maillage.platform.legal.models import AccessibilityStatement, LegalPage

#: The pages, in the footer's order, with their titles.
PAGES = {
    "mentions-legales": _l("Mentions légales"),
    "donnees-personnelles": _l("Données personnelles"),
    "accessibilite": _l("Accessibilité"),
    "plan-du-site": _l("Plan du site"),
    "charte": _l("Charte d'utilisation"),
}
#: Pages admins edit in Markdown (the site map is generated; for the accessibility statement,
#: the Markdown is its « Contenus non accessibles » part, the rest is structured).
EDITABLE = ("mentions-legales", "donnees-personnelles", "accessibilite", "charte")

STATES = {
    "non": _l("non conforme"),
    "partial": _l("partiellement conforme"),
    "full": _l("totalement conforme"),
}
DEFAULT_STATE = "non"
STATEMENT_ID = 1
#: Seconds a process trusts its cached conformity state (``LEGAL_STATE_CACHE_SECONDS``): an edit
#: clears the editing process's cache at once; the other web processes see it within this delay.
STATE_CACHE_SECONDS = 300
SITEMAP_COMMUNITIES = 200
EDIT_ACTIONS = ("legal.page_edited", "legal.statement_edited")


@dataclass(frozen=True)
class PageText:
    """The HTML to show and its language (``fr`` when English falls back to French)."""

    html: str
    lang: str
    edited: bool


def stored_page(slug: str) -> LegalPage | None:
    return db.session.scalar(select(LegalPage).where(LegalPage.slug == slug))


def page_text(slug: str, locale: str) -> PageText:
    page = stored_page(slug)
    if page is None:
        return PageText(default_html(slug), "fr", edited=False)
    if locale == "en" and page.html_en.strip():
        return PageText(page.html_en, "en", edited=True)
    return PageText(page.html_fr, "fr", edited=True)


def statement() -> AccessibilityStatement:
    """The stored statement, or an unsaved one with the defaults (non conforme, no audit)."""
    stored = db.session.get(AccessibilityStatement, STATEMENT_ID)
    if stored is not None:
        return stored
    return AccessibilityStatement(
        id=STATEMENT_ID,
        state=DEFAULT_STATE,
        compliance_rate=None,
        audit_date=None,
        auditor="",
        statement_date=None,
        technologies=DEFAULT_TECHNOLOGIES,
        test_environment="",
        contact_email="",
        contact_url="",
    )


DEFAULT_TECHNOLOGIES = "HTML5, CSS, JavaScript (HTMX), SVG"


def current_charter_version() -> int:
    """The charter's version: 1 for the default text, then one more per edit.

    Sign-up stores it with the acceptance date, so a later edit can ask people to accept again.
    """
    version = db.session.scalar(select(LegalPage.version).where(LegalPage.slug == "charte"))
    return version or 1


# -- the footer's conformity state, cached per process -------------------------------------------


def _cache() -> dict:
    return current_app.extensions.setdefault("maillage_legal", {})


def accessibility_state() -> str:
    """``non``, ``partial`` or ``full``, read when the app starts and then at most once per
    ``LEGAL_STATE_CACHE_SECONDS``.

    Every page's footer shows it, so it never costs a query per page.  It is read on a
    connection of its own: an error page rendered after a failed transaction still gets it, and
    a missing table (before migrations) reads as the default, « non conforme ».
    """
    cached = _cache().get("state")
    now = time.monotonic()
    ttl = current_app.config.get("LEGAL_STATE_CACHE_SECONDS", STATE_CACHE_SECONDS)
    if cached is not None and now - cached[1] < ttl:
        return cached[0]
    try:
        state = _read_state()
    except SQLAlchemyError:
        current_app.logger.warning("accessibility state unavailable", exc_info=True)
        return DEFAULT_STATE
    _cache()["state"] = (state, now)
    return state


def _read_state() -> str:
    with db.engine.connect() as connection:
        state = connection.scalar(
            select(AccessibilityStatement.state).where(AccessibilityStatement.id == STATEMENT_ID)
        )
    return state if state in STATES else DEFAULT_STATE


def preload_accessibility_state(app) -> None:
    """Read the state when the app starts, so that no request pays for it (quietly: before the
    first migration there is no table yet, and the first page reads it then)."""
    with app.app_context():
        try:
            state = _read_state()
        except SQLAlchemyError:
            app.logger.debug("accessibility state not readable at start-up", exc_info=True)
            return
        _cache()["state"] = (state, time.monotonic())


def forget_accessibility_state() -> None:
    _cache().pop("state", None)


def accessibility_state_label():
    return STATES[accessibility_state()]


# -- admin and site map ------------------------------------------------------------------------


def stored_pages() -> dict[str, LegalPage]:
    return {page.slug: page for page in db.session.scalars(select(LegalPage))}


def edit_history(limit: int = 30) -> list[tuple[AuditEntry, User | None]]:
    """The latest edits of the legal pages and statement (who, when, what), newest first."""
    return [
        (entry, actor)
        for entry, actor in db.session.execute(
            select(AuditEntry, User)
            .outerjoin(User, User.id == AuditEntry.actor_id)
            .where(AuditEntry.action.in_(EDIT_ACTIONS))
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    ]


def sitemap_communities(viewer, limit: int = SITEMAP_COMMUNITIES) -> tuple[list[Community], bool]:
    """Communities the viewer may see, secret ones never (even their members'), by name; and
    whether there are more than ``limit``."""
    rows = list(
        db.session.scalars(
            select(Community)
            .where(visible_community_ids_clause(viewer))
            .where(Community.visibility != Visibility.SECRET)
            .order_by(Community.name, Community.id)
            .limit(limit + 1)
        )
    )
    return rows[:limit], len(rows) > limit
