"""Discussions over HTTP: thin handlers that parse, ask the permission policy, call an operation and
render.  Everything works without JavaScript (plain links and forms, redirects after POST).

Every URL lives under ``/c/<slug>/discussions`` and answers 404 when the community is invisible to
the viewer, when the module is switched off there, or when the topic or reply is unknown (or not
in that community).  A private community's list asks outsiders to sign in, or refuses them (403).
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from maillage.communities import signals
from maillage.communities.discussions import operations, queries
from maillage.communities.discussions.blueprint import blueprint
from maillage.communities.discussions.forms import EditReplyForm, ReplyForm, TopicForm
from maillage.communities.discussions.operations import MODULE
from maillage.communities.modules import community_with_module, require_module
from maillage.communities.permissions import can
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db, login_manager
from maillage.platform.views_util import (
    confirmation_page,
    current_viewer,
    flash_operation_errors,
    page_number,
)

TOPICS_PAGE_SIZE = 30
REPLIES_PAGE_SIZE = 50

FILTER_LABELS = {
    queries.ALL: _l("Toutes"),
    queries.UNANSWERED: _l("Sans réponse retenue"),
    queries.UNREAD: _l("Non lues"),
}

#: Why a visible object refuses an action (shown on the 403 page).
REFUSALS = {
    "read": _l("Les discussions de cette communauté sont réservées à ses membres."),
    "post": _l("Seuls les membres de la communauté peuvent participer aux discussions."),
    "edit": _l("Vous ne pouvez modifier que vos propres messages."),
    "delete": _l("Seuls leur auteur et les modérateurs peuvent supprimer ce message."),
    "pin": _l("Seuls les animateurs et modérateurs épinglent les discussions."),
    "lock": _l("Seuls les animateurs et modérateurs verrouillent les discussions."),
    "mark_answered": _l(
        "Seuls l'auteur de la discussion et les modérateurs choisissent la réponse."
    ),
}


# -- helpers -----------------------------------------------------------------------------------


def _community(slug: str):
    """The community, when the viewer may know it exists and its discussions are on (else 404)."""
    return community_with_module(slug, MODULE)


def _readable_community(slug: str):
    community = _community(slug)
    if not can(current_viewer(), "read", community):
        _signed_in()
        raise NotAllowed(REFUSALS["read"])
    return community


def _topic(slug: str, topic_id: int):
    community = _community(slug)
    topic = queries.topic_in(community, topic_id)
    if topic is None or not can(current_viewer(), "view", topic):
        abort(404)
    return topic


def _reply(topic, reply_id: int):
    reply = queries.reply_in(topic, reply_id)
    if reply is None:
        abort(404)
    return reply


def _signed_in() -> None:
    """Sign-in comes after the visibility checks, so that an invisible community stays a 404."""
    if current_viewer() is None:
        abort(login_manager.unauthorized())


def _require(action: str, obj) -> None:
    if not can(current_viewer(), action, obj):
        raise NotAllowed(REFUSALS[action])


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


def _pagination(endpoint: str, page: int, pages: int, anchor: str = "", **args) -> dict:
    def link(number: int) -> str:
        return url_for(endpoint, page=number, **args) + (f"#{anchor}" if anchor else "")

    return {
        "page": page,
        "pages": pages,
        "previous_url": link(page - 1) if page > 1 else None,
        "next_url": link(page + 1) if page < pages else None,
    }


def _topic_url(topic, **args) -> str:
    return url_for(".show", slug=topic.community.slug, topic_id=topic.id, **args)


def _reply_url(reply) -> str:
    """The reply on its page of the thread."""
    page = queries.page_of_reply(reply, REPLIES_PAGE_SIZE)
    args = {"page": page} if page > 1 else {}
    return _topic_url(reply.topic, **args) + f"#reply-{reply.id}"


def _back(topic, action: str):
    return redirect(_topic_url(topic) + f"#{action}", 303)


# -- the list ----------------------------------------------------------------------------------


@blueprint.get("/c/<slug>/discussions")
def index(slug: str):
    community = _readable_community(slug)
    viewer = current_viewer()
    tracked = operations.tracks_reading(viewer, community)
    show = request.args.get("show", queries.ALL)
    if show not in queries.FILTERS or (show == queries.UNREAD and not tracked):
        show = queries.ALL
    page = page_number()
    items, total = queries.topic_list(community, viewer, show, page, TOPICS_PAGE_SIZE)
    pages = max(1, math.ceil(total / TOPICS_PAGE_SIZE))
    args = {"show": show} if show != queries.ALL else {}
    if page > pages:
        return redirect(url_for(".index", slug=community.slug, page=pages, **args))
    return render_template(
        "discussions/index.html",
        community=community,
        items=items,
        total=total,
        show=show,
        tracked=tracked,
        filters=[f for f in queries.FILTERS if f != queries.UNREAD or tracked],
        filter_labels=FILTER_LABELS,
        pagination=_pagination(".index", page, pages, slug=community.slug, **args),
    )


@blueprint.post("/c/<slug>/discussions/read-all")
def read_all(slug: str):
    community = _readable_community(slug)
    _signed_in()
    operations.mark_all_read(community, current_viewer())
    db.session.commit()
    flash(_("Toutes les discussions sont marquées comme lues."), "success")
    return redirect(url_for(".index", slug=community.slug), 303)


# -- topics ------------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/discussions/new", methods=["GET", "POST"])
def new(slug: str):
    community = _readable_community(slug)
    _signed_in()
    _require("post", community)
    form = TopicForm()
    if form.validate_on_submit():
        with operation_errors(form):
            topic = operations.create_topic(
                community, current_viewer(), form.title.data, form.body.data
            )
            db.session.commit()
            flash(_("Votre discussion est ouverte."), "success")
            return redirect(_topic_url(topic), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("discussions/new.html", community=community, form=form), status


@blueprint.get("/c/<slug>/discussions/<int:topic_id>")
def show(slug: str, topic_id: int):
    topic = _topic(slug, topic_id)
    viewer = current_viewer()
    signals.content_viewed.send(topic, community=topic.community, user=viewer)
    form = None
    if can(viewer, "reply", topic):
        form = ReplyForm()
        quoted = queries.reply_in(topic, request.args.get("quote", type=int))
        if quoted is not None and can(viewer, "quote", quoted):
            form.body.data = operations.quote_source(quoted)
            form.quoted_reply_id.data = quoted.id
    return _render_topic(topic, form)


def _render_topic(topic, form, status: int = 200):
    viewer = current_viewer()
    total = queries.reply_total(topic)
    pages = max(1, math.ceil(total / REPLIES_PAGE_SIZE))
    page = min(page_number(), pages)
    replies = queries.reply_page(topic, page, REPLIES_PAGE_SIZE)
    html = render_template(
        "discussions/show.html",
        community=topic.community,
        topic=topic,
        replies=replies,
        reply_ids={reply.id for reply in replies},
        answer=queries.answer_of(topic),
        reply_form=form,
        total_replies=total,
        page=page,
        pagination=_pagination(
            ".show",
            page,
            pages,
            anchor="reponses",
            slug=topic.community.slug,
            topic_id=topic.id,
        ),
    )
    if request.method == "GET" and operations.tracks_reading(viewer, topic.community):
        # Read up to the last reply shown; the last page reads the whole topic.  After
        # rendering: the commit expires what the page has loaded.
        until = topic.last_activity_at if page == pages else replies[-1].created_at
        operations.mark_read(topic, viewer, until)
        db.session.commit()
    return html, status


@blueprint.get("/c/<slug>/discussions/<int:topic_id>/unread")
def first_unread(slug: str, topic_id: int):
    """The first reply the member has not read, else the end of the thread."""
    topic = _topic(slug, topic_id)
    viewer = current_viewer()
    reply = None
    if operations.tracks_reading(viewer, topic.community):
        reply = queries.first_unread_reply(topic, viewer)
    if reply is not None:
        return redirect(_reply_url(reply))
    pages = max(1, math.ceil(queries.reply_total(topic) / REPLIES_PAGE_SIZE))
    return redirect(_topic_url(topic, **({"page": pages} if pages > 1 else {})))


@blueprint.route("/c/<slug>/discussions/<int:topic_id>/edit", methods=["GET", "POST"])
def edit(slug: str, topic_id: int):
    topic = _topic(slug, topic_id)
    _signed_in()
    _require("edit", topic)
    form = TopicForm(data={"title": topic.title, "body": topic.body_source})
    if form.validate_on_submit():
        with operation_errors(form):
            operations.edit_topic(topic, current_viewer(), form.title.data, form.body.data)
            db.session.commit()
            flash(_("La discussion a été modifiée."), "success")
            return redirect(_topic_url(topic), 303)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "discussions/edit.html", community=topic.community, topic=topic, form=form
    ), status


@blueprint.route("/c/<slug>/discussions/<int:topic_id>/delete", methods=["GET", "POST"])
def delete(slug: str, topic_id: int):
    """GET asks for confirmation (works without JavaScript); POST deletes."""
    topic = _topic(slug, topic_id)
    _signed_in()
    _require("delete", topic)
    community = topic.community
    if request.method == "POST":
        question = _("Supprimer la discussion « %(title)s » ?", title=topic.title)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
        operations.delete_topic(topic, current_viewer())
        db.session.commit()
        flash(_("La discussion a été supprimée."), "success")
        return redirect(url_for(".index", slug=community.slug), 303)
    return render_template(
        "discussions/confirm_delete.html",
        community=community,
        topic=topic,
        target=topic,
        heading=_("Supprimer la discussion « %(title)s » ?", title=topic.title),
        action_url=url_for(".delete", slug=community.slug, topic_id=topic.id),
        cancel_url=_topic_url(topic),
        warning=_("Toutes ses réponses seront supprimées aussi. C'est définitif."),
    )


@blueprint.post("/c/<slug>/discussions/<int:topic_id>/pin")
def pin(slug: str, topic_id: int):
    topic = _topic(slug, topic_id)
    _signed_in()
    _require("pin", topic)
    pinned = request.form.get("pinned") == "1"
    operations.set_pinned(topic, current_viewer(), pinned)
    db.session.commit()
    flash(_("Discussion épinglée.") if pinned else _("Discussion désépinglée."), "success")
    return _back(topic, "moderation")


@blueprint.post("/c/<slug>/discussions/<int:topic_id>/lock")
def lock(slug: str, topic_id: int):
    topic = _topic(slug, topic_id)
    _signed_in()
    _require("lock", topic)
    locked = request.form.get("locked") == "1"
    operations.set_locked(topic, current_viewer(), locked)
    db.session.commit()
    flash(_("Discussion verrouillée.") if locked else _("Discussion déverrouillée."), "success")
    return _back(topic, "moderation")


@blueprint.post("/c/<slug>/discussions/<int:topic_id>/answer")
def answer(slug: str, topic_id: int):
    """``reply_id`` becomes the answer; an empty ``reply_id`` removes the answer."""
    topic = _topic(slug, topic_id)
    _signed_in()
    _require("mark_answered", topic)
    raw = request.form.get("reply_id", "")
    reply = _reply(topic, int(raw)) if raw.isdigit() else None
    if raw and reply is None:
        abort(404)
    with flash_operation_errors():
        operations.set_answer(topic, current_viewer(), reply)
        db.session.commit()
        if reply is None:
            flash(_("La discussion n'a plus de réponse retenue."), "success")
            return redirect(_topic_url(topic), 303)
        flash(_("Cette réponse est retenue comme solution."), "success")
        return redirect(_reply_url(reply), 303)
    return redirect(_topic_url(topic), 303)


# -- replies -----------------------------------------------------------------------------------


@blueprint.post("/c/<slug>/discussions/<int:topic_id>/replies")
def reply(slug: str, topic_id: int):
    topic = _topic(slug, topic_id)
    _signed_in()
    _require("post", topic.community)
    form = ReplyForm()
    if form.validate_on_submit():
        with operation_errors(form):
            quoted = None
            if form.quoted_reply_id.data is not None:
                quoted = queries.reply_in(topic, form.quoted_reply_id.data)
                if quoted is None:
                    form.quoted_reply_id.data = None  # sent again, it would fail again
                    raise OperationError(_l("La réponse citée n'existe pas dans cette discussion."))
            new_reply = operations.add_reply(topic, current_viewer(), form.body.data, quoted)
            db.session.commit()
            flash(_("Votre réponse est publiée."), "success")
            return redirect(_reply_url(new_reply), 303)
    return _render_topic(topic, form, status=400)


@blueprint.get("/c/<slug>/discussions/<int:topic_id>/replies/<int:reply_id>")
def reply_link(slug: str, topic_id: int, reply_id: int):
    """A stable link to a reply, whatever page of the thread it is on now."""
    topic = _topic(slug, topic_id)
    return redirect(_reply_url(_reply(topic, reply_id)))


@blueprint.route(
    "/c/<slug>/discussions/<int:topic_id>/replies/<int:reply_id>/edit", methods=["GET", "POST"]
)
def edit_reply(slug: str, topic_id: int, reply_id: int):
    topic = _topic(slug, topic_id)
    _signed_in()
    target = _reply(topic, reply_id)
    _require("edit", target)
    form = EditReplyForm(data={"body": target.body_source})
    if form.validate_on_submit():
        with operation_errors(form):
            operations.edit_reply(target, current_viewer(), form.body.data)
            db.session.commit()
            flash(_("Votre réponse a été modifiée."), "success")
            return redirect(_reply_url(target), 303)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "discussions/edit_reply.html",
        community=topic.community,
        topic=topic,
        target=target,
        form=form,
    ), status


@blueprint.route(
    "/c/<slug>/discussions/<int:topic_id>/replies/<int:reply_id>/delete", methods=["GET", "POST"]
)
def delete_reply(slug: str, topic_id: int, reply_id: int):
    """GET asks for confirmation (works without JavaScript); POST deletes."""
    topic = _topic(slug, topic_id)
    _signed_in()
    target = _reply(topic, reply_id)
    _require("delete", target)
    if request.method == "POST":
        question = _("Supprimer cette réponse de %(name)s ?", name=target.author.display_name)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
        operations.delete_reply(target, current_viewer())
        db.session.commit()
        flash(_("La réponse a été supprimée."), "success")
        return redirect(_topic_url(topic) + "#reponses", 303)
    return render_template(
        "discussions/confirm_delete.html",
        community=topic.community,
        topic=topic,
        target=target,
        heading=_("Supprimer cette réponse ?"),
        action_url=url_for(
            ".delete_reply", slug=topic.community.slug, topic_id=topic.id, reply_id=target.id
        ),
        cancel_url=_reply_url(target),
        warning=_("C'est définitif."),
    )


# -- federation ids ----------------------------------------------------------------------------


def _visible_or_404(topic):
    if topic is None or not can(current_viewer(), "view", topic.community):
        abort(404)
    require_module(topic.community, MODULE)
    if not can(current_viewer(), "view", topic):
        abort(404)
    return topic


@blueprint.get("/topic/<int:topic_id>")
def topic_by_id(topic_id: int):
    """``ap_id`` of a local topic: the topic's page (once federation serves objects, here too)."""
    topic = _visible_or_404(queries.topic_by_id(topic_id))
    return redirect(url_for(".show", slug=topic.community.slug, topic_id=topic.id))


@blueprint.get("/reply/<int:reply_id>")
def reply_by_id(reply_id: int):
    found = queries.reply_by_id(reply_id)
    topic = _visible_or_404(found.topic if found is not None else None)
    return redirect(
        url_for(".reply_link", slug=topic.community.slug, topic_id=topic.id, reply_id=found.id)
    )
