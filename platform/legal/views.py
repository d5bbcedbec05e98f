"""The legal pages (public, even before first-run setup) and their administration."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required

from maillage.platform.extensions import db
from maillage.platform.legal import operations, queries
from maillage.platform.legal.blueprint import blueprint
from maillage.platform.legal.defaults import default_source, legal_settings, missing_settings
from maillage.platform.legal.forms import PageForm, StatementForm
from maillage.platform.legal.sitemap import site_map
from maillage.platform.views_util import current_viewer, flash_operation_errors, require_admin


@blueprint.app_template_global()
def accessibility_state_label():
    """The footer's « Accessibilité : … » state, cached per process (no query per page)."""
    return queries.accessibility_state_label()


def _language() -> str:
    return get_locale().language if get_locale() else "fr"


@blueprint.get("/mentions-legales", defaults={"slug": "mentions-legales"})
@blueprint.get("/donnees-personnelles", defaults={"slug": "donnees-personnelles"})
@blueprint.get("/accessibilite", defaults={"slug": "accessibilite"})
@blueprint.get("/plan-du-site", defaults={"slug": "plan-du-site"})
@blueprint.get("/charte", defaults={"slug": "charte"})
def page(slug: str):
    title = queries.PAGES[slug]
    if slug == "plan-du-site":
        entries = site_map(current_viewer())
        return render_template("legal/sitemap.html", title=title, entries=entries)
    text = queries.page_text(slug, _language())
    if slug == "accessibilite":
        return render_template(
            "legal/accessibility.html",
            title=_("Déclaration d'accessibilité"),
            text=text,
            statement=queries.statement(),
            states=queries.STATES,
            legal=legal_settings(),
        )
    version = queries.current_charter_version() if slug == "charte" else None
    return render_template("legal/page.html", title=title, text=text, slug=slug, version=version)


# -- administration ----------------------------------------------------------------------------


@blueprint.get("/admin/pages-legales")
@login_required
def admin():
    require_admin()
    return render_template(
        "legal/admin/index.html",
        pages=queries.PAGES,
        editable=queries.EDITABLE,
        stored=queries.stored_pages(),
        statement=queries.statement(),
        states=queries.STATES,
        missing=missing_settings(),
        history=queries.edit_history(),
    )


@blueprint.route("/admin/pages-legales/<slug>", methods=["GET", "POST"])
@login_required
def admin_edit(slug: str):
    require_admin()
    if slug not in queries.EDITABLE:
        abort(404)
    stored = queries.stored_page(slug)
    form = PageForm()
    if not form.is_submitted():
        form.source_fr.data = stored.source_fr if stored else default_source(slug)
        form.source_en.data = stored.source_en if stored else ""
    elif form.validate():
        with flash_operation_errors(form):
            operations.save_page(current_viewer(), slug, form.source_fr.data, form.source_en.data)
            db.session.commit()
            flash(_("Page « %(title)s » enregistrée.", title=queries.PAGES[slug]), "success")
            return redirect(url_for(".admin"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "legal/admin/edit.html", form=form, slug=slug, title=queries.PAGES[slug], stored=stored
    ), status


@blueprint.route("/admin/pages-legales/accessibilite/etat", methods=["GET", "POST"])
@login_required
def admin_statement():
    require_admin()
    statement = queries.statement()
    form = StatementForm(obj=statement)
    if form.validate_on_submit():
        with flash_operation_errors(form):
            fields = {name: getattr(form, name).data for name in STATEMENT_FIELDS}
            operations.save_statement(current_viewer(), **fields)
            db.session.commit()
            flash(_("Déclaration d'accessibilité enregistrée."), "success")
            return redirect(url_for(".admin"))
    status = 422 if form.is_submitted() else 200
    return render_template("legal/admin/statement.html", form=form), status


STATEMENT_FIELDS = (
    "state",
    "compliance_rate",
    "audit_date",
    "auditor",
    "statement_date",
    "technologies",
    "test_environment",
    "contact_email",
    "contact_url",
)
