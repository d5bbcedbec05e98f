"""The federation admin page: trust policy (mode, allow/deny lists) and instance health."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from maillage.communities.permissions import can
from maillage.federation.transport import operations, policy
from maillage.federation.transport.blueprint import blueprint
from maillage.federation.transport.delivery import pending_count
from maillage.federation.transport.forms import ActionForm, InstancePolicyForm, ModeForm
from maillage.federation.transport.models import Instance
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.views_util import (
    confirmation_page,
    current_viewer,
    flash_operation_errors,
    get_or_404,
)


def _require_admin():
    if not can(current_viewer(), "admin"):
        abort(403)


def _page(mode_form=None, policy_form=None, status=200):
    mode = policy.federation_mode()
    mode_form = mode_form or ModeForm(mode=mode)
    page = render_template(
        "federation/admin.html",
        mode=mode,
        mode_form=mode_form,
        policy_form=policy_form or InstancePolicyForm(),
        action_form=ActionForm(),
        allowed=policy.policy_entries("allowed"),
        denied=policy.policy_entries("denied"),
        health=policy.instance_health(),
        pending=pending_count(),
        now=utcnow(),
    )
    return page, status


@blueprint.route("/admin/federation")
@login_required
def admin():
    _require_admin()
    return _page()


@blueprint.post("/admin/federation/mode")
@login_required
def admin_mode():
    _require_admin()
    form = ModeForm()
    if not form.validate_on_submit():
        return _page(mode_form=form, status=422)
    with flash_operation_errors(form):
        operations.set_federation_mode(current_viewer(), form.mode.data)
        db.session.commit()
        flash(_("Mode de fédération enregistré."), "success")
        return redirect(url_for(".admin"))
    return _page(mode_form=form, status=422)


@blueprint.post("/admin/federation/instances")
@login_required
def admin_policy():
    _require_admin()
    form = InstancePolicyForm()
    if not form.validate_on_submit():
        return _page(policy_form=form, status=422)
    if form.policy.data == "denied":
        question = _("Bloquer l'instance %(domain)s ?", domain=form.domain.data)
        details = _("Plus aucun échange avec ses membres ni ses communautés.")
        if (asked := confirmation_page(question, details, _("Bloquer"))) is not None:
            return asked
    with flash_operation_errors(form):
        instance = operations.set_instance_policy(
            current_viewer(), form.domain.data, form.policy.data, form.reason.data
        )
        db.session.commit()
        message = (
            _("%(domain)s ajoutée à la liste d'autorisation.", domain=instance.domain)
            if instance.policy == "allowed"
            else _("%(domain)s ajoutée à la liste de blocage.", domain=instance.domain)
        )
        flash(message, "success")
        return redirect(url_for(".admin"))
    return _page(policy_form=form, status=422)


@blueprint.post("/admin/federation/instances/<int:instance_id>/remove")
@login_required
def admin_remove(instance_id: int):
    _require_admin()
    instance = get_or_404(Instance, id=instance_id)
    question = _("Retirer %(domain)s de la liste ?", domain=instance.domain)
    if (asked := confirmation_page(question, confirm_label=_("Retirer"))) is not None:
        return asked
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.clear_instance_policy(current_viewer(), instance)
    db.session.commit()
    flash(_("%(domain)s retirée de la liste.", domain=instance.domain), "success")
    return redirect(url_for(".admin"))


@blueprint.post("/admin/federation/instances/<int:instance_id>/reset")
@login_required
def admin_reset(instance_id: int):
    _require_admin()
    instance = get_or_404(Instance, id=instance_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.reset_instance_health(current_viewer(), instance)
    db.session.commit()
    flash(_("Livraisons vers %(domain)s relancées.", domain=instance.domain), "success")
    return redirect(url_for(".admin"))
