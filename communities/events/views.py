"""Events over HTTP: the community's list, an event's page, creating, editing, cancelling,
deleting, answering (RSVP) and the per-event iCalendar file.

Thin handlers: parse, ask the permission policy, call an operation, render.  Every page works
without JavaScript (plain forms, redirects after POST).  A community whose events module is off
has no events pages (404); a secret community's events are a 404 to outsiders, a private one's
a 403 on its list and a 404 on each event, as for posts.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from maillage.communities import signals
from maillage.communities.events import feeds
from maillage.communities.events.blueprint import blueprint
from maillage.communities.events.forms import EventForm
from maillage.communities.events.models import Answer
from maillage.communities.events.operations import (
    EventFields,
    cancel_event,
    create_event,
    delete_event,
    edit_event,
    respond,
    waiting_position,
)
from maillage.communities.events.queries import (
    event_for_page,
    event_responses,
    open_polls,
    past_events,
    upcoming_events,
    viewer_answers,
)
from maillage.communities.events.times import format_when, split_local
from maillage.communities.modules import community_with_module
from maillage.communities.permissions import can
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer, page_number

PAGE_SIZE = 20

#: Why a visible object refuses an action (shown on the 403 page).
REFUSALS = {
    "read": _l("Les événements de cette communauté sont réservés à ses membres."),
    "post": _l("Seuls les membres de la communauté peuvent proposer un événement."),
    "edit": _l("Seuls l'organisateur et les animateurs peuvent modifier l'événement."),
    "cancel": _l("Seuls l'organisateur et les animateurs peuvent annuler l'événement."),
    "delete": _l("Seuls l'organisateur, les animateurs et les modérateurs peuvent le supprimer."),
    "rsvp": _l("Seuls les membres de la communauté peuvent répondre."),
    "answer": _l("Seuls les membres de la communauté peuvent répondre."),
    "close": _l("Seuls l'organisateur et les animateurs peuvent clore ce sondage de dates."),
}

ANSWER_LABELS = {
    Answer.YES: _l("Je participe"),
    Answer.MAYBE: _l("Peut-être"),
    Answer.NO: _l("Je ne participe pas"),
}


@blueprint.app_context_processor
def event_helpers() -> dict:
    return {"event_when": format_when, "rsvp_labels": ANSWER_LABELS}


# -- helpers shared by the events views --------------------------------------------------------


def community_or_404(slug: str):
    """The community, when the viewer may see it and its events module is on."""
    return community_with_module(slug, "events")


def require(action: str, obj) -> None:
    if not can(current_viewer(), action, obj):
        raise NotAllowed(REFUSALS[action])


def event_or_404(slug: str, event_id: int):
    event = event_for_page(event_id)
    if event is None or event.community.slug != slug:
        abort(404)
    community_or_404(slug)
    if not can(current_viewer(), "view", event):
        abort(404)
    return event


@contextmanager
def operation_errors(form):
    """An operation's refusal of the input becomes a message on ``form``; nothing is stored.
    A refusal of the person (403) stays an error page."""
    try:
        yield
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            raise
        form.form_errors.append(str(exc))


def pager_urls(endpoint: str, page, **values) -> dict:
    return {
        "page": page.page,
        "pages": page.pages,
        "previous_url": url_for(endpoint, page=page.page - 1, **values) if page.page > 1 else None,
        "next_url": url_for(endpoint, page=page.page + 1, **values)
        if page.page < page.pages
        else None,
    }


def ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# -- lists -------------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/events")
def index(slug: str):
    community = community_or_404(slug)
    require("read", community)
    viewer = current_viewer()
    page = upcoming_events(community, page_number(), PAGE_SIZE)
    feed_url = feeds.community_feed_url(community, viewer)
    return render_template(
        "events/index.html",
        community=community,
        page_title=_("Événements"),
        events=page.items,
        total=page.total,
        pagination=pager_urls(".index", page, slug=slug),
        answers=viewer_answers([event.id for event in page.items], viewer),
        polls=open_polls(community),
        feed_url=feed_url,
        webcal_url=feeds.webcal(feed_url) if feed_url else None,
        past=False,
    )


@blueprint.route("/c/<slug>/events/past")
def past(slug: str):
    community = community_or_404(slug)
    require("read", community)
    page = past_events(community, page_number(), PAGE_SIZE)
    return render_template(
        "events/index.html",
        community=community,
        page_title=_("Événements passés"),
        events=page.items,
        total=page.total,
        pagination=pager_urls(".past", page, slug=slug),
        answers=viewer_answers([event.id for event in page.items], current_viewer()),
        polls=[],
        feed_url=None,
        past=True,
    )


# -- one event ---------------------------------------------------------------------------------


@blueprint.route("/event/<int:event_id>")
def permalink(event_id: int):
    """The event's stable id (``ap_id``) leads to its page."""
    event = event_for_page(event_id)
    if event is None or not can(current_viewer(), "view", event):
        abort(404)  # never reveal a secret community's address
    return redirect(url_for(".show", slug=event.community.slug, event_id=event.id))


@blueprint.route("/c/<slug>/events/<int:event_id>")
def show(slug: str, event_id: int):
    event = event_or_404(slug, event_id)
    signals.content_viewed.send(event, community=event.community, user=current_viewer())
    return render_event_page(event)


def render_event_page(event, error: str | None = None, status: int = 200):
    viewer = current_viewer()
    mine = viewer_answers([event.id], viewer).get(event.id)
    return render_template(
        "events/show.html",
        event=event,
        community=event.community,
        responses=event_responses(event),
        mine=mine,
        position=waiting_position(mine) if mine is not None else None,
        can_rsvp=can(viewer, "rsvp", event),
        answers_open=not event.cancelled and utcnow() < event.starts_at,
        rsvp_error=error,
    ), status


