from __future__ import annotations

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from maillage.communities.community.queries import my_communities, suggested_communities
from maillage.communities.permissions import can
from maillage.communities.posts.queries import home_feed, reaction_summary
from maillage.communities.users.operations import set_locale
from maillage.platform.extensions import db
from maillage.platform.portal.blueprint import blueprint
from maillage.platform.portal.forms import AnnouncementForm
from maillage.platform.portal.operations import publish_announcement
from maillage.platform.portal.queries import current_announcements
from maillage.platform.views_util import current_viewer, flash_operation_errors, safe_next_url


@blueprint.route("/")
def home():
    viewer = current_viewer()
    page = home_feed(viewer, request.args.get("after"), current_app.config["FEED_PAGE_SIZE"])
    return render_template(
        "portal/home.html",
        page=page,
        reactions=reaction_summary([post.id for post in page.items], viewer),
        announcements=current_announcements(),
        communities=my_communities(viewer) if viewer else [],
        suggestions=suggested_communities(viewer),
        next_url=url_for(".home", after=page.next_cursor) if page.next_cursor else None,
    )


@blueprint.route("/announcements/new", methods=["GET", "POST"])
@login_required
def new_announcement():
    if not can(current_user, "announce"):
        return render_template(
            "errors/error.html",
            status=403,
            title=_l("Accès refusé"),
            message=_l("Réservé aux administrateurs."),
        ), 403
    form = AnnouncementForm()
    if form.validate_on_submit():
        with flash_operation_errors(form):
            publish_announcement(
                current_user, form.title.data, form.body.data, expires_at=form.expires_at()
            )
            db.session.commit()
            flash(_("L'annonce est publiée."), "success")
            return redirect(url_for(".home"))
    status = 400 if form.is_submitted() else 200
    return render_template("portal/announcement_form.html", form=form), status


@blueprint.route("/lang", methods=["POST"])
def set_language():
    lang = request.form.get("lang", "")
    response = redirect(safe_next_url(request.form.get("next")) or url_for(".home"))
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie(
            "lang",
            lang,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
        if current_user.is_authenticated:
            set_locale(current_user, lang)
            db.session.commit()
    return response


@blueprint.route("/theme.css")
def theme_css():
    config = current_app.config
    css = (
        f":root {{ --brand: {_css_colour(config['BRAND_COLOR'])}; "
        f"--brand-text: {_css_colour(config['BRAND_COLOR_TEXT'])}; }}\n"
    )
    response = Response(css, mimetype="text/css")
    response.cache_control.public, response.cache_control.max_age = True, 3600
    return response


def _css_colour(value: str) -> str:
    """Only #rgb/#rrggbb colours reach the stylesheet (configuration is not trusted as CSS)."""
    value = value.strip()
    hex_digits = value[1:]
    if (
        value.startswith("#")
        and len(hex_digits) in (3, 6)
        and all(c in "0123456789abcdefABCDEF" for c in hex_digits)
    ):
        return value
    return "#000091"
