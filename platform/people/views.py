"""The people administration pages: list, one person's file and its actions, CSV import.

Every view checks ``can(user, "admin")``; every write goes through
:mod:`maillage.platform.people.operations` (or :mod:`~maillage.platform.people.importing`).
Destructive actions ask for confirmation first (:func:`confirmation_page`).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from maillage.auth.providers.registry import providers
from maillage.communities.community import labels
from maillage.communities.users.models import User
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.people import importing, operations, queries
from maillage.platform.people.blueprint import blueprint
from maillage.platform.people.forms import (
    STATUS_LABELS,
    ActionForm,
    ImportForm,
    OptionalReasonForm,
    PeopleFilterForm,
    ReasonForm,
    RoleForm,
)
from maillage.platform.views_util import (
    confirmation_page,
    current_viewer,
    flash_operation_errors,
    page_number,
    require_admin,
)

DELETION_ENDPOINT = "account_deletion.admin_request"


def _person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _provider_titles() -> dict[str, str]:
    return {name: provider.title for name, provider in providers().items()}


@blueprint.app_template_global()
def person_status(user: User) -> str:
    if operations.is_deleted_or_pending(user):
        return str(STATUS_LABELS["deletion"])
    if user.suspended_at is not None:
        return str(STATUS_LABELS["suspended"])
    return str(STATUS_LABELS["active"]) if user.is_active else _("Désactivé")


# -- list --------------------------------------------------------------------------------------


@blueprint.route("/admin/people")
@login_required
def index():
    require_admin()
    form = PeopleFilterForm(formdata=request.args)
    titles = _provider_titles()
    form.load(queries.organisation_choices(), list(titles.items()))
    filters = form.filters()
    page = page_number()
    rows, has_next = queries.people_page(filters, page)
    arguments = {key: value for key, value in request.args.items() if key != "page"}
    return render_template(
        "people/index.html",
        form=form,
        rows=rows,
        page=page,
        previous_url=url_for(".index", page=page - 1, **arguments) if page > 1 else None,
        next_url=url_for(".index", page=page + 1, **arguments) if has_next else None,
        filtered=bool(filters.active()),
        provider_titles=titles,
    )


# -- one person --------------------------------------------------------------------------------


def _render_person(user: User, status: int = 200, **forms):
    defaults = {
        "suspend_form": ReasonForm(prefix="suspend"),
        "two_factor_form": ReasonForm(prefix="totp"),
        "reset_form": OptionalReasonForm(prefix="reset"),
    }
    defaults.update(forms)
    suspended_by = db.session.get(User, user.suspended_by_id) if user.suspended_by_id else None
    memberships, hidden_memberships = queries.memberships_of(user, current_viewer())
    return render_template(
        "people/show.html",
        person=user,
        identities=queries.identities_of(user),
        memberships=memberships,
        hidden_memberships=hidden_memberships,
        audit=queries.audit_about(user),
        suspended_by=suspended_by,
        provider_titles=_provider_titles(),
        role_labels=operations.ROLE_LABELS,
        community_roles=labels.ROLES,
        action_form=ActionForm(),
        can_delete=DELETION_ENDPOINT in current_app.view_functions,
        served_endpoints=current_app.view_functions,
        deletion_endpoint=DELETION_ENDPOINT,
        is_self=user.id == current_viewer().id,
        **defaults,
    ), status


@blueprint.route("/admin/people/<int:user_id>")
@login_required
def show(user_id: int):
    require_admin()
    return _render_person(_person(user_id))


def _run(user: User, action, success: str):
    """Run an operation, commit, flash; an operation's refusal is flashed instead."""
    with flash_operation_errors():
        action()
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".show", user_id=user.id))


@blueprint.route("/admin/people/<int:user_id>/suspend", methods=["POST"])
@login_required
def suspend(user_id: int):
    actor = require_admin()
    user = _person(user_id)
    form = ReasonForm(prefix="suspend")
    if not form.validate_on_submit():
        return _render_person(user, 400, suspend_form=form)
    question = _("Suspendre le compte de %(name)s ?", name=user.display_name)
    details = _(
        "Ses sessions et ses jetons d'API cessent aussitôt de fonctionner ; la personne reçoit "
        "le motif par e-mail."
    )
    if (page := confirmation_page(question, details, _("Suspendre"))) is not None:
        return page
    return _run(
        user,
        lambda: operations.suspend(actor, user, form.reason.data),
        _("Le compte est suspendu."),
    )


