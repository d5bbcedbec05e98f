"""Polls over HTTP: thin handlers that parse, ask the permission policy, call an operation and
render.  Everything works without JavaScript (plain links and forms, redirects after POST).

Every URL lives under ``/c/<slug>/polls`` and answers 404 when the community is invisible to the
viewer, when the module is switched off there, or when the poll is unknown (or not in that
community).  A private community's polls ask outsiders to sign in, or refuse them (403).
"""

from __future__ import annotations

import math

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from maillage.communities.modules import community_with_module, require_module
from maillage.communities.permissions import can
from maillage.communities.polls import operations, queries
from maillage.communities.polls.blueprint import blueprint
from maillage.communities.polls.forms import PollForm
from maillage.communities.polls.operations import MODULE
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db, login_manager
from maillage.platform.views_util import confirmation_page, current_viewer, page_number

POLLS_PAGE_SIZE = 20

STATE_LABELS = {
    queries.ALL: _l("Tous"),
    queries.OPEN: _l("Ouverts"),
    queries.CLOSED: _l("Clos"),
}

#: Why a visible object refuses an action (shown on the 403 page).
REFUSALS = {
    "read": _l("Les sondages de cette communauté sont réservés à ses membres."),
    "post": _l("Seuls les membres de la communauté peuvent créer un sondage."),
    "vote": _l("Seuls les membres de la communauté peuvent voter."),
    "close": _l("Seuls l'auteur du sondage et les modérateurs de la communauté peuvent le clore."),
    "delete": _l(
        "Seuls l'auteur du sondage et les modérateurs de la communauté peuvent le supprimer."
    ),
}


# -- helpers -----------------------------------------------------------------------------------


def _community(slug: str):
    """The community, when the viewer may know it exists and its polls are on (else 404)."""
    return community_with_module(slug, MODULE)


def _readable_community(slug: str):
    community = _community(slug)
    if not can(current_viewer(), "read", community):
        _signed_in()
        raise NotAllowed(REFUSALS["read"])
    return community


def _poll(slug: str, poll_id: int):
    community = _community(slug)
    poll = queries.poll_in(community, poll_id)
    if poll is None:
        abort(404)
    if not can(current_viewer(), "view", poll):
        _signed_in()
        raise NotAllowed(REFUSALS["read"])
    return poll


def _signed_in() -> None:
    """Sign-in comes after the visibility checks, so that an invisible community stays a 404."""
    if current_viewer() is None:
        abort(login_manager.unauthorized())


def _require(action: str, obj) -> None:
    _signed_in()
    if not can(current_viewer(), action, obj):
        raise NotAllowed(REFUSALS[action])


def _poll_url(poll, anchor: str = "") -> str:
    url = url_for(".show", slug=poll.community.slug, poll_id=poll.id)
    return url + (f"#{anchor}" if anchor else "")


# -- the list ----------------------------------------------------------------------------------


@blueprint.get("/c/<slug>/polls")
def index(slug: str):
    community = _readable_community(slug)
    viewer = current_viewer()
    state = request.args.get("etat", queries.ALL)
    if state not in queries.STATES:
        state = queries.ALL
    page = page_number()
    polls, total = queries.poll_page(community, state, page, POLLS_PAGE_SIZE)
    pages = max(1, math.ceil(total / POLLS_PAGE_SIZE))
    args = {"etat": state} if state != queries.ALL else {}

    def link(number: int) -> str:
        return url_for(".index", slug=community.slug, page=number, **args)

    return render_template(
        "polls/index.html",
        community=community,
        polls=polls,
        total=total,
        state=state,
        state_labels=STATE_LABELS,
        voted=queries.voted_poll_ids(viewer, [poll.id for poll in polls]),
        pagination={
            "page": page,
            "pages": pages,
            "previous_url": link(page - 1) if page > 1 else None,
            "next_url": link(page + 1) if page < pages else None,
        },
    )


# -- creating ----------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/polls/new", methods=["GET", "POST"])
def new(slug: str):
    community = _readable_community(slug)
    _require("post", community)
    form = PollForm()
    if request.method == "POST" and "add_question" in request.form:
        # Without JavaScript: the same form again, with one more question block.
        if len(form.questions) < form.questions.max_entries:
            form.questions.append_entry()
        return _render_form(community, form, focus=len(form.questions) - 1)
    if form.validate_on_submit():
        try:
            poll = operations.create_poll(community, current_viewer(), form.spec)
        except OperationError as exc:
            db.session.rollback()
            if isinstance(exc, NotAllowed):
                raise
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Votre sondage est ouvert."), "success")
            return redirect(_poll_url(poll), 303)
    return _render_form(community, form, status=400 if form.is_submitted() else 200)


