"""Search for tasks: one document per task (its title and description), rebuilt after the commit
when the task is created, edited, moved or deleted.

Audience: ``public`` in a public community, otherwise the community's members only; hits are shown
only when ``can(viewer, "view", task)`` (so also never while the module is switched off).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.kanban.models import Task
from maillage.communities.kanban.operations import task_path
from maillage.communities.kanban.queries import task_ids_in_community
from maillage.communities.search.kinds import Presentation, register_kind
from maillage.communities.search.providers import plain_text, post_audience
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.search.backend import doc_id, provider
from maillage.platform.search.indexing import schedule

TASK = "task"


def _all_task_ids(session: Session):
    return session.scalars(select(Task.id).order_by(Task.id))


@provider(TASK, all_ids=_all_task_ids)
def task_documents(session: Session, ids: list[int]) -> tuple[list[dict], list[int]]:
    rows = session.execute(
        select(
            Task.id, Task.title, Task.description_source, Task.community_id, Community.visibility
        )
        .join(Community, Community.id == Task.community_id)
        .where(Task.id.in_(ids))
    ).all()
    documents = [
        {
            "id": doc_id(TASK, row.id),
            "kind": TASK,
            "object_id": row.id,
            "audience": post_audience(row.community_id, row.visibility),
            "community_id": row.community_id,
            "title": row.title,
            "text": row.description_source,
        }
        for row in rows
    ]
    found = {row.id for row in rows}
    return documents, [task_id for task_id in ids if task_id not in found]


# -- how hits show -----------------------------------------------------------------------------


def load_tasks(ids: list[int]) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task)
            .where(Task.id.in_(ids))
            .options(
                joinedload(Task.community),
                joinedload(Task.created_by).joinedload(User.organisation),
            )
        ).unique()
    )


def present_task(task: Task) -> Presentation:
    return Presentation(
        title=task.title,
        text=plain_text(task.description_html),
        url=task_path(task),
        community=task.community,
        author=task.created_by,
        date=task.created_at,
    )


register_kind(TASK, _l("Tâche"), _l("Tâches"), load_tasks, present_task, task_ids_in_community)


# -- subscriptions -----------------------------------------------------------------------------


@signals.content_created.connect
@signals.content_updated.connect
@signals.content_deleted.connect
def _task_changed(obj, **_extra) -> None:
    if isinstance(obj, Task):
        schedule(TASK, obj.id)
