"""Analytics pages: a community's (its owners and facilitators, and admins) and the platform's
(admins).  A secret community is a 404 to non-members; other refusals are a 403."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from maillage.communities.analytics.blueprint import blueprint
from maillage.communities.analytics.dashboard import TABLES, dashboard, table_rows
from maillage.communities.analytics.export import csv_response
from maillage.communities.analytics.periods import today
from maillage.communities.analytics.reports import DORMANT_DAYS_CHOICES, DORMANT_DAYS_DEFAULT
from maillage.communities.community.queries import community_by_slug
from maillage.communities.permissions import can
from maillage.platform.views_util import current_viewer


def managed_community_or_abort(slug: str):
    viewer = current_viewer()
    community = community_by_slug(slug)
    if community is None or not can(viewer, "view", community):
        abort(404)
    if not can(viewer, "manage", community):
        abort(403, _("Seuls les animateurs de la communauté consultent ses statistiques."))
    return community


def require_admin() -> None:
    if not can(current_viewer(), "admin"):
        abort(403, _("Les statistiques de la plateforme sont réservées aux administrateurs."))


def dormant_days() -> int:
    """The ``jours`` argument: one of the offered choices, else a 400 (never silently changed)."""
    raw = request.args.get("jours")
    if raw is None or raw == "":
        return DORMANT_DAYS_DEFAULT
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if days not in DORMANT_DAYS_CHOICES:
        abort(400, _("Choisissez une durée d'inactivité proposée dans la liste."))
    return days


def _page(community, page_title: str, csv_endpoint: str, csv_args: dict):
    days = dormant_days()
    return render_template(
        "analytics/dashboard.html",
        community=community,
        page_title=page_title,
        data=dashboard(community, dormant_days=days, viewer=current_viewer()),
        today=today(),
        dormant_choices=DORMANT_DAYS_CHOICES,
        csv_endpoint=csv_endpoint,
        csv_args=csv_args,
    )


def _csv(community, table: str, prefix: str):
    if table not in TABLES:
        abort(404)
    filename_part, header = TABLES[table]
    rows = table_rows(table, community, dormant_days=dormant_days(), viewer=current_viewer())
    filename = f"{prefix}-{filename_part}-{today().isoformat()}.csv"
    return csv_response(filename, [str(label) for label in header], rows)


@blueprint.route("/c/<slug>/analytics")
@login_required
def community(slug: str):
    community = managed_community_or_abort(slug)
    return _page(
        community,
        _("Statistiques"),
        "analytics.community_csv",
        {"slug": community.slug},
    )


@blueprint.route("/c/<slug>/analytics/<table>.csv")
@login_required
def community_csv(slug: str, table: str):
    community = managed_community_or_abort(slug)
    return _csv(community, table, community.slug)


@blueprint.route("/admin/analytics")
@login_required
def platform():
    require_admin()
    return _page(None, _("Statistiques de la plateforme"), "analytics.platform_csv", {})


@blueprint.route("/admin/analytics/<table>.csv")
@login_required
def platform_csv(table: str):
    require_admin()
    return _csv(None, table, "plateforme")
