"""Every write on a community's tasks: creating, editing, assigning, moving, reordering, deleting.

Each function checks the permission policy, validates everything before changing anything,
writes the audit log and sends the signals before the caller commits.

Order within a column: every change first locks the community's row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite has a single writer), then reads the positions again and changes them with
single ``UPDATE`` statements: a task leaving a column closes the gap (``position - 1`` for those
after it), a task entering goes last (``max + 1``) — or first in "done", the latest finished on
top (``position + 1`` for all, then 0); moving up or down swaps two positions in one statement.
Concurrent moves therefore wait for each other and never produce two tasks at the same place; if
an older bug ever did, the pages still order by ``(position, id)`` and the next reorder of that
column renumbers it 0, 1, 2…
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select, update

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.kanban.models import Status, Task
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import CONTRIBUTING_ROLES, can, role_in
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong, render

MODULE = "tasks"
TITLE_MAX = 200
UP, DOWN = "up", "down"
EARLIEST_DUE, LATEST_DUE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


@dataclass
class TaskFields:
    title: str
    description: str = ""
    assignee: User | None = None
    due_on: dt.date | None = None


# -- validation --------------------------------------------------------------------------------


def _require_module(community: Community) -> None:
    if not is_enabled(community, MODULE):
        raise OperationError(_l("Les tâches sont désactivées dans cette communauté."))


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise OperationError(_l("Le titre de la tâche est obligatoire."))
    if len(title) > TITLE_MAX:
        raise OperationError(_l("Le titre fait %(n)d caractères au plus."), n=TITLE_MAX)
    return title


def clean_status(status: str) -> str:
    if status not in Status.ALL:
        raise OperationError(
            _l("Colonne inconnue : choisissez « À faire », « En cours » ou « Terminé ».")
        )
    return status


def clean_due(due_on: dt.date | None) -> dt.date | None:
    if due_on is not None and not EARLIEST_DUE <= due_on <= LATEST_DUE:
        raise OperationError(_l("L'échéance doit être comprise entre 2000 et 2100."))
    return due_on


def check_assignee(community: Community, assignee: User | None) -> User | None:
    """Only a current member who contributes (not a guest) may be given a task."""
    if assignee is not None and role_in(assignee, community) not in CONTRIBUTING_ROLES:
        raise OperationError(
            _l(
                "%(name)s ne peut pas recevoir cette tâche : seuls les membres de la communauté "
                "(hors invités) peuvent en être chargés.",
            ),
            name=assignee.display_name,
        )
    return assignee


def _render(source: str) -> str:
    try:
        return render(source or "")
    except MarkdownTooLong as exc:
        raise OperationError(_l("Le texte dépasse %(n)d caractères."), n=exc.args[0]) from exc


# -- urls and notifications --------------------------------------------------------------------


def task_path(task: Task) -> str:
    """The task's page, built without a request (operations also run in tasks and the CLI)."""
    return current_app.url_map.bind("").build(
        "kanban.show", {"slug": task.community.slug, "task_id": task.id}
    )


def _tell_assignee(task: Task, actor: User) -> None:
    if task.assignee is None or task.assignee.id == actor.id:
        return
    signals.notification_requested.send(
        task,
        community=task.community,
        actor=actor,
        reason="assigned",
        url=task_path(task),
        title=task.title,
        recipients=[task.assignee],
    )


# -- positions ---------------------------------------------------------------------------------


def _lock(community: Community) -> None:
    """Serialise changes to a board's order until the commit (PostgreSQL row lock)."""
    db.session.flush()
    db.session.execute(select(Community.id).where(Community.id == community.id).with_for_update())


def _column(community_id: int, status: str):
    return and_(Task.community_id == community_id, Task.status == status)


def _shift(community_id: int, status: str, delta: int, after: int = -1) -> None:
    db.session.execute(
        update(Task)
        .where(_column(community_id, status), Task.position > after)
        .values(position=Task.position + delta)
        .execution_options(synchronize_session=False)
    )


def _enter(task: Task, status: str) -> None:
    """Place ``task`` (not yet in any column) last of ``status`` — first, for "done"."""
    if status == Status.DONE:
        _shift(task.community_id, status, +1)
        task.position = 0
    else:
        last = db.session.scalar(
            select(func.max(Task.position)).where(
                _column(task.community_id, status), Task.id != task.id
            )
        )
        task.position = 0 if last is None else last + 1
    task.status = status
    task.done_at = utcnow() if status == Status.DONE else None
    db.session.flush()


def renumber(community_id: int, status: str) -> None:
    """Give a column's tasks positions 0, 1, 2… in their current order (one UPDATE)."""
    ids = list(
        db.session.scalars(
            select(Task.id).where(_column(community_id, status)).order_by(Task.position, Task.id)
        )
    )
    if ids:
        db.session.execute(
            update(Task)
            .where(Task.id.in_(ids))
            .values(position=case({task_id: n for n, task_id in enumerate(ids)}, value=Task.id))
            .execution_options(synchronize_session=False)
        )


