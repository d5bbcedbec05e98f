"""Tasks of a community's board (kanban): three fixed columns, to do / doing / done.

There is no board table: a community has one board, its columns are the ``status`` values.  A
task's ``position`` orders it within its column (0 first).  Every change of order happens while
the community's row is locked (PostgreSQL; SQLite has a single writer) and keeps each column's
positions 0, 1, 2… with no duplicate; pages order by ``(position, id)`` so that, whatever
happened, the order is always defined and the next move renumbers the column.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class Status:
    TODO = "todo"
    DOING = "doing"
    DONE = "done"
    ALL = (TODO, DOING, DONE)


class Task(db.Model):
    __tablename__ = "kanban_tasks"
    __table_args__ = (
        # The board: each column in order.
        Index("ix_kanban_tasks_column", "community_id", "status", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default=Status.TODO)
    position: Mapped[int] = mapped_column(Integer, default=0)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # A day, not an instant: overdue from the next day in the instance's time zone.
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    def is_overdue(self, today: dt.date) -> bool:
        return self.due_on is not None and self.status != Status.DONE and self.due_on < today

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.status}#{self.position} in {self.community_id}>"
