"""« Communautés d'autres instances »: follow a remote community, see the follows' state."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from maillage.federation.outgoing import operations
from maillage.federation.outgoing.blueprint import blueprint
from maillage.federation.outgoing.forms import FollowRemoteForm
from maillage.federation.outgoing.models import RemoteFollow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer


def _page(form: FollowRemoteForm, status: int = 200):
    viewer = current_viewer()
    return render_template(
        "federation/follow.html",
        form=form,
        follows=operations.followed_communities(viewer),
    ), status


@blueprint.get("/federation/follow")
@login_required
def follow_page():
    return _page(FollowRemoteForm())


@blueprint.post("/federation/follow")
@login_required
def follow():
    form = FollowRemoteForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        follow = operations.follow_remote(current_viewer(), form.handle.data)
    except OperationError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        form.handle.errors = [*form.handle.errors, str(exc)]
        return _page(form, 422 if exc.status == 400 else exc.status)
    db.session.commit()
    flash(
        _(
            "Demande envoyée à « %(name)s » : vous en serez membre dès que la communauté "
            "l'aura acceptée.",
            name=follow.community.name,
        ),
        "success",
    )
    return redirect(url_for(".follow_page"))


@blueprint.post("/federation/follow/<int:follow_id>/unfollow")
@login_required
def unfollow(follow_id: int):
    viewer = current_viewer()
    follow = db.session.get(RemoteFollow, follow_id)
    if follow is None or follow.user_id != viewer.id:
        abort(404)
    name = follow.community.name
    question = _("Ne plus suivre « %(name)s » ?", name=name)
    if (asked := confirmation_page(question, confirm_label=_("Ne plus suivre"))) is not None:
        return asked
    try:
        operations.unfollow_remote(viewer, follow.community)
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".follow_page"))
    db.session.commit()
    flash(_("Vous ne suivez plus « %(name)s ».", name=name), "success")
    return redirect(url_for(".follow_page"))
