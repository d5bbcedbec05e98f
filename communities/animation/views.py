"""Animation pages of a community: announcements, scheduled posts, monthly summaries.

Thin handlers: the community must be visible (404 otherwise, as everywhere), the viewer must
``animate`` it (403), then an operation does the work.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from maillage.communities.animation import operations, queries
from maillage.communities.animation.blueprint import blueprint
from maillage.communities.animation.forms import (
    AnnouncementForm,
    ScheduledPostForm,
    SendSummaryForm,
    SummaryForm,
    french_date_errors,
)
from maillage.communities.animation.models import ScheduledStatus
from maillage.communities.community.queries import community_by_slug
from maillage.communities.console import register_console_section
from maillage.communities.permissions import can
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer, flash_operation_errors

register_console_section(
    "announcements", _l("Annonces épinglées"), "animation.announcements", "animate", order=40
)
register_console_section(
    "scheduled", _l("Publications programmées"), "animation.scheduled", "animate", order=45
)
register_console_section(
    "summaries", _l("Résumé mensuel d'activité"), "animation.summaries", "animate", order=50
)

SCHEDULED_LABELS = {
    ScheduledStatus.SCHEDULED: _l("Programmée"),
    ScheduledStatus.PUBLISHED: _l("Publiée"),
    ScheduledStatus.CANCELLED: _l("Annulée"),
    ScheduledStatus.FAILED: _l("Échec"),
}


@blueprint.app_template_global("pinned_announcements")
def _pinned_announcements(community) -> list:
    """The announcements pinned on a community page, if the viewer may read its content."""
    if community is None or not can(current_viewer(), "read", community):
        return []
    return queries.pinned_announcements(community)


@blueprint.context_processor
def _labels() -> dict:
    return {"SCHEDULED_LABELS": SCHEDULED_LABELS}


def _community(slug: str):
    community = community_by_slug(slug)
    if community is None or not can(current_viewer(), "view", community):
        abort(404)
    if not can(current_viewer(), "animate", community):
        abort(403)
    return community


# -- announcements -----------------------------------------------------------------------------


@blueprint.route("/c/<slug>/announcements", methods=["GET", "POST"])
@login_required
def announcements(slug: str):
    community = _community(slug)
    form = AnnouncementForm()
    if form.validate_on_submit():
        with flash_operation_errors(form):
            operations.create_announcement(
                community,
                current_viewer(),
                form.title.data,
                form.body.data,
                pinned_until=form.pinned_until_utc(),
                send_email=form.send_email.data,
            )
            db.session.commit()
            if form.send_email.data:
                flash(_("L'annonce est épinglée ; l'e-mail part aux membres."), "success")
            else:
                flash(_("L'annonce est épinglée."), "success")
            return redirect(url_for(".announcements", slug=community.slug), 303)
    french_date_errors(form)
    return render_template(
        "animation/announcements.html",
        community=community,
        form=form,
        announcements=queries.announcements(community),
        page_title=_("Annonces de « %(name)s »", name=community.name),
    ), 400 if form.is_submitted() else 200


@blueprint.post("/c/<slug>/announcements/<int:announcement_id>/unpin")
@login_required
def unpin(slug: str, announcement_id: int):
    community = _community(slug)
    announcement = queries.announcement_in(community, announcement_id)
    if announcement is None:
        abort(404)
    operations.unpin_announcement(announcement, current_viewer())
    db.session.commit()
    flash(_("L'annonce « %(title)s » n'est plus épinglée.", title=announcement.title), "success")
    return redirect(url_for(".announcements", slug=community.slug), 303)


# -- scheduled posts ---------------------------------------------------------------------------


@blueprint.route("/c/<slug>/scheduled", methods=["GET", "POST"])
@login_required
def scheduled(slug: str):
    community = _community(slug)
    form = ScheduledPostForm()
    if form.validate_on_submit():
        with flash_operation_errors(form):
            operations.schedule_post(
                community, current_viewer(), form.title.data, form.body.data, form.publish_at()
            )
            db.session.commit()
            flash(_("La publication est programmée."), "success")
            return redirect(url_for(".scheduled", slug=community.slug), 303)
    french_date_errors(form)
    return render_template(
        "animation/scheduled.html",
        community=community,
        form=form,
        scheduled_posts=queries.scheduled_posts(community),
        page_title=_("Publications programmées de « %(name)s »", name=community.name),
    ), 400 if form.is_submitted() else 200


def _scheduled_post(community, scheduled_id: int):
    scheduled_post = queries.scheduled_post_in(community, scheduled_id)
    if scheduled_post is None:
        abort(404)
    return scheduled_post


@blueprint.route("/c/<slug>/scheduled/<int:scheduled_id>", methods=["GET", "POST"])
@login_required
def edit_scheduled(slug: str, scheduled_id: int):
    community = _community(slug)
    scheduled_post = _scheduled_post(community, scheduled_id)
    local = scheduled_post.publish_at.astimezone(_zone())
    form = ScheduledPostForm(
        data={
            "title": scheduled_post.title,
            "body": scheduled_post.body,
            "day": local.date(),
            "time": local.time().replace(second=0, microsecond=0),
        }
    )
    if form.validate_on_submit():
        with flash_operation_errors(form):
            operations.update_scheduled_post(
                scheduled_post,
                current_viewer(),
                form.title.data,
                form.body.data,
                form.publish_at(),
            )
            db.session.commit()
            flash(_("La publication programmée est modifiée."), "success")
            return redirect(url_for(".scheduled", slug=community.slug), 303)
    french_date_errors(form)
    return render_template(
        "animation/scheduled_edit.html",
        community=community,
        form=form,
        scheduled_post=scheduled_post,
        page_title=_("Modifier une publication programmée"),
    ), 400 if form.is_submitted() else 200


def _zone():
    from maillage.communities.animation.forms import local_zone

    return local_zone()


@blueprint.post("/c/<slug>/scheduled/<int:scheduled_id>/cancel")
@login_required
def cancel_scheduled(slug: str, scheduled_id: int):
    community = _community(slug)
    scheduled_post = _scheduled_post(community, scheduled_id)
    question = _("Annuler la publication programmée « %(title)s » ?", title=scheduled_post.title)
    label = _("Annuler la publication")
    if (asked := confirmation_page(question, confirm_label=label)) is not None:
        return asked
    with flash_operation_errors():
        operations.cancel_scheduled_post(scheduled_post, current_viewer())
        db.session.commit()
        flash(_("La publication programmée est annulée."), "success")
        return redirect(url_for(".scheduled", slug=community.slug), 303)
    return render_template(
        "animation/scheduled.html",
        community=community,
        form=ScheduledPostForm(formdata=None),
        scheduled_posts=queries.scheduled_posts(community),
        page_title=_("Publications programmées de « %(name)s »", name=community.name),
    ), 409


# -- monthly summaries -------------------------------------------------------------------------


@blueprint.get("/c/<slug>/summaries")
@login_required
def summaries(slug: str):
    community = _community(slug)
    start, _end = operations.previous_month()
    return render_template(
        "animation/summaries.html",
        community=community,
        summaries=queries.summaries(community),
        last_month=start,
        page_title=_("Résumés mensuels de « %(name)s »", name=community.name),
    )


@blueprint.post("/c/<slug>/summaries")
@login_required
def draft_summary(slug: str):
    community = _community(slug)
    month = request.form.get("month", "")
    start = None
    if month:
        try:
            start = dt.date.fromisoformat(f"{month}-01")
        except ValueError:
            flash(_("Mois invalide (format attendu : AAAA-MM)."), "error")
            return redirect(url_for(".summaries", slug=community.slug), 303)
    summary = operations.draft_summary(community, current_viewer(), start)
    db.session.commit()
    return redirect(url_for(".summary", slug=community.slug, summary_id=summary.id), 303)


def _summary(community, summary_id: int):
    summary = queries.summary_in(community, summary_id)
    if summary is None:
        abort(404)
    return summary


@blueprint.route("/c/<slug>/summaries/<int:summary_id>", methods=["GET", "POST"])
@login_required
def summary(slug: str, summary_id: int):
    community = _community(slug)
    summary = _summary(community, summary_id)
    form = SummaryForm(data={"subject": summary.subject, "body": summary.body})
    if form.validate_on_submit():
        with flash_operation_errors(form):
            operations.edit_summary(summary, current_viewer(), form.subject.data, form.body.data)
            db.session.commit()
            flash(_("Le résumé est enregistré."), "success")
            return redirect(url_for(".summary", slug=community.slug, summary_id=summary.id), 303)
    return render_template(
        "animation/summary.html",
        community=community,
        summary=summary,
        form=form,
        send_form=SendSummaryForm(formdata=None),
        page_title=_("Résumé d'activité"),
    ), 400 if form.is_submitted() else 200


@blueprint.post("/c/<slug>/summaries/<int:summary_id>/send")
@login_required
def send_summary(slug: str, summary_id: int):
    community = _community(slug)
    summary = _summary(community, summary_id)
    form = SendSummaryForm()
    if not form.validate_on_submit():
        abort(400)
    with flash_operation_errors():
        operations.send_summary(summary, current_viewer(), resend=form.resend.data)
        db.session.commit()
        flash(_("Le résumé part par e-mail aux membres."), "success")
        return redirect(url_for(".summary", slug=community.slug, summary_id=summary.id), 303)
    return render_template(
        "animation/summary.html",
        community=community,
        summary=summary,
        form=SummaryForm(data={"subject": summary.subject, "body": summary.body}),
        send_form=form,
        page_title=_("Résumé d'activité"),
    ), 409
