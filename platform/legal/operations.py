"""Edits of the legal pages and of the accessibility statement (audited, version bumped)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from maillage.platform import markdown
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.legal import queries
from maillage.platform.legal.models import AccessibilityStatement, LegalPage

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PARIS = ZoneInfo("Europe/Paris")


def _render(source: str, language) -> str:
    try:
        return markdown.render(source) if source.strip() else ""
    except markdown.MarkdownTooLong as exc:
        raise OperationError(
            _l("Le texte %(language)s dépasse %(limit)d caractères."),
            language=language,
            limit=exc.args[0],
        ) from exc


def save_page(actor, slug: str, source_fr: str, source_en: str = "") -> LegalPage:
    """Store the Markdown of a legal page (sanitised HTML rendered now); a change of text
    raises the page's version (the charter's is what sign-up records as accepted)."""
    if slug not in queries.EDITABLE:
        raise OperationError(_l("Cette page n'est pas modifiable."))
    source_fr, source_en = (source_fr or "").strip(), (source_en or "").strip()
    if not source_fr:
        raise OperationError(_l("Le texte en français est obligatoire."))
    html_fr = _render(source_fr, _l("en français"))
    html_en = _render(source_en, _l("en anglais"))
    page = queries.stored_page(slug)
    if page is None:
        page = LegalPage(slug=slug, version=1, source_fr="", html_fr="")
        db.session.add(page)
    elif (page.source_fr, page.source_en) == (source_fr, source_en):
        return page
    else:
        page.version += 1
    page.source_fr, page.html_fr = source_fr, html_fr
    page.source_en, page.html_en = source_en, html_en
    page.updated_at = utcnow()
    db.session.flush()
    record(actor, "legal.page_edited", page, slug=slug, version=page.version)
    return page


def save_statement(actor, **fields) -> AccessibilityStatement:
    """Store the structured fields of the accessibility statement, checked against the RGAA:
    « non conforme » without an audit or under 50 %, « partiellement conforme » from 50 %,
    « totalement conforme » at 100 %."""
    fields = _checked_statement(fields)
    stored = db.session.get(AccessibilityStatement, queries.STATEMENT_ID)
    if stored is None:
        stored = AccessibilityStatement(id=queries.STATEMENT_ID)
        db.session.add(stored)
    for name, value in fields.items():
        setattr(stored, name, value)
    stored.updated_at = utcnow()
    db.session.flush()
    record(
        actor,
        "legal.statement_edited",
        stored,
        state=stored.state,
        rate=stored.compliance_rate,
        audit_date=stored.audit_date.isoformat() if stored.audit_date else None,
    )
    queries.forget_accessibility_state()
    return stored


def _checked_statement(fields: dict) -> dict:
    state = fields.get("state") or queries.DEFAULT_STATE
    if state not in queries.STATES:
        raise OperationError(_l("État de conformité inconnu."))
    rate = fields.get("compliance_rate")
    audit_date = fields.get("audit_date")
    auditor = (fields.get("auditor") or "").strip()
    today = utcnow().astimezone(PARIS).date()
    if rate is not None and not 0 <= rate <= 100:
        raise OperationError(_l("Le taux de conformité est un pourcentage entre 0 et 100."))
    if audit_date is not None and audit_date > today:
        raise OperationError(_l("La date de l'audit ne peut pas être dans le futur."))
    audited = rate is not None and audit_date is not None and bool(auditor)
    if state != "non" and not audited:
        raise OperationError(
            _l(
                "Sans audit (taux, date et auteur de l'audit), le site doit être déclaré "
                "« non conforme »."
            )
        )
    _check_state_matches_rate(state, rate, audited)
    contact_email = (fields.get("contact_email") or "").strip()
    if contact_email and not _EMAIL.match(contact_email):
        raise OperationError(_l("Adresse électronique de contact invalide."))
    contact_url = (fields.get("contact_url") or "").strip()
    if contact_url and not contact_url.startswith(("https://", "http://")):
        raise OperationError(_l("L'adresse du formulaire de contact doit commencer par https://."))
    return {
        "state": state,
        "compliance_rate": rate,
        "audit_date": audit_date,
        "auditor": auditor[:200],
        "statement_date": fields.get("statement_date") or today,
        "technologies": (fields.get("technologies") or "").strip()[:300],
        "test_environment": (fields.get("test_environment") or "").strip(),
        "contact_email": contact_email,
        "contact_url": contact_url,
    }


def _check_state_matches_rate(state: str, rate: float | None, audited: bool) -> None:
    if state == "full" and rate != 100:
        raise OperationError(_l("« Totalement conforme » demande un taux de 100 %."))
    if state == "partial" and not (rate is not None and 50 <= rate < 100):
        raise OperationError(
            _l("« Partiellement conforme » demande un taux d'au moins 50 % et inférieur à 100 %.")
        )
    if state == "non" and audited and rate is not None and rate >= 50:
        raise OperationError(
            _l(
                "Avec un taux d'au moins 50 %, l'état est « partiellement conforme » "
                "(ou « totalement conforme » à 100 %)."
            )
        )
