"""Organisations administration over HTTP (administrators only): the list with its filters,
creation, edition (logo included), validation or rejection of proposed organisations, merge,
deactivation; and the public logo of an organisation.

Destructive actions (merge, reject, deactivate) confirm first through ``confirmation_page``.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from maillage.communities.community.labels import ORGANISATION_KIND
from maillage.communities.organisations import operations, queries
from maillage.communities.organisations.blueprint import blueprint
from maillage.communities.organisations.forms import (
    SOURCE_LABELS,
    STATUS_LABELS,
    FilterForm,
    MergeForm,
    OrganisationForm,
)
from maillage.communities.organisations.models import Organisation
from maillage.communities.permissions import can
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.storage import UnknownKey, get_storage
from maillage.platform.views_util import (
    confirmation_page,
    current_viewer,
    page_number,
    require_admin,
)


@blueprint.context_processor
def _labels() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "source_labels": SOURCE_LABELS,
        "kind_labels": ORGANISATION_KIND,
    }


def _organisation(organisation_id: int, action: str = "manage") -> tuple[Organisation, object]:
    viewer = require_admin()
    organisation = queries.organisation_by_id(organisation_id)
    if organisation is None:
        abort(404)
    if not can(viewer, action, organisation):
        abort(403)
    return organisation, viewer


def _back(organisation: Organisation | None = None):
    if organisation is not None and db.session.get(Organisation, organisation.id) is not None:
        return redirect(url_for(".admin_edit", organisation_id=organisation.id), 303)
    return redirect(url_for(".admin_list"), 303)


@blueprint.route("/admin/organisations")
@login_required
def admin_list():
    require_admin()
    filters = FilterForm(request.args)
    filters.validate()
    values = {name: (filters[name].data or "") for name in ("q", "kind", "status", "members")}
    if filters.q.errors:
        values["q"] = ""
    listing = queries.admin_listing(
        query=values["q"],
        kind=values["kind"],
        status=values["status"],
        members=values["members"],
        page=page_number(),
    )
    return render_template(
        "organisations/admin_list.html",
        filters=filters,
        values=values,
        listing=listing,
        pending=queries.pending_count(),
    )


def _save(form: OrganisationForm, organisation: Organisation | None, viewer) -> Organisation | None:
    """Create or update from the form; ``None`` with the form's errors set when refused."""
    fields = {
        "name": form.name.data,
        "kind": form.kind.data,
        "siret": form.siret.data,
        "parent": form.parent.organisation,
    }
    try:
        if organisation is None:
            organisation = operations.create_organisation(**fields, actor=viewer)
        else:
            operations.update_organisation(organisation, viewer, **fields)
        if form.remove_logo.data:
            operations.remove_logo(organisation, viewer)
        if form.logo.data and getattr(form.logo.data, "filename", ""):
            operations.set_logo(organisation, form.logo.data.stream, viewer)
        db.session.commit()
    except OperationError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return None
    return organisation


