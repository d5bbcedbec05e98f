"""Board tasks in the personal data registry: those the person created and those assigned to
them.

An assignment to someone who left means nothing to the team: it is always dropped.  Tasks they
created stay when they keep their contributions; otherwise they are deleted as ``delete_task``
does it (the column's positions closed up behind them).
"""

from __future__ import annotations

from sqlalchemy import or_, select

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.kanban.models import Task
from maillage.communities.kanban.operations import _lock, _shift
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import Erasure, holds_personal_data
from maillage.platform.personal_data.rows import export_rows, set_null


def export_tasks(user) -> list[dict]:
    rows = export_rows(
        select(
            Task.id,
            Community.slug.label("community"),
            Task.title,
            Task.description_source.label("description_markdown"),
            Task.status,
            Task.due_on,
            Task.created_at,
            Task.done_at,
            Task.created_by_id,
            Task.assignee_id,
        )
        .join(Community, Community.id == Task.community_id)
        .where(or_(Task.created_by_id == user.id, Task.assignee_id == user.id)),
        Task.id,
    )
    for row in rows:
        row["created_by_me"] = row.pop("created_by_id") == user.id
        row["assigned_to_me"] = row.pop("assignee_id") == user.id
    return rows


def erase_tasks(user, erasure: Erasure) -> None:
    set_null(Task, Task.assignee_id, Task.assignee_id == user.id)
    if erasure != Erasure.DELETE_CONTENT:
        return
    tasks = db.session.scalars(
        select(Task).where(Task.created_by_id == user.id).order_by(Task.position.desc())
    ).all()
    for task in tasks:
        community = task.community
        _lock(community)
        signals.content_deleted.send(task, community=community, actor=user)
        status, position = task.status, task.position
        db.session.delete(task)
        db.session.flush()
        _shift(community.id, status, -1, after=position)


holds_personal_data(Task, section="kanban_tasks", export=export_tasks, erase=erase_tasks)
