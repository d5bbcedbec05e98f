"""Certificates (public verification page, PDF for the holder), the resources library, the
facilitators' community, and ambassadors (public help page, admins' page)."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from maillage.communities.documents.filenames import content_disposition
from maillage.communities.documents.uploads import Upload
from maillage.communities.permissions import can
from maillage.communities.training import operations as ops
from maillage.communities.training import progress, queries
from maillage.communities.training.blueprint import blueprint
from maillage.communities.training.forms import (
    RESOURCE_KINDS,
    ConfirmForm,
    ResourceFilterForm,
    ResourceForm,
)
from maillage.communities.training.models import Resource
from maillage.communities.training.pdf import certificate_pdf
from maillage.communities.training.views import operation_errors, require, send_stored
from maillage.communities.users.models import User
from maillage.platform.db import escape_like
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer

AMBASSADOR_SEARCH_LIMIT = 50


@blueprint.app_context_processor
def _training_labels() -> dict:
    return {"RESOURCE_KINDS": RESOURCE_KINDS}


# -- certificates ------------------------------------------------------------------------------


@blueprint.route("/formation/certificats/<code>")
def verify_certificate(code: str):
    """Public: anyone holding the code can check the certificate is genuine."""
    certificate = queries.certificate_by_code(code)
    if certificate is None:
        return render_template("training/certificate.html", certificate=None, code=code), 404
    return render_template(
        "training/certificate.html",
        certificate=certificate,
        code=certificate.code,
        can_download=can(current_viewer(), "download", certificate),
    )


@blueprint.route("/formation/certificats/<code>/pdf")
@login_required
def certificate_pdf_download(code: str):
    certificate = queries.certificate_by_code(code)
    if certificate is None:
        abort(404)
    require("download", certificate)
    verify_url = url_for(".verify_certificate", code=certificate.code, _external=True)
    data = certificate_pdf(
        certificate, current_app.config.get("INSTANCE_NAME", "Maillage"), verify_url
    )
    name = f"certificat-animateur-{certificate.code}.pdf"
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition("attachment", name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# -- resources ---------------------------------------------------------------------------------


@blueprint.route("/formation/ressources")
@login_required
def resources():
    require("view_resources")
    form = ResourceFilterForm(formdata=request.args)
    form.validate()
    kind = form.kind.data if not form.kind.errors else ""
    query = form.q.data if not form.q.errors else ""
    return render_template(
        "training/resources.html",
        form=form,
        resources=queries.resources(kind or "", query or ""),
        filtered=bool(kind or query),
        can_manage=can(current_viewer(), "manage_resources"),
        confirm=ConfirmForm(),
    )


@blueprint.route("/formation/ressources/nouvelle", methods=["GET", "POST"])
@login_required
def new_resource():
    require("manage_resources")
    form = ResourceForm()
    if form.validate_on_submit():
        sent = request.files.get("file")
        upload = (
            Upload(sent.filename, sent.stream, sent.mimetype) if sent and sent.filename else None
        )
        with operation_errors(form):
            ops.create_resource(
                current_viewer(),
                form.title.data,
                form.kind.data,
                form.description.data or "",
                form.url.data or "",
                upload,
            )
            db.session.commit()
            flash(_("Ressource ajoutée."), "success")
            return redirect(url_for(".resources"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "training/form.html",
        form=form,
        title=_("Nouvelle ressource"),
        back_url=url_for(".resources"),
        multipart=True,
    ), status


def _resource_or_404(resource_id: int) -> Resource:
    resource = db.session.get(Resource, resource_id)
    if resource is None:
        abort(404)
    return resource


@blueprint.route("/formation/ressources/<int:resource_id>/fichier")
@login_required
def resource_file(resource_id: int):
    require("view_resources")
    resource = _resource_or_404(resource_id)
    if not resource.storage_key:
        abort(404)
    return send_stored(resource.storage_key, resource.mime_type, resource.file_name)


@blueprint.route("/formation/ressources/<int:resource_id>/supprimer", methods=["POST"])
@login_required
def delete_resource(resource_id: int):
    require("manage_resources")
    resource = _resource_or_404(resource_id)
    question = _("Supprimer la ressource « %(title)s » ?", title=resource.title)
    if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
        return asked
    if ConfirmForm().validate_on_submit():
        ops.delete_resource(resource, current_viewer())
        db.session.commit()
        flash(_("Ressource supprimée."), "success")
    return redirect(url_for(".resources"))


# -- the facilitators' community ---------------------------------------------------------------


@blueprint.route("/formation/communaute", methods=["POST"])
@login_required
def facilitators_community():
    """Create (once) the facilitators' community and bring trainers and certified people in."""
    require("manage_training")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    community = progress.ensure_facilitators_community(current_viewer())
    db.session.commit()
    return redirect(url_for("community.show", slug=community.slug))


# -- ambassadors -------------------------------------------------------------------------------


@blueprint.route("/aide/ambassadeurs")
def ambassadors():
    """« Qui peut m'aider ? » — public: the ambassadors of each organisation."""
    return render_template(
        "training/ambassadors.html", groups=queries.ambassadors_by_organisation()
    )


@blueprint.route("/admin/ambassadeurs")
@login_required
def manage_ambassadors():
    require("manage_ambassadors")
    query = (request.args.get("q") or "").strip()[:100]
    found = []
    if query:
        pattern = f"%{escape_like(query)}%"
        found = list(
            db.session.scalars(
                select(User)
                .where(
                    User.local,
                    User.is_active,
                    (User.display_name.ilike(pattern, escape="\\"))
                    | (User.username.ilike(pattern, escape="\\")),
                )
                .order_by(User.display_name)
                .limit(AMBASSADOR_SEARCH_LIMIT)
            )
        )
    return render_template(
        "training/ambassadors_admin.html",
        groups=queries.ambassadors_by_organisation(),
        query=query,
        found=found,
        form=ConfirmForm(),
    )


@blueprint.route("/admin/ambassadeurs/<int:user_id>", methods=["POST"])
@login_required
def set_ambassador(user_id: int):
    require("manage_ambassadors")
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    value = request.form.get("ambassador") == "1"
    with operation_errors():
        ops.set_ambassador(current_viewer(), person, value)
        db.session.commit()
        if value:
            flash(_("%(name)s est ambassadeur.", name=person.display_name), "success")
        else:
            flash(_("%(name)s n'est plus ambassadeur.", name=person.display_name), "success")
    target = request.form.get("next") or ""
    if target == "profile":
        return redirect(url_for("users.profile", username=person.username))
    return redirect(url_for(".manage_ambassadors"))
