"""Moderation over HTTP: the report form, the queues (per community and platform-wide), the
decisions on reported content, sanctions and the community's audit log.

Everything works without JavaScript: a decision that needs a reason is a GET page with a form
that POSTs; the others are buttons in small POST forms.  Objects the viewer may not see are a
404, visible ones the viewer may not act on a 403.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from maillage.communities.community.queries import community_by_slug
from maillage.communities.moderation import operations, queries, targets
from maillage.communities.moderation.blueprint import blueprint
from maillage.communities.moderation.forms import (
    CATEGORY_LABELS,
    SANCTION_LABELS,
    NoteForm,
    ReasonForm,
    ReportForm,
    SanctionForm,
    choices,
)
from maillage.communities.moderation.models import SanctionKind
from maillage.communities.permissions import can
from maillage.communities.users.queries import user_by_username
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db, limiter
from maillage.platform.views_util import current_viewer, page_number, safe_next_url

#: Decisions on reported content: (needs a reason, form, permission on the object).
DECISIONS = {
    "dismiss": (False, NoteForm, None),
    "hide": (True, ReasonForm, "hide"),
    "restore": (False, None, "hide"),
    "delete": (True, ReasonForm, "moderate"),
    "lock": (False, None, "lock"),
    "unlock": (False, None, "lock"),
}


@blueprint.context_processor
def _labels() -> dict:
    return {
        "report_category_labels": CATEGORY_LABELS,
        "sanction_labels": SANCTION_LABELS,
        "target_kinds": targets.KINDS,
    }


def _report_limit() -> str:
    return current_app.config.get("RATELIMIT_REPORT", "30 per hour")


def _signed_in_user() -> str:
    return f"user:{getattr(current_user, 'id', '')}"


def _visible_community(slug: str):
    community = community_by_slug(slug)
    if community is None or not can(current_viewer(), "view", community):
        abort(404)
    return community


def _moderated_community(slug: str, action: str = "moderate"):
    community = _visible_community(slug)
    if not can(current_viewer(), action, community):
        abort(403)
    return community


def _visible_object(kind: str, object_id: int):
    obj = targets.load(kind, object_id)
    if obj is None or not can(current_viewer(), "view", obj):
        abort(404)
    return obj


# -- reporting ---------------------------------------------------------------------------------


@blueprint.route("/report/<kind>/<int:object_id>", methods=["GET", "POST"])
@login_required
@limiter.limit(_report_limit, key_func=_signed_in_user, methods=["POST"])
def report(kind: str, object_id: int):
    obj = _visible_object(kind, object_id)
    target = targets.KINDS[kind]
    back = safe_next_url(request.values.get("next")) or target.path(obj)
    if not can(current_user, "report", obj):
        raise NotAllowed(_("Vous ne pouvez pas signaler ce contenu (le vôtre, ou déjà masqué)."))
    form = ReportForm()
    if form.validate_on_submit():
        try:
            operations.report(current_viewer(), obj, form.category.data, form.reason.data)
        except OperationError as exc:
            db.session.rollback()
            if isinstance(exc, NotAllowed):
                raise
            form.form_errors.append(str(exc))
            return _report_page(obj, target, form, back, exc.status)
        db.session.commit()
        flash(_("Merci : votre signalement a été transmis aux modérateurs."), "success")
        return redirect(back, 303)
    return _report_page(obj, target, form, back, 400 if form.is_submitted() else 200)


def _report_page(obj, target, form, back, status):
    return render_template(
        "moderation/report.html",
        obj=obj,
        target=target,
        community=target.community(obj),
        excerpt=targets.excerpt(obj),
        form=form,
        back=back,
    ), status


# -- queues ------------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/moderation")
@login_required
def queue(slug: str):
    community = _moderated_community(slug)
    page = queries.queue(community, page_number())
    return render_template("moderation/queue.html", community=community, queue=page, communities={})


@blueprint.route("/admin/moderation")
@login_required
def admin_queue():
    if not can(current_user, "admin"):
        abort(403)
    page = queries.queue(None, page_number())
    communities = queries.communities_by_id({item.community_id for item in page.items})
    for item in page.items:
        # Of a community whose content the admin may not read: only that reports exist.
        item.sealed = not can(current_user, "read", communities[item.community_id])
        if item.sealed:
            item.obj, item.reports = None, []
        # Readable under an access grant, which is read-only: the community's moderators decide.
        item.read_only = not can(current_user, "moderate", communities[item.community_id])
    return render_template(
        "moderation/queue.html", community=None, queue=page, communities=communities
    )


# -- decisions on content ----------------------------------------------------------------------


def _object_in(community, kind: str, object_id: int, required: bool = True):
    """The object named in the URL, in this community (404 otherwise); None for a dismissal of
    reports on an object deleted since."""
    obj = targets.load(kind, object_id)
    if obj is None:
        if required or kind not in targets.KINDS:
            abort(404)
        return None
    if targets.KINDS[kind].community(obj).id != community.id:
        abort(404)
    return obj


def _back_to(community) -> str:
    return safe_next_url(request.values.get("next")) or url_for(".queue", slug=community.slug)


@blueprint.route("/c/<slug>/moderation/<kind>/<int:object_id>/<decision>", methods=["GET", "POST"])
@login_required
def decide(slug: str, kind: str, object_id: int, decision: str):
    if decision not in DECISIONS:
        abort(404)
    community = _moderated_community(slug)
    needs_reason, form_class, permission = DECISIONS[decision]
    obj = _object_in(community, kind, object_id, required=decision != "dismiss")
    if permission is not None and not can(current_user, permission, obj):
        abort(403)
    form = form_class() if form_class is not None else None
    if request.method == "POST" and (form is None or form.validate_on_submit()):
        try:
            _apply(decision, community, kind, object_id, obj, form)
        except OperationError as exc:
            db.session.rollback()
            if isinstance(exc, NotAllowed):
                raise
            if form is None:
                flash(str(exc), "error")
                return redirect(_back_to(community), 303)
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(DONE[decision](), "success")
            return redirect(_back_to(community), 303)
    if form is None:
        abort(405)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "moderation/decide.html",
        community=community,
        obj=obj,
        kind=kind,
        object_id=object_id,
        target=targets.KINDS[kind],
        excerpt=targets.excerpt(obj) if obj is not None else "",
        decision=decision,
        needs_reason=needs_reason,
        form=form,
        next_url=safe_next_url(request.values.get("next")),
    ), status


def _apply(decision, community, kind, object_id, obj, form) -> None:
    actor = current_viewer()
    if decision == "dismiss":
        operations.dismiss(actor, community, kind, object_id, form.reason.data)
    elif decision == "hide":
        operations.hide(actor, obj, form.reason.data)
    elif decision == "restore":
        operations.restore(actor, obj)
    elif decision == "delete":
        operations.delete(actor, obj, form.reason.data)
    elif decision == "lock":
        operations.lock(actor, obj)
    else:
        operations.unlock(actor, obj)


DONE = {
    "dismiss": lambda: _("Signalements classés sans suite."),
    "hide": lambda: _("Le contenu est masqué ; son auteur en est informé."),
    "restore": lambda: _("Le contenu est de nouveau visible."),
    "delete": lambda: _("Le contenu est supprimé ; son auteur en est informé."),
    "lock": lambda: _("La discussion est verrouillée."),
    "unlock": lambda: _("La discussion est déverrouillée."),
}


# -- sanctions ---------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/moderation/sanctions", methods=["GET", "POST"])
@login_required
def sanctions(slug: str):
    community = _moderated_community(slug, "mute")
    form = SanctionForm()
    if not can(current_user, "ban", community):
        form.kind.choices = choices({SanctionKind.MUTE: SANCTION_LABELS[SanctionKind.MUTE]})
    if form.validate_on_submit():
        try:
            _sanction(community, form)
        except OperationError as exc:
            db.session.rollback()
            if isinstance(exc, NotAllowed):
                raise
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Sanction enregistrée ; la personne en est informée."), "success")
            return redirect(url_for(".sanctions", slug=community.slug), 303)
    return render_template(
        "moderation/sanctions.html",
        community=community,
        form=form,
        sanctions=queries.sanctions_in(community),
        now=utcnow(),
    ), 400 if form.is_submitted() else 200


def _sanction(community, form) -> None:
    member = user_by_username(form.username.data.strip().lstrip("@"))
    if member is None:
        raise OperationError(_("Aucune personne n'a cet identifiant."))
    days = int(form.duration.data)
    until = utcnow() + dt.timedelta(days=days) if days else None
    apply = operations.ban if form.kind.data == SanctionKind.BAN else operations.mute
    apply(current_viewer(), community, member, form.reason.data, until)


@blueprint.route("/c/<slug>/moderation/sanctions/<int:sanction_id>/lift", methods=["POST"])
@login_required
def lift(slug: str, sanction_id: int):
    community = _moderated_community(slug, "mute")
    sanction = queries.sanction_in(community, sanction_id)
    if sanction is None:
        abort(404)
    try:
        operations.lift(current_viewer(), sanction)
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            raise
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("La sanction est levée."), "success")
    return redirect(url_for(".sanctions", slug=community.slug), 303)


# -- audit log ---------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/audit")
@login_required
def audit(slug: str):
    community = _moderated_community(slug, "view_audit")
    actions = queries.audit_actions(community)
    action = request.args.get("action") or None
    if action is not None and action not in actions:
        action = None
    page = queries.audit_page(community, action, page_number())
    return render_template(
        "moderation/audit.html",
        community=community,
        log=page,
        actions=actions,
        action=action,
    )