# -- tasks -------------------------------------------------------------------------------------


def create_task(
    community: Community, actor: User, fields: TaskFields, status: str = Status.TODO
) -> Task:
    if not can(actor, "post", community):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent créer une tâche."))
    _require_module(community)
    task = Task(
        community=community,
        created_by=actor,
        title=clean_title(fields.title),
        description_source=fields.description or "",
        description_html=_render(fields.description),
        assignee=check_assignee(community, fields.assignee),
        due_on=clean_due(fields.due_on),
    )
    clean_status(status)
    _lock(community)
    db.session.add(task)
    db.session.flush()
    _enter(task, status)
    record(actor, "task.create", task, community=community.id)
    signals.content_created.send(task, community=community, actor=actor)
    _tell_assignee(task, actor)
    return task


def edit_task(task: Task, actor: User, fields: TaskFields) -> Task:
    if not can(actor, "edit", task):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent modifier les tâches."))
    _require_module(task.community)
    title, html = clean_title(fields.title), _render(fields.description)
    due_on = clean_due(fields.due_on)
    newly_assigned = fields.assignee is not None and fields.assignee.id != task.assignee_id
    if newly_assigned:
        check_assignee(task.community, fields.assignee)
    task.title, task.description_source, task.description_html = title, fields.description, html
    task.assignee, task.due_on, task.updated_at = fields.assignee, due_on, utcnow()
    record(actor, "task.edit", task, assignee=task.assignee.id if task.assignee else None)
    signals.content_updated.send(task, community=task.community, actor=actor)
    if newly_assigned:
        _tell_assignee(task, actor)
    return task


def move_task(task: Task, actor: User, status: str) -> Task:
    """Put ``task`` in another column (last, or first in "done"); its own column: no change."""
    if not can(actor, "move", task):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent déplacer les tâches."))
    _require_module(task.community)
    clean_status(status)
    _lock(task.community)
    db.session.refresh(task, ["status", "position"])
    if task.status == status:
        return task
    old_status, old_position = task.status, task.position
    _shift(task.community_id, old_status, -1, after=old_position)
    _enter(task, status)
    task.updated_at = utcnow()
    record(actor, "task.move", task, status=status)
    signals.content_updated.send(task, community=task.community, actor=actor)
    return task


def reorder_task(task: Task, actor: User, direction: str) -> Task:
    """Swap ``task`` with the one just before (``up``) or after (``down``) it in its column."""
    if not can(actor, "move", task):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent déplacer les tâches."))
    _require_module(task.community)
    if direction not in (UP, DOWN):
        raise OperationError(_l("Déplacement inconnu : vers le haut ou vers le bas."))
    _lock(task.community)
    db.session.refresh(task, ["status", "position"])
    neighbour = _neighbour(task, direction)
    if neighbour is None:
        return task
    if neighbour.position == task.position:  # a duplicate: renumber, then swap
        renumber(task.community_id, task.status)
        db.session.refresh(task, ["position"])
        db.session.refresh(neighbour, ["position"])
    db.session.execute(
        update(Task)
        .where(Task.id.in_([task.id, neighbour.id]))
        .values(
            position=case({task.id: neighbour.position, neighbour.id: task.position}, value=Task.id)
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(task, ["position"])
    db.session.expire(neighbour, ["position"])
    record(actor, "task.reorder", task, direction=direction)
    return task


def _neighbour(task: Task, direction: str) -> Task | None:
    if direction == UP:
        before = or_(
            Task.position < task.position, and_(Task.position == task.position, Task.id < task.id)
        )
        order = (Task.position.desc(), Task.id.desc())
    else:
        before = or_(
            Task.position > task.position, and_(Task.position == task.position, Task.id > task.id)
        )
        order = (Task.position, Task.id)
    return db.session.scalar(
        select(Task)
        .where(_column(task.community_id, task.status), before)
        .order_by(*order)
        .limit(1)
    )


def delete_task(task: Task, actor: User) -> None:
    if not can(actor, "delete", task):
        raise NotAllowed(
            _l(
                "Seuls l'auteur de la tâche et les modérateurs de la communauté peuvent "
                "la supprimer."
            )
        )
    community = task.community
    _lock(community)
    db.session.refresh(task, ["status", "position"])
    record(actor, "task.delete", task, community=community.id, title=task.title)
    signals.content_deleted.send(task, community=community, actor=actor)
    status, position = task.status, task.position
    db.session.delete(task)
    db.session.flush()
    _shift(community.id, status, -1, after=position)
