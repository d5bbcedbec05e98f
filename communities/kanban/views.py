"""A community's task board over HTTP: thin handlers that parse, ask the permission policy, call
an operation and render.  Everything works without JavaScript: each card's buttons (up, down,
to another column) are a plain form; with HTMX the board alone is swapped in after a move.

Every URL lives under ``/c/<slug>/tasks`` and answers 404 when the community is invisible to the
viewer, when the module is switched off there, or when the task is unknown (or not in that
community).  A private community's board asks outsiders to sign in, or refuses them (403).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from maillage.communities.kanban import operations, queries
from maillage.communities.kanban.blueprint import blueprint
from maillage.communities.kanban.forms import STATUS_LABELS, TaskForm
from maillage.communities.kanban.models import Status
from maillage.communities.kanban.operations import MODULE, TaskFields
from maillage.communities.modules import community_with_module
from maillage.communities.permissions import can
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db, login_manager
from maillage.platform.views_util import confirmation_page, current_viewer, safe_next_url

MINE = "mes-taches"

#: Why a visible object refuses an action (shown on the 403 page).
REFUSALS = {
    "read": _l("Les tâches de cette communauté sont réservées à ses membres."),
    "post": _l("Seuls les membres de la communauté peuvent créer une tâche."),
    "edit": _l("Seuls les membres de la communauté peuvent modifier les tâches."),
    "move": _l("Seuls les membres de la communauté peuvent déplacer les tâches."),
    "delete": _l(
        "Seuls l'auteur de la tâche et les modérateurs de la communauté peuvent la supprimer."
    ),
}


@blueprint.context_processor
def _helpers() -> dict:
    return {"status_labels": STATUS_LABELS, "format_date": format_date}


# -- helpers -----------------------------------------------------------------------------------


def _community(slug: str):
    """The community, when the viewer may know it exists and its tasks are on (else 404)."""
    community = community_with_module(slug, MODULE)
    if not can(current_viewer(), "read", community):
        _signed_in()
        raise NotAllowed(REFUSALS["read"])
    return community


def _task(slug: str, task_id: int):
    task = queries.task_in(_community(slug), task_id)
    if task is None or not can(current_viewer(), "view", task):
        abort(404)
    return task


def _signed_in() -> None:
    """Sign-in comes after the visibility checks, so that an invisible community stays a 404."""
    if current_viewer() is None:
        abort(login_manager.unauthorized())


def _require(action: str, obj) -> None:
    _signed_in()
    if not can(current_viewer(), action, obj):
        raise NotAllowed(REFUSALS[action])


def _task_url(task) -> str:
    return url_for(".show", slug=task.community.slug, task_id=task.id)


def _board_url(community, **args) -> str:
    return url_for(".board", slug=community.slug, **args)


# -- the board ---------------------------------------------------------------------------------


@blueprint.get("/c/<slug>/tasks")
def board(slug: str):
    community = _community(slug)
    viewer = current_viewer()
    mine = request.args.get("filtre") == MINE and viewer is not None
    all_done = request.args.get("terminees") == "toutes"
    return render_template(
        "kanban/board.html",
        community=community,
        columns=queries.board(community, viewer if mine else None, all_done),
        mine=mine,
        all_done=all_done,
        today=queries.today(),
        can_move=can(viewer, "post", community),
        here=request.full_path.rstrip("?"),
    )


# -- a task ------------------------------------------------------------------------------------


def _fields(form: TaskForm, community, current=None) -> TaskFields | None:
    """The form's values, the assignee checked (a message on the field if refused)."""
    assignee = queries.user_by_id(form.assignee.data)
    if form.assignee.data is not None and assignee is None:
        form.assignee.errors = [_("Choisissez une personne dans la liste.")]
        return None
    if assignee is not None and (current is None or assignee.id != current.id):
        try:
            operations.check_assignee(community, assignee)
        except OperationError as exc:
            form.assignee.errors = [str(exc)]
            return None
    return TaskFields(form.title.data, form.description.data or "", assignee, form.due_on.data)


