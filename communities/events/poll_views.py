"""Date polls over HTTP: proposing slots, answering per slot, the results table, closing."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from maillage.communities.events.blueprint import blueprint
from maillage.communities.events.date_polls import (
    DatePollFields,
    answer_date_poll,
    close_date_poll,
    create_date_poll,
)
from maillage.communities.events.forms import ClosePollForm, DatePollForm
from maillage.communities.events.models import Availability
from maillage.communities.events.queries import poll_for_page, poll_results
from maillage.communities.events.times import format_when
from maillage.communities.events.views import community_or_404, operation_errors, require
from maillage.communities.permissions import can
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.views_util import current_viewer


def _labels() -> dict:
    return {
        Availability.YES: _("Oui"),
        Availability.IF_NEED_BE: _("Si besoin"),
        Availability.NO: _("Non"),
    }


def poll_or_404(slug: str, poll_id: int):
    poll = poll_for_page(poll_id)
    if poll is None or poll.community.slug != slug:
        abort(404)
    community_or_404(slug)
    if not can(current_viewer(), "view", poll):
        abort(404)
    return poll


@blueprint.route("/c/<slug>/events/polls/new", methods=["GET", "POST"])
@login_required
def new_poll(slug: str):
    community = community_or_404(slug)
    require("post", community)
    form = DatePollForm()
    if form.validate_on_submit():
        with operation_errors(form):
            poll = create_date_poll(
                community,
                current_user,
                DatePollFields(
                    title=form.title.data,
                    slots=form.slot_times,
                    description=form.description.data or "",
                    timezone=form.timezone.data,
                    place=form.place.data or "",
                    video_url=form.video_url.data or "",
                ),
            )
            db.session.commit()
            flash(_("Le sondage de dates est ouvert : les membres peuvent répondre."), "success")
            return redirect(url_for(".show_poll", slug=slug, poll_id=poll.id))
    status = 400 if form.is_submitted() else 200
    return render_template("events/poll_form.html", community=community, form=form), status


def _close_form(poll, formdata=None) -> ClosePollForm:
    form = ClosePollForm(formdata=formdata)
    form.slot.choices = [
        SelectChoice(value=slot.id, label=format_when(slot.starts_at, slot.ends_at, poll.timezone))
        for slot in poll.slots
    ]
    return form


def render_poll_page(poll, *, error=None, close_form=None, status=200, submitted=None):
    viewer = current_viewer()
    results = poll_results(poll)
    mine = next((answers for person, answers in results.rows if person == viewer), {})
    if submitted is not None:
        mine = {**mine, **submitted}
    can_close = poll.is_open and can(viewer, "close", poll)
    if can_close and close_form is None:
        close_form = _close_form(poll, formdata=None)
    best = max(
        poll.slots,
        key=lambda slot: (
            results.totals.get(slot.id, {}).get(Availability.YES, 0)
            + results.totals.get(slot.id, {}).get(Availability.IF_NEED_BE, 0),
            results.totals.get(slot.id, {}).get(Availability.YES, 0),
        ),
        default=None,
    )
    return render_template(
        "events/poll.html",
        poll=poll,
        community=poll.community,
        results=results,
        mine=mine,
        best=best if results.rows else None,
        labels=_labels(),
        can_answer=poll.is_open and can(viewer, "answer", poll),
        close_form=close_form if can_close else None,
        answer_error=error,
    ), status


@blueprint.route("/c/<slug>/events/polls/<int:poll_id>")
def show_poll(slug: str, poll_id: int):
    return render_poll_page(poll_or_404(slug, poll_id))


@blueprint.route("/c/<slug>/events/polls/<int:poll_id>/answer", methods=["POST"])
@login_required
def answer_poll(slug: str, poll_id: int):
    poll = poll_or_404(slug, poll_id)
    require("answer", poll)
    answers = {
        slot.id: request.form[f"slot-{slot.id}"]
        for slot in poll.slots
        if request.form.get(f"slot-{slot.id}")
    }
    try:
        answer_date_poll(poll, current_user, answers)
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            raise
        poll = poll_for_page(poll_id)
        return render_poll_page(poll, error=str(exc), status=exc.status, submitted=answers)
    db.session.commit()
    flash(_("Vos disponibilités sont enregistrées."), "success")
    return redirect(url_for(".show_poll", slug=slug, poll_id=poll.id) + "#resultats")


@blueprint.route("/c/<slug>/events/polls/<int:poll_id>/close", methods=["POST"])
@login_required
def close_poll(slug: str, poll_id: int):
    poll = poll_or_404(slug, poll_id)
    require("close", poll)
    form = _close_form(poll, formdata=request.form)
    if form.validate():
        with operation_errors(form):
            event = close_date_poll(poll, current_user, form.slot.data, form.capacity.data)
            db.session.commit()
            flash(_("Le sondage est clos et l'événement est créé."), "success")
            return redirect(url_for(".show", slug=slug, event_id=event.id))
        poll = poll_for_page(poll_id)
        if not poll.is_open:
            return render_poll_page(poll, error=form.form_errors[0], status=400)
    return render_poll_page(poll, close_form=form, status=400)
