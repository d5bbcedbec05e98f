"""Deleting one's account from *Mon compte*, and the administrators' side of the same path.

Proof that the person at the keyboard owns the account: the password of a local account; for an
account without password (SSO only), an authentication by their provider in the last
:data:`REAUTH_WINDOW`: « Se reconnecter » asks the OIDC provider for a new sign-in
(``prompt=login``) and the way back checks its ``auth_time`` (maillage.auth.oidc.reauth); for
other providers (LDAP) every sign-in stores its time in the session (``auth_signed_in_at``,
written by auth.local on Flask-Login's ``user_logged_in``), and « Se reconnecter » ends this
session and sends the person through the sign-in page back here.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from maillage.auth.passwords import verify_password
from maillage.auth.session import end_session
from maillage.communities.users.models import User
from maillage.platform.account_deletion import operations
from maillage.platform.account_deletion.blueprint import blueprint
from maillage.platform.account_deletion.forms import (
    AdminDeleteForm,
    DeleteAccountForm,
    SsoDeleteAccountForm,
)
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer, require_admin

#: How recent an SSO sign-in must be to count as re-authentication.
REAUTH_WINDOW = dt.timedelta(minutes=5)
SIGNED_IN_AT_KEY = "auth_signed_in_at"


def _recently_signed_in() -> bool:
    from maillage.auth.oidc.reauth import fresh_authentication

    # An account known to an OIDC provider: when that provider last authenticated the person
    # (its auth_time), not when this session opened (a silent single sign-on proves nothing).
    fresh = fresh_authentication(current_viewer(), REAUTH_WINDOW)
    if fresh is not None:
        return fresh
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    if not isinstance(signed_in_at, int):
        return False
    moment = dt.datetime.fromtimestamp(signed_in_at, dt.UTC)
    return dt.datetime.now(dt.UTC) - moment <= REAUTH_WINDOW


def _form(user: User):
    return DeleteAccountForm() if user.password_hash else SsoDeleteAccountForm()


def _render(user: User, form=None, refusal=None, status: int = 200):
    return (
        render_template(
            "account_deletion/delete.html",
            form=form or _form(user),
            refusal=refusal,
            owned=operations.last_owned_communities(user) if refusal is None else [],
            sso_only=not user.password_hash,
            recently_signed_in=_recently_signed_in(),
            may_cancel=operations.may_cancel(user, user),
            delay_days=operations.delay().days,
        ),
        status,
    )


@blueprint.route("/account/delete", methods=["GET"])
@login_required
def page():
    return _render(current_viewer())


@blueprint.route("/account/delete", methods=["POST"])
@login_required
def request_deletion():
    user = current_viewer()
    form = _form(user)
    if not form.validate_on_submit():
        return _render(user, form, status=400)
    if user.password_hash:
        if not verify_password(user.password_hash, form.password.data):
            form.password.errors.append(_("Mot de passe incorrect."))
            return _render(user, form, status=400)
    elif not _recently_signed_in():
        flash(_("Reconnectez-vous avec votre organisation pour confirmer."), "error")
        return _render(user, form, status=400)
    try:
        operations.request_deletion(user, form.erasure.data, requested_by=user)
    except operations.DeletionRefused as refusal:
        db.session.rollback()
        return _render(user, form, refusal=refusal, status=409)
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _render(user, form, status=400)
    db.session.commit()
    flash(
        _("La suppression de votre compte est programmée. Vous pouvez l'annuler jusque-là."),
        "success",
    )
    return redirect(url_for("account_deletion.page"))


@blueprint.route("/account/delete/reauthenticate", methods=["POST"])
@login_required
def reauthenticate():
    """A new sign-in at the person's OIDC provider (``prompt=login``, its ``auth_time`` checked
    on the way back); for other accounts, end this session and sign in again to come back."""
    from maillage.auth.oidc.views import start_reauthentication

    response = start_reauthentication(current_viewer(), url_for("account_deletion.page"))
    if response is not None:
        return response
    end_session()
    return redirect(url_for("auth.login", next=url_for("account_deletion.page")))


@blueprint.route("/account/delete/cancel", methods=["POST"])
@login_required
def cancel():
    user = current_viewer()
    try:
        operations.cancel_deletion(user, user)
    except OperationError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(str(exc), "error")
        return redirect(url_for("account_deletion.page"))
    db.session.commit()
    flash(_("La suppression de votre compte est annulée."), "success")
    return redirect(url_for("account_deletion.page"))


# -- administrators ----------------------------------------------------------------------------


def _person(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None or not person.local or person.deleted_at is not None:
        abort(404)
    return person


@blueprint.route("/admin/account-deletions")
@login_required
def admin_list():
    require_admin()
    pending = db.session.scalars(
        select(User)
        .where(User.deletion_due_at.isnot(None), User.deleted_at.is_(None))
        .order_by(User.deletion_due_at, User.id)
    ).all()
    return render_template("account_deletion/admin_list.html", pending=pending)


@blueprint.route("/admin/people/<int:user_id>/delete", methods=["POST"])
@login_required
def admin_request(user_id: int):
    admin = require_admin()
    person = _person(user_id)
    form = AdminDeleteForm()
    if not form.validate_on_submit():
        flash(_("Indiquez le motif de la suppression."), "error")
        return redirect(request.referrer or url_for("account_deletion.admin_list"))
    question = _("Supprimer le compte de %(name)s ?", name=person.display_name)
    details = _(
        "La personne est prévenue par e-mail ; son compte est anonymisé dans %(days)d jours, "
        "sauf annulation par un administrateur. Ses contributions restent, signées « Ancien "
        "membre ».",
        days=operations.delay().days,
    )
    if (confirm := confirmation_page(question, details, _("Supprimer le compte"))) is not None:
        return confirm
    try:
        operations.request_deletion(person, requested_by=admin, reason=form.reason.data.strip())
    except OperationError as exc:
        db.session.rollback()
        return render_template(
            "account_deletion/admin_refused.html",
            person=person,
            message=str(exc),
            communities=getattr(exc, "communities", []),
        ), 409
    db.session.commit()
    flash(_("La suppression du compte est programmée."), "success")
    return redirect(url_for("account_deletion.admin_list"))


@blueprint.route("/admin/people/<int:user_id>/delete/cancel", methods=["POST"])
@login_required
def admin_cancel(user_id: int):
    admin = require_admin()
    person = _person(user_id)
    try:
        operations.cancel_deletion(person, admin)
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("account_deletion.admin_list"))
    db.session.commit()
    flash(_("La suppression du compte est annulée."), "success")
    return redirect(url_for("account_deletion.admin_list"))
