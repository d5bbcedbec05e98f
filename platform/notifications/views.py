"""The bell, the notifications page, preferences and the one-click unsubscribe link.

Every page works without JavaScript (plain forms, redirects after POST); with HTMX the "mark read"
buttons answer with the fragment to swap in and refresh the bell out of band.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from maillage.communities.community.models import Community
from maillage.communities.community.queries import my_communities
from maillage.communities.users.models import User
from maillage.platform.errors import render_error
from maillage.platform.extensions import csrf, db
from maillage.platform.notifications import operations
from maillage.platform.notifications.blueprint import blueprint
from maillage.platform.notifications.forms import field_name, preferences_form
from maillage.platform.notifications.labels import REASON_LABELS
from maillage.platform.notifications.queries import (
    forget_unread_count,
    instance_default_mode,
    notification_of,
    notification_page,
    preferences_of,
    unread_count_for_request,
)
from maillage.platform.notifications.tokens import ExpiredToken, InvalidToken, read_token
from maillage.platform.views_util import current_viewer, flash_operation_errors, is_htmx

PAGE_SIZE = 30


@blueprint.app_context_processor
def notification_helpers() -> dict:
    """``unread_notification_count()`` for the header: queried only by pages that show the bell,
    once per request."""
    return {
        "unread_notification_count": lambda: unread_count_for_request(current_viewer()),
        "notification_reason_labels": REASON_LABELS,
    }


# -- the list ----------------------------------------------------------------------------------


@blueprint.route("/notifications")
@login_required
def index():
    cursor = request.args.get("after")
    page = notification_page(current_user, cursor, PAGE_SIZE)
    return render_template(
        "notifications/index.html",
        page=page,
        cursor=cursor,
        next_url=url_for(".index", after=page.next_cursor) if page.next_cursor else None,
    )


@blueprint.route("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Follow a notice: it is marked read, then the person lands on its page."""
    notification = notification_of(current_user, notification_id)
    if notification is None:
        abort(404)
    if operations.mark_read(notification, current_user):
        db.session.commit()
    return redirect(operations.safe_path(notification.url) or url_for(".index"))


@blueprint.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    notification = notification_of(current_user, notification_id)
    if notification is None:
        abort(404)
    operations.mark_read(notification, current_user)
    db.session.commit()
    forget_unread_count()
    if is_htmx():
        return render_template("notifications/_item_read.html", notification=notification)
    return redirect(_back_to_list())


@blueprint.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    count = operations.mark_all_read(current_user)
    db.session.commit()
    forget_unread_count()
    if is_htmx():
        page = notification_page(current_user, None, PAGE_SIZE)
        return render_template(
            "notifications/_list_refreshed.html",
            page=page,
            next_url=url_for(".index", after=page.next_cursor) if page.next_cursor else None,
        )
    if count:
        flash(_("Toutes vos notifications sont marquées comme lues."), "success")
    return redirect(_back_to_list())


def _back_to_list() -> str:
    cursor = request.form.get("after") or None
    return url_for(".index", after=cursor) if cursor else url_for(".index")


# -- preferences -------------------------------------------------------------------------------


@blueprint.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    viewer = current_viewer()
    communities = my_communities(viewer)
    default, chosen = preferences_of(viewer)
    form = preferences_form(communities, default or instance_default_mode(), chosen)
    if form.validate_on_submit():
        modes = {c: form[field_name(c)].data or None for c in communities}
        with flash_operation_errors(form):
            operations.save_preferences(viewer, viewer, form.default_mode.data, modes)
            db.session.commit()
            flash(_("Vos préférences de notification sont enregistrées."), "success")
            return redirect(url_for(".preferences"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "notifications/preferences.html",
        form=form,
        communities=communities,
        field_name=field_name,
    ), status


# -- one-click unsubscribe (RFC 8058) ----------------------------------------------------------


@blueprint.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail programs POST without a session (RFC 8058)
def unsubscribe(token: str):
    """GET asks for confirmation (a link scanner must not unsubscribe anyone); POST does it."""
    try:
        target = read_token(token)
    except ExpiredToken:
        return render_error(
            400,
            _l(
                "Ce lien de désabonnement a expiré. Connectez-vous pour régler vos "
                "notifications dans vos préférences."
            ),
        )
    except InvalidToken:
        return render_error(400, _l("Ce lien de désabonnement n'est pas valide."))
    user = db.session.get(User, target.user_id)
    community = (
        db.session.get(Community, target.community_id) if target.community_id is not None else None
    )
    if user is None or (target.community_id is not None and community is None):
        return render_error(404)
    if request.method == "POST":
        operations.unsubscribe(user, community)
        db.session.commit()
        return render_template("notifications/unsubscribed.html", user=user, community=community)
    return render_template(
        "notifications/unsubscribe.html", user=user, community=community, token=token
    )