@blueprint.route("/admin/people/<int:user_id>/reactivate", methods=["POST"])
@login_required
def reactivate(user_id: int):
    actor = require_admin()
    user = _person(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _run(user, lambda: operations.reactivate(actor, user), _("La suspension est levée."))


@blueprint.route("/admin/people/<int:user_id>/sessions/end", methods=["POST"])
@login_required
def end_sessions(user_id: int):
    actor = require_admin()
    user = _person(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    question = _("Fermer toutes les sessions de %(name)s ?", name=user.display_name)
    if (page := confirmation_page(question, None, _("Fermer les sessions"))) is not None:
        return page
    return _run(
        user, lambda: operations.end_sessions(actor, user), _("Toutes ses sessions sont fermées.")
    )


@blueprint.route("/admin/people/<int:user_id>/password-reset", methods=["POST"])
@login_required
def password_reset(user_id: int):
    actor = require_admin()
    user = _person(user_id)
    form = OptionalReasonForm(prefix="reset")
    if not form.validate_on_submit():
        return _render_person(user, 400, reset_form=form)
    question = _("Imposer un nouveau mot de passe à %(name)s ?", name=user.display_name)
    details = _(
        "Le mot de passe actuel cesse de fonctionner et ses sessions sont fermées ; la personne "
        "reçoit un lien pour en choisir un nouveau."
    )
    if (page := confirmation_page(question, details, _("Réinitialiser"))) is not None:
        return page
    return _run(
        user,
        lambda: operations.force_password_reset(actor, user, form.reason.data or ""),
        _("Le mot de passe est désactivé ; un lien de réinitialisation est envoyé."),
    )


@blueprint.route("/admin/people/<int:user_id>/two-factor/remove", methods=["POST"])
@login_required
def remove_two_factor(user_id: int):
    actor = require_admin()
    user = _person(user_id)
    form = ReasonForm(prefix="totp")
    if not form.validate_on_submit():
        return _render_person(user, 400, two_factor_form=form)
    question = _("Retirer la double authentification de %(name)s ?", name=user.display_name)
    if (page := confirmation_page(question, None, _("Retirer"))) is not None:
        return page
    return _run(
        user,
        lambda: operations.remove_two_factor(actor, user, form.reason.data),
        _("La double authentification est retirée."),
    )


@blueprint.route("/admin/people/<int:user_id>/role", methods=["POST"])
@login_required
def set_role(user_id: int):
    actor = require_admin()
    user = _person(user_id)
    form = RoleForm()
    if not form.validate_on_submit() or form.role.data not in operations.ROLES:
        abort(400)
    granted = form.granted.data == "1"
    label = operations.ROLE_LABELS[form.role.data]
    if not granted:
        question = _(
            "Retirer le rôle « %(role)s » à %(name)s ?", role=label, name=user.display_name
        )
        if (page := confirmation_page(question, None, _("Retirer le rôle"))) is not None:
            return page
    return _run(
        user,
        lambda: operations.set_role(actor, user, form.role.data, granted),
        _("Rôle attribué.") if granted else _("Rôle retiré."),
    )


# -- CSV import --------------------------------------------------------------------------------


@blueprint.route("/admin/people/import", methods=["GET", "POST"])
@login_required
def import_people():
    """Upload a file: a dry run shows each line's outcome; « Créer les comptes » re-posts the
    same text (kept in the page) and creates the valid lines."""
    actor = require_admin()
    form = ImportForm()
    report, data, status = None, "", 200
    if form.validate_on_submit():
        confirmed = request.form.get("confirmed") == "1"
        try:
            data = _import_text(form, confirmed)
            report = importing.import_people(actor, data, dry_run=not confirmed)
        except OperationError as exc:
            db.session.rollback()
            form.file.errors = [*form.file.errors, str(exc)]
            status = 400
        else:
            if confirmed:
                db.session.commit()
    elif form.is_submitted():
        status = 400
    created = sum(1 for line in report or [] if line.outcome == importing.CREATED)
    return render_template(
        "people/import.html",
        form=form,
        report=report,
        data=data,
        confirmed=request.form.get("confirmed") == "1" and report is not None,
        valid=sum(1 for line in report or [] if line.ok),
        created=created,
        max_lines=importing.MAX_LINES,
    ), status


def _import_text(form: ImportForm, confirmed: bool) -> str:
    if confirmed:
        return request.form.get("data", "")
    upload = form.file.data
    if not (upload and getattr(upload, "filename", "")):
        raise OperationError(_("Choisissez un fichier CSV."))
    return importing.decode(upload.read(importing.MAX_BYTES + 1))