@blueprint.route("/c/<slug>/events/<int:event_id>.ics")
def event_ics(slug: str, event_id: int):
    event = event_or_404(slug, event_id)
    return ics_response(feeds.calendar([event], event.title), f"evenement-{event.id}.ics")


@blueprint.route("/c/<slug>/events/<int:event_id>/rsvp", methods=["POST"])
@login_required
def rsvp(slug: str, event_id: int):
    event = event_or_404(slug, event_id)
    require("rsvp", event)
    try:
        answer = respond(event, current_user, request.form.get("answer", ""))
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            raise
        return render_event_page(event_for_page(event_id), str(exc), exc.status)
    db.session.commit()
    flash(_rsvp_message(answer), "success")
    return redirect(url_for(".show", slug=slug, event_id=event_id) + "#reponse")


def _rsvp_message(answer) -> str:
    if answer.answer == Answer.YES and answer.waitlisted:
        return _(
            "L'événement est complet : vous êtes sur la liste d'attente (position %(n)d). "
            "Vous serez prévenu si une place se libère.",
            n=waiting_position(answer),
        )
    if answer.answer == Answer.YES:
        return _("C'est noté : vous participez.")
    if answer.answer == Answer.MAYBE:
        return _("C'est noté : vous participerez peut-être.")
    return _("C'est noté : vous ne participez pas.")


# -- creating, editing, cancelling, deleting ---------------------------------------------------


def _fields(form: EventForm) -> EventFields:
    return EventFields(
        title=form.title.data,
        starts_at=form.starts_at,
        ends_at=form.ends_at,
        description=form.description.data or "",
        timezone=form.timezone.data,
        place=form.place.data or "",
        video_url=form.video_url.data or "",
        capacity=form.capacity.data,
    )


@blueprint.route("/c/<slug>/events/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    community = community_or_404(slug)
    require("post", community)
    form = EventForm()
    if form.validate_on_submit():
        with operation_errors(form):
            event = create_event(community, current_user, _fields(form))
            db.session.commit()
            flash(_("L'événement est publié."), "success")
            return redirect(url_for(".show", slug=slug, event_id=event.id))
    status = 400 if form.is_submitted() else 200
    return render_template("events/form.html", community=community, form=form, event=None), status


def _edit_form(event) -> EventForm:
    start_day, start_time = split_local(event.starts_at, event.timezone)
    end_day, end_time = split_local(event.ends_at, event.timezone)
    form = EventForm(
        data={
            "title": event.title,
            "description": event.description_source,
            "start_date": start_day,
            "start_time": start_time,
            "end_date": end_day,
            "end_time": end_time,
            "timezone": event.timezone,
            "place": event.place,
            "video_url": event.video_url,
            "capacity": event.capacity,
        }
    )
    form.set_timezone_choices(event.timezone)
    return form


@blueprint.route("/c/<slug>/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, event_id: int):
    event = event_or_404(slug, event_id)
    require("edit", event)
    if event.cancelled:
        flash(_("Cet événement est annulé : il ne peut plus être modifié."), "error")
        return redirect(url_for(".show", slug=slug, event_id=event.id))
    form = _edit_form(event)
    if form.validate_on_submit():
        with operation_errors(form):
            edit_event(event, current_user, _fields(form))
            db.session.commit()
            flash(_("L'événement a été modifié ; les participants sont prévenus."), "success")
            return redirect(url_for(".show", slug=slug, event_id=event.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "events/form.html", community=event.community, form=form, event=event
    ), status


@blueprint.route("/c/<slug>/events/<int:event_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(slug: str, event_id: int):
    """GET asks for confirmation (works without JavaScript); POST cancels."""
    event = event_or_404(slug, event_id)
    require("cancel", event)
    if request.method == "POST":
        question = _("Annuler l'événement « %(title)s » ?", title=event.title)
        label = _("Annuler l'événement")
        if (asked := confirmation_page(question, confirm_label=label)) is not None:
            return asked
        try:
            cancel_event(event, current_user)
        except OperationError as exc:
            db.session.rollback()
            if isinstance(exc, NotAllowed):
                raise
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("L'événement est annulé ; les participants sont prévenus."), "success")
        return redirect(url_for(".show", slug=slug, event_id=event.id))
    return render_template(
        "events/confirm.html",
        event=event,
        community=event.community,
        heading=_("Annuler l'événement « %(title)s » ?", title=event.title),
        action_url=url_for(".cancel", slug=slug, event_id=event.id),
        warning=_(
            "Les participants seront prévenus et l'événement apparaîtra comme annulé dans "
            "leurs agendas. Il ne pourra plus être modifié."
        ),
        button=_("Annuler l'événement"),
    )


@blueprint.route("/c/<slug>/events/<int:event_id>/delete", methods=["GET", "POST"])
@login_required
def delete(slug: str, event_id: int):
    """GET asks for confirmation; POST deletes."""
    event = event_or_404(slug, event_id)
    require("delete", event)
    if request.method == "POST":
        question = _("Supprimer l'événement « %(title)s » ?", title=event.title)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
        delete_event(event, current_user)
        db.session.commit()
        flash(_("L'événement a été supprimé."), "success")
        return redirect(url_for(".index", slug=slug))
    return render_template(
        "events/confirm.html",
        event=event,
        community=event.community,
        heading=_("Supprimer l'événement « %(title)s » ?", title=event.title),
        action_url=url_for(".delete", slug=slug, event_id=event.id),
        warning=_(
            "Les réponses des participants seront supprimées aussi. C'est définitif : pour "
            "prévenir les participants, annulez plutôt l'événement."
        ),
        button=_("Supprimer définitivement"),
    )