def _render_form(template: str, community, form, task=None, status: int = 200):
    return render_template(template, community=community, form=form, task=task), status


@blueprint.route("/c/<slug>/tasks/new", methods=["GET", "POST"])
def new(slug: str):
    community = _community(slug)
    _require("post", community)
    form = TaskForm()
    form.set_assignees(queries.possible_assignees(community))
    if request.method == "GET" and request.args.get("colonne") in Status.ALL:
        form.status.data = request.args["colonne"]
    if form.validate_on_submit():
        fields = _fields(form, community)
        if fields is not None:
            try:
                task = operations.create_task(community, current_viewer(), fields, form.status.data)
            except OperationError as exc:
                db.session.rollback()
                if isinstance(exc, NotAllowed):
                    raise
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("La tâche « %(title)s » est créée.", title=task.title), "success")
                return redirect(_board_url(community) + f"#task-{task.id}", 303)
    status = 400 if form.is_submitted() else 200
    return _render_form("kanban/new.html", community, form, status=status)


@blueprint.get("/c/<slug>/tasks/<int:task_id>")
def show(slug: str, task_id: int):
    task = _task(slug, task_id)
    return render_template(
        "kanban/show.html",
        community=task.community,
        task=task,
        today=queries.today(),
        can_move=can(current_viewer(), "move", task),
        here=_task_url(task),
    )


@blueprint.route("/c/<slug>/tasks/<int:task_id>/edit", methods=["GET", "POST"])
def edit(slug: str, task_id: int):
    task = _task(slug, task_id)
    _require("edit", task)
    community = task.community
    form = TaskForm(
        data={
            "title": task.title,
            "description": task.description_source,
            "assignee": task.assignee_id,
            "due_on": task.due_on,
            "status": task.status,
        }
    )
    form.set_assignees(queries.possible_assignees(community), task.assignee)
    if form.validate_on_submit():
        fields = _fields(form, community, task.assignee)
        if fields is not None:
            try:
                operations.edit_task(task, current_viewer(), fields)
                operations.move_task(task, current_viewer(), form.status.data)
            except OperationError as exc:
                db.session.rollback()
                if isinstance(exc, NotAllowed):
                    raise
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("La tâche a été modifiée."), "success")
                return redirect(_task_url(task), 303)
    status = 400 if form.is_submitted() else 200
    return _render_form("kanban/edit.html", community, form, task, status)


@blueprint.post("/c/<slug>/tasks/<int:task_id>/move")
def move(slug: str, task_id: int):
    """``action``: ``up``, ``down`` (within the column) or a column's key; back to ``next``."""
    task = _task(slug, task_id)
    _require("move", task)
    action = request.form.get("action", "")
    back = safe_next_url(request.form.get("next")) or _board_url(task.community)
    try:
        if action in (operations.UP, operations.DOWN):
            operations.reorder_task(task, current_viewer(), action)
        else:
            operations.move_task(task, current_viewer(), action)
    except OperationError:
        db.session.rollback()
        raise  # an error page with the French message (400, or 403)
    db.session.commit()
    if action in Status.ALL:
        label = STATUS_LABELS[action]
        flash(
            _("« %(title)s » est maintenant dans « %(column)s ».", title=task.title, column=label)
        )
    return redirect(f"{back.split('#')[0]}#task-{task.id}", 303)


@blueprint.route("/c/<slug>/tasks/<int:task_id>/delete", methods=["GET", "POST"])
def delete(slug: str, task_id: int):
    """GET asks for confirmation (works without JavaScript); POST deletes."""
    task = _task(slug, task_id)
    _require("delete", task)
    community = task.community
    if request.method == "POST":
        question = _("Supprimer la tâche « %(title)s » ?", title=task.title)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
        operations.delete_task(task, current_viewer())
        db.session.commit()
        flash(_("La tâche a été supprimée."), "success")
        return redirect(_board_url(community), 303)
    return render_template("kanban/confirm_delete.html", community=community, task=task)
