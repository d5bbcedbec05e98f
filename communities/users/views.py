"""People pages: a person's profile, editing one's own profile, the member directory."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from maillage.communities.community.labels import ORGANISATION_KINDS, ROLES
from maillage.communities.permissions import can
from maillage.communities.users import queries
from maillage.communities.users.blueprint import blueprint
from maillage.communities.users.forms import DirectoryFilterForm, ProfileForm
from maillage.communities.users.operations import update_profile
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.views_util import current_viewer, page_number


@blueprint.context_processor
def _labels() -> dict:
    return {"KIND_LABELS": ORGANISATION_KINDS, "ROLE_LABELS": ROLES}


@blueprint.route("/u/<username>")
def profile(username: str):
    viewer = current_viewer()
    person = queries.user_by_username(username)
    if person is None or person.deleted_at is not None or not can(viewer, "view", person):
        abort(404)
    # The training space owns certificates and the ambassador role (read only here).
    from maillage.communities.training.forms import ConfirmForm
    from maillage.communities.training.queries import certificates_of

    return render_template(
        "users/profile.html",
        person=person,
        communities=queries.visible_communities_of(person, viewer),
        posts=queries.recent_posts_by(person, viewer),
        is_me=viewer is not None and viewer.id == person.id,
        certificates=certificates_of(person),
        can_name_ambassadors=can(viewer, "manage_ambassadors"),
        ambassador_form=ConfirmForm(),
    )


@blueprint.route("/account/profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    user = current_user._get_current_object()
    if not can(user, "edit", user):
        abort(403)
    form = ProfileForm(
        data={
            "display_name": user.display_name,
            "job_title": user.job_title,
            "bio": user.bio,
            "organisation": user.organisation_id,
        }
    )
    form.organisation.load(queries.organisations())
    if form.validate_on_submit() and _save_profile(user, form):
        flash(_("Votre profil a été mis à jour."), "success")
        return redirect(url_for(".profile", username=user.username))
    status = 400 if form.is_submitted() else 200
    return render_template("users/edit_profile.html", form=form), status


def _save_profile(user, form: ProfileForm) -> bool:
    try:
        update_profile(
            user,
            form.display_name.data,
            form.job_title.data or "",
            form.bio.data or "",
            form.organisation.organisation,
        )
    except OperationError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return False
    db.session.commit()
    return True


def _valid_filters(form: DirectoryFilterForm) -> dict:
    """The filters the visitor chose, leaving out any that did not validate."""
    form.validate()
    return {
        "q": form.q.data if not form.q.errors else "",
        "kind": form.kind.data if not form.kind.errors else "",
        "organisation": form.organisation.data if not form.organisation.errors else None,
    }


@blueprint.route("/members")
def directory():
    form = DirectoryFilterForm(formdata=request.args)
    form.organisation.load(queries.organisations())
    filters = _valid_filters(form)
    result = queries.directory(
        query=filters["q"] or "",
        kind=filters["kind"] or "",
        organisation_id=filters["organisation"],
        page=page_number(),
        per_page=current_app.config["DIRECTORY_PAGE_SIZE"],
    )
    active = {key: value for key, value in filters.items() if value}
    return render_template(
        "users/directory.html",
        form=form,
        result=result,
        filtered=bool(active),
        page_url=lambda page: url_for(".directory", page=page, **active),
    )