def _render_form(community, form, status: int = 200, focus: int | None = None):
    return render_template(
        "polls/new.html", community=community, form=form, focus_question=focus
    ), status


# -- a poll ------------------------------------------------------------------------------------


@blueprint.get("/c/<slug>/polls/<int:poll_id>")
def show(slug: str, poll_id: int):
    return _render_poll(_poll(slug, poll_id))


def _render_poll(poll, errors=(), selected=None, status: int = 200):
    viewer = current_viewer()
    voted = queries.has_voted(poll, viewer)
    closed = poll.is_closed()
    can_vote = can(viewer, "vote", poll) and not closed and not (voted and poll.anonymous)
    see_results = can(viewer, "see_results", poll)
    mine = queries.my_choices(poll, viewer) if voted else set()
    show_voters = can(viewer, "see_voters", poll)
    return render_template(
        "polls/show.html",
        community=poll.community,
        poll=poll,
        closed=closed,
        voted=voted,
        can_vote=can_vote,
        mine=mine,
        selected=mine if selected is None else selected,
        vote_errors=list(errors),
        results=queries.results(poll) if see_results else None,
        show_voters=show_voters,
        voters=queries.voters_by_option(poll) if show_voters else {},
    ), status


def _submitted_options() -> list[int] | None:
    """The option ids of the vote form (fields ``q-<question id>``); None if one is not a number."""
    chosen = []
    for key in request.form:
        if not key.startswith("q-"):
            continue
        for value in request.form.getlist(key):
            if not value.isdigit():
                return None
            chosen.append(int(value))
    return chosen


@blueprint.post("/c/<slug>/polls/<int:poll_id>/vote")
def vote(slug: str, poll_id: int):
    poll = _poll(slug, poll_id)
    _require("vote", poll)
    chosen = _submitted_options()
    if chosen is None:
        return _render_poll(poll, [_("Un des choix envoyés n'est pas valide.")], set(), 400)
    changed = queries.has_voted(poll, current_viewer())
    try:
        operations.vote(poll, current_viewer(), chosen)
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            raise
        return _render_poll(poll, [str(exc)], set(chosen), exc.status)
    db.session.commit()
    flash(_("Votre vote est modifié.") if changed else _("Votre vote est enregistré."), "success")
    return redirect(_poll_url(poll, "resultats"), 303)


@blueprint.post("/c/<slug>/polls/<int:poll_id>/close")
def close(slug: str, poll_id: int):
    poll = _poll(slug, poll_id)
    _require("close", poll)
    try:
        operations.close_poll(poll, current_viewer())
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            raise
        flash(str(exc), "error")
        return redirect(_poll_url(poll), 303)
    db.session.commit()
    flash(_("Le sondage est clos."), "success")
    return redirect(_poll_url(poll, "resultats"), 303)


@blueprint.route("/c/<slug>/polls/<int:poll_id>/delete", methods=["GET", "POST"])
def delete(slug: str, poll_id: int):
    """GET asks for confirmation (works without JavaScript); POST deletes."""
    poll = _poll(slug, poll_id)
    _require("delete", poll)
    community = poll.community
    if request.method == "POST":
        question = _("Supprimer le sondage « %(title)s » ?", title=poll.title)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
        operations.delete_poll(poll, current_viewer())
        db.session.commit()
        flash(_("Le sondage a été supprimé."), "success")
        return redirect(url_for(".index", slug=community.slug), 303)
    return render_template("polls/confirm_delete.html", community=community, poll=poll)


# -- federation id -----------------------------------------------------------------------------


@blueprint.get("/poll/<int:poll_id>")
def poll_by_id(poll_id: int):
    """``ap_id`` of a local poll: its page."""
    poll = queries.poll_by_id(poll_id)
    if poll is None or not can(current_viewer(), "view", poll.community):
        abort(404)
    require_module(poll.community, MODULE)
    return redirect(_poll_url(poll))