@blueprint.route("/admin/organisations/new", methods=["GET", "POST"])
@login_required
def admin_create():
    viewer = require_admin()
    form = OrganisationForm()
    form.parent.load(queries.all_organisations())
    if form.validate_on_submit() and (organisation := _save(form, None, viewer)):
        flash(_("L'organisation « %(name)s » est créée.", name=organisation.name), "success")
        return redirect(url_for(".admin_edit", organisation_id=organisation.id), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("organisations/admin_form.html", form=form, organisation=None), status


@blueprint.route("/admin/organisations/<int:organisation_id>", methods=["GET", "POST"])
@login_required
def admin_edit(organisation_id: int):
    organisation, viewer = _organisation(organisation_id)
    form = OrganisationForm(
        data={
            "name": organisation.name,
            "kind": organisation.kind,
            "siret": organisation.siret or "",
            "parent": organisation.parent_id,
        }
    )
    form.parent.load([o for o in queries.all_organisations() if o.id != organisation.id])
    if form.validate_on_submit() and _save(form, organisation, viewer):
        flash(_("L'organisation est enregistrée."), "success")
        return redirect(url_for(".admin_edit", organisation_id=organisation.id), 303)
    status = 400 if form.is_submitted() else 200
    page = render_template(
        "organisations/admin_form.html",
        form=form,
        organisation=organisation,
        members=queries.member_count(organisation),
        children=queries.children_of(organisation),
        proposer=queries.proposer_of(organisation),
        merge_form=_merge_form(organisation),
    )
    return page, status


def _merge_form(organisation: Organisation, formdata=None) -> MergeForm:
    form = MergeForm(formdata=formdata, source=organisation, prefix="merge-")
    form.target.load([o for o in queries.all_organisations() if o.id != organisation.id])
    return form


@blueprint.route("/admin/organisations/<int:organisation_id>/validate", methods=["POST"])
@login_required
def admin_validate(organisation_id: int):
    organisation, viewer = _organisation(organisation_id, "validate")
    _run(lambda: operations.validate_organisation(organisation, viewer))
    flash(_("L'organisation « %(name)s » est validée.", name=organisation.name), "success")
    return _back(organisation)


def _run(action) -> bool:
    """Run one operation and commit; its refusal is flashed and nothing is stored."""
    try:
        action()
        db.session.commit()
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    return True


def _merge_or_reject(organisation_id: int, reject: bool):
    organisation, viewer = _organisation(organisation_id, "merge")
    form = _merge_form(organisation, request.form)
    if not form.validate():
        for message in form.target.errors:
            flash(message, "error")
        return _back(organisation)
    target = form.target.organisation
    members = queries.member_count(organisation)
    question = (
        _("Refuser « %(name)s » ?", name=organisation.name)
        if reject
        else _(
            "Fusionner « %(name)s » dans « %(target)s » ?",
            name=organisation.name,
            target=target.name,
        )
    )
    details = _(
        "Ses %(num)d membres, ses communautés et ses organisations rattachées passeront à "
        "« %(target)s », puis « %(name)s » sera supprimée.",
        num=members,
        name=organisation.name,
        target=target.name,
    )
    if (page := confirmation_page(question, details)) is not None:
        return page
    name = organisation.name
    if reject:
        done = _run(lambda: operations.reject_organisation(organisation, target, viewer))
    else:
        done = _run(lambda: operations.merge_organisations(organisation, target, viewer))
    if not done:
        return _back(organisation)
    if reject:
        message = _(
            "« %(name)s » est refusée ; ses membres rejoignent « %(target)s ».",
            name=name,
            target=target.name,
        )
    else:
        message = _(
            "« %(name)s » a été fusionnée dans « %(target)s ».", name=name, target=target.name
        )
    flash(message, "success")
    return redirect(url_for(".admin_edit", organisation_id=target.id), 303)


@blueprint.route("/admin/organisations/<int:organisation_id>/merge", methods=["POST"])
@login_required
def admin_merge(organisation_id: int):
    return _merge_or_reject(organisation_id, reject=False)


@blueprint.route("/admin/organisations/<int:organisation_id>/reject", methods=["POST"])
@login_required
def admin_reject(organisation_id: int):
    return _merge_or_reject(organisation_id, reject=True)


@blueprint.route("/admin/organisations/<int:organisation_id>/deactivate", methods=["POST"])
@login_required
def admin_deactivate(organisation_id: int):
    organisation, viewer = _organisation(organisation_id, "deactivate")
    question = _("Désactiver « %(name)s » ?", name=organisation.name)
    details = _(
        "Elle ne sera plus proposée à l'inscription. Ses membres gardent leur compte et "
        "continuent d'utiliser la plateforme."
    )
    if (page := confirmation_page(question, details)) is not None:
        return page
    if _run(lambda: operations.deactivate_organisation(organisation, viewer)):
        flash(_("L'organisation « %(name)s » est désactivée.", name=organisation.name), "success")
    return _back(organisation)


@blueprint.route("/admin/organisations/<int:organisation_id>/reactivate", methods=["POST"])
@login_required
def admin_reactivate(organisation_id: int):
    organisation, viewer = _organisation(organisation_id, "deactivate")
    if _run(lambda: operations.reactivate_organisation(organisation, viewer)):
        flash(_("L'organisation « %(name)s » est réactivée.", name=organisation.name), "success")
    return _back(organisation)


@blueprint.route("/organisations/<int:organisation_id>/logo")
def logo(organisation_id: int):
    """An organisation's logo (public, like its name); re-encoded PNG, see set_logo."""
    organisation = queries.organisation_by_id(organisation_id)
    if organisation is None or not organisation.logo_key:
        abort(404)
    if not can(current_viewer(), "view", organisation):
        abort(404)
    try:
        with get_storage().open(organisation.logo_key) as stream:
            data = stream.read()
    except UnknownKey:
        abort(404)
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
