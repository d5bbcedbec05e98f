"""Administrators' listing of every community, and the exceptional access to a community's
content: asked for on the admin page, shown to the community's owners (banner, history), ended
early by them or by an administrator."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import login_required

from maillage.communities.community import labels
from maillage.communities.community.models import Community
from maillage.communities.oversight import operations, queries
from maillage.communities.oversight.blueprint import blueprint
from maillage.communities.oversight.forms import DURATION_LABELS, REASON_LABELS, AccessRequestForm
from maillage.communities.permissions import can
from maillage.platform.extensions import db
from maillage.platform.views_util import (
    confirmation_page,
    current_viewer,
    flash_operation_errors,
    get_or_404,
    page_number,
    require_admin,
    safe_next_url,
)


@blueprint.app_template_global("access_grants_banner")
def access_grants_banner(community: Community) -> list:
    """The running grants to show on ``community``'s pages: to its managers only (one query)."""
    if community is None or not can(current_viewer(), "manage", community):
        return []
    return queries.active_grants_in(community)


@blueprint.app_context_processor
def _reason_labels() -> dict:
    return {"access_reason_labels": REASON_LABELS}


@blueprint.context_processor
def _community_labels() -> dict:
    return labels.template_context()


def _overseen(community_id: int) -> Community:
    community = get_or_404(Community, id=community_id)
    if not can(current_viewer(), "oversee", community):
        abort(403)
    return community


@blueprint.route("/admin/communities")
@login_required
def admin_communities():
    require_admin()
    q = request.args.get("q", "")[:120]
    listing = queries.all_communities(q, page_number())
    return render_template("oversight/communities.html", listing=listing, q=q)


def _community_page(community: Community, form=None, status: int = 200):
    viewer = current_viewer()
    page = render_template(
        "oversight/community.html",
        community=community,
        owners=queries.owners_by_community([community.id])[community.id],
        grants=queries.grants_of(community),
        form=form or AccessRequestForm(),
        may_request=can(viewer, "request_access", community),
        reads=can(viewer, "read", community),
    )
    return page, status


@blueprint.route("/admin/communities/<int:community_id>")
@login_required
def admin_community(community_id: int):
    return _community_page(_overseen(community_id))


@blueprint.post("/admin/communities/<int:community_id>/acces")
@login_required
def request_access(community_id: int):
    community = _overseen(community_id)
    viewer = current_viewer()
    if not can(viewer, "request_access", community):
        abort(403)
    form = AccessRequestForm()
    if not form.validate_on_submit():
        return _community_page(community, form, 422)
    question = _("Ouvrir un accès exceptionnel au contenu de « %(name)s » ?", name=community.name)
    details = _(
        "Pendant %(duration)s vous lirez son contenu. Cet accès est inscrit au journal d'audit de"
        " la plateforme et de la communauté, ses propriétaires et animateurs sont prévenus et un"
        " bandeau le leur rappelle tant qu'il dure, avec le motif indiqué.",
        duration=DURATION_LABELS.get(form.hours.data, form.hours.data),
    )
    if (page := confirmation_page(question, details, _("Ouvrir l'accès"))) is not None:
        return page
    with flash_operation_errors(form):
        grant = operations.request_access(
            viewer, community, form.reason.data, form.justification.data, form.hours.data
        )
        db.session.commit()
        flash(
            _(
                "Accès ouvert jusqu'au %(until)s ; il est journalisé et montré aux propriétaires.",
                until=format_datetime(grant.expires_at, "short"),
            ),
            "success",
        )
        return redirect(url_for(".admin_community", community_id=community.id))
    return _community_page(community, form, 422)


@blueprint.route("/c/<slug>/acces-administrateur")
@login_required
def community_grants(slug: str):
    community = get_or_404(Community, slug=slug)
    viewer = current_viewer()
    if not (can(viewer, "view_audit", community) or can(viewer, "oversee", community)):
        abort(404)
    return render_template(
        "oversight/grants.html",
        community=community,
        grants=queries.grants_of(community),
        page_title=_("Accès exceptionnels des administrateurs"),
    )


@blueprint.post("/c/<slug>/acces-administrateur/<int:grant_id>/fin")
@login_required
def end_access(slug: str, grant_id: int):
    community = get_or_404(Community, slug=slug)
    grant = queries.grant_in(community, grant_id)
    viewer = current_viewer()
    if grant is None or not can(viewer, "end_access", grant):
        abort(404)
    back = safe_next_url(request.form.get("next")) or url_for(".community_grants", slug=slug)
    question = _("Mettre fin maintenant à l'accès exceptionnel de l'administrateur ?")
    if (page := confirmation_page(question, confirm_label=_("Mettre fin"))) is not None:
        return page
    with flash_operation_errors():
        operations.end_access(viewer, grant)
        db.session.commit()
        flash(_("L'accès exceptionnel a pris fin."), "success")
    return redirect(back)
