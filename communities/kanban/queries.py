"""Reads of a community's board; each is a bounded number of queries, whatever the board's size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from maillage.communities.community.models import Community, Membership
from maillage.communities.kanban.models import Status, Task
from maillage.communities.permissions import CONTRIBUTING_ROLES
from maillage.communities.users.models import User
from maillage.platform.extensions import db

#: Tasks shown per column (the done column shows the latest finished first).
COLUMN_LIMIT = {Status.TODO: 200, Status.DOING: 200, Status.DONE: 30}
#: People offered in the assignee list.
ASSIGNEES_LIMIT = 500


@dataclass
class Column:
    status: str
    tasks: list[Task]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.tasks)


def today() -> dt.date:
    """Today in the instance's time zone (Europe/Paris): due dates are days there."""
    zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris"
    return dt.datetime.now(ZoneInfo(zone)).date()


def board(community: Community, assignee: User | None = None, show_all_done: bool = False):
    """The three columns (four queries: the counts, then each column with its assignees)."""
    criteria = [Task.community_id == community.id]
    if assignee is not None:
        criteria.append(Task.assignee_id == assignee.id)
    totals = dict(
        db.session.execute(
            select(Task.status, func.count()).where(*criteria).group_by(Task.status)
        ).all()
    )
    columns = []
    for status in Status.ALL:
        statement = (
            select(Task)
            .where(*criteria, Task.status == status)
            .options(joinedload(Task.assignee))
            .order_by(Task.position, Task.id)
        )
        if not (status == Status.DONE and show_all_done):
            statement = statement.limit(COLUMN_LIMIT[status])
        tasks = list(db.session.scalars(statement).unique())
        columns.append(Column(status, tasks, totals.get(status, 0)))
    return columns


def task_in(community: Community, task_id: int | None) -> Task | None:
    if task_id is None:
        return None
    return db.session.scalar(
        select(Task)
        .where(Task.id == task_id, Task.community_id == community.id)
        .options(
            joinedload(Task.assignee),
            joinedload(Task.created_by).joinedload(User.organisation),
            joinedload(Task.community),
        )
    )


def possible_assignees(community: Community) -> list[User]:
    """The community's contributors (not guests), by name, for the assignee list."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.community_id == community.id,
                Membership.role.in_(list(CONTRIBUTING_ROLES)),
                User.is_active.is_(True),
            )
            .order_by(User.display_name, User.id)
            .limit(ASSIGNEES_LIMIT)
        ).unique()
    )


def user_by_id(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id is not None else None


def task_ids_in_community(session: Session, community_id: int):
    return session.scalars(
        select(Task.id).where(Task.community_id == community_id).order_by(Task.id)
    )
