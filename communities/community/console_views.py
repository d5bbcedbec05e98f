"""The facilitator console of a community: its home page, the invitations and their state,
bulk invitations.  The console lists the sections registered with
:func:`maillage.communities.console.register_console_section` that the viewer may open, so a
moderator sees only the moderation tools and a facilitator everything.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup

from maillage.communities.community import bulk, labels, operations, queries
from maillage.communities.community.blueprint import blueprint
from maillage.communities.community.forms import BulkInviteForm
from maillage.communities.community.views import (
    _community_for,
    _pagination,
    _signed_in_user,
    _visible_community,
    pending_request_count,
)
from maillage.communities.console import console_sections_for, register_console_section
from maillage.communities.permissions import can
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db, limiter, login_manager
from maillage.platform.markdown import MarkdownTooLong, render
from maillage.platform.views_util import (
    confirmation_page,
    current_viewer,
    flash_operation_errors,
    page_number,
)

INVITATIONS_PAGE_SIZE = 50

register_console_section(
    "members", _l("Membres et rôles"), "community.members", "manage_members", order=10
)
register_console_section(
    "requests", _l("Demandes d'adhésion"), "community.requests", "approve_requests", order=20
)
register_console_section(
    "invitations", _l("Invitations"), "community.invitations", "invite", order=30
)
register_console_section(
    "bulk_invite", _l("Inviter en nombre"), "community.bulk_invite", "invite", order=35
)
register_console_section("settings", _l("Paramètres"), "community.settings", "manage", order=90)


@blueprint.app_template_filter("community_markdown")
def _community_markdown(source: str) -> Markup:
    """Markdown source (charter, welcome message) as sanitised HTML."""
    try:
        return Markup(render(source or ""))  # noqa: S704 - render() sanitises with nh3
    except MarkdownTooLong:
        return Markup("")


@blueprint.get("/c/<slug>/console")
def console(slug: str):
    community = _visible_community(slug)
    viewer = current_viewer()
    if viewer is None:
        return login_manager.unauthorized()
    sections = console_sections_for(viewer, community)
    if not sections:
        abort(403)
    counts = {}
    if can(viewer, "approve_requests", community):
        counts["requests"] = pending_request_count(community)
    if can(viewer, "invite", community):
        counts["invitations"] = queries.invitations(community, "pending", per_page=1)[1]
    return render_template(
        "community/console.html",
        community=community,
        sections=sections,
        counts=counts,
        page_title=_("Console d'animation de « %(name)s »", name=community.name),
    )


@blueprint.get("/c/<slug>/invitations")
@login_required
def invitations(slug: str):
    community = _community_for(slug, "invite")
    state = request.args.get("state", "")
    if state not in queries.INVITATION_STATES:
        state = ""
    page = page_number()
    items, total = queries.invitations(community, state, page, INVITATIONS_PAGE_SIZE)
    extra = {"state": state} if state else {}
    return render_template(
        "community/invitations.html",
        community=community,
        invitations=items,
        total=total,
        state=state,
        states=INVITATION_STATE_LABELS,
        pagination=_pagination(
            ".invitations", page, total, INVITATIONS_PAGE_SIZE, slug=community.slug, **extra
        ),
        page_title=_("Invitations de « %(name)s »", name=community.name),
    )


INVITATION_STATE_LABELS = {
    "pending": _l("En attente"),
    "accepted": _l("Acceptée"),
    "expired": _l("Expirée"),
    "revoked": _l("Retirée"),
}


@blueprint.post("/c/<slug>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(slug: str, invitation_id: int):
    community = _community_for(slug, "invite")
    invitation = queries.invitation_in(community, invitation_id)
    if invitation is None:
        abort(404)
    question = _("Retirer l'invitation envoyée à %(email)s ?", email=invitation.email)
    if (asked := confirmation_page(question, confirm_label=_("Retirer l'invitation"))) is not None:
        return asked
    with flash_operation_errors():
        operations.revoke_invitation(invitation, current_viewer())
        db.session.commit()
        flash(_("L'invitation de %(email)s est retirée.", email=invitation.email), "success")
        return redirect(url_for(".invitations", slug=community.slug), 303)
    return redirect(url_for(".invitations", slug=community.slug), 303)


def _bulk_limit() -> str:
    return current_app.config.get("RATELIMIT_BULK_INVITE", "10 per hour")


@blueprint.route("/c/<slug>/invite/bulk", methods=["GET", "POST"])
@login_required
@limiter.limit(_bulk_limit, key_func=_signed_in_user, methods=["POST"])
def bulk_invite(slug: str):
    community = _community_for(slug, "invite")
    form = BulkInviteForm()
    report, status = None, 200
    if form.validate_on_submit():
        data = _bulk_input(form)
        if data is not None:
            try:
                report = bulk.bulk_invite(
                    community, current_viewer(), data, default_role=form.role.data
                )
            except OperationError as exc:
                db.session.rollback()
                form.addresses.errors = [*form.addresses.errors, str(exc)]
            else:
                db.session.commit()
    if form.is_submitted() and report is None:
        status = 400
    return render_template(
        "community/bulk_invite.html",
        community=community,
        form=form,
        report=report,
        invited=sum(1 for line in report or [] if line.outcome == bulk.INVITED),
        max_lines=bulk.MAX_LINES,
        page_title=_("Inviter en nombre dans « %(name)s »", name=community.name),
    ), status


def _bulk_input(form: BulkInviteForm) -> str | None:
    """The text to read: the uploaded file when there is one, else the pasted list."""
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read(bulk.MAX_BYTES + 1)
        if len(raw) > bulk.MAX_BYTES:
            form.file.errors = [_("Le fichier est trop volumineux (200 Ko au plus).")]
            return None
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                return raw.decode("cp1252")
            except UnicodeDecodeError:
                form.file.errors = [_("Le fichier doit être un texte CSV (UTF-8).")]
                return None
    if not (form.addresses.data or "").strip():
        form.addresses.errors = [_("Collez des adresses ou choisissez un fichier CSV.")]
        return None
    return form.addresses.data


@blueprint.context_processor
def _report_labels() -> dict:
    return {"INVITATION_STATE_LABELS": INVITATION_STATE_LABELS, "ROLE_LABELS": labels.ROLES}
