"""The activity log analytics are computed from: one row per thing someone did.

Each row also stores ``day``, the Europe/Paris calendar day of ``at``, computed once when the row is
written: every period (a Paris day, an ISO week starting on Monday, a calendar month) is then a
plain date range on an indexed column, the same on SQLite and PostgreSQL, and daylight-saving
changes are handled by ``zoneinfo`` rather than by SQL.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db

PARIS = ZoneInfo("Europe/Paris")


def paris_day(moment: dt.datetime) -> dt.date:
    """The Paris calendar day of an aware datetime (23:30 UTC on 31 January is 1 February)."""
    return moment.astimezone(PARIS).date()


class ActivityEvent(db.Model):
    __tablename__ = "activity_events"
    __table_args__ = (
        # Per-community period queries: a range on ``day`` inside one community, grouped by kind
        # and counting distinct users, answered from the index alone.
        Index("ix_activity_events_community_day", "community_id", "day", "kind", "user_id"),
        # Platform-wide period queries.
        Index("ix_activity_events_day_kind", "day", "kind", "user_id"),
        # Dormant members (last visit of each person) and one visit per person per day.
        Index("ix_activity_events_user_kind_day", "user_id", "kind", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    day: Mapped[dt.date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE")
    )
    #: ``visit``, ``view``, ``post``, ``comment``, ``topic``, ``reply``, ``event``, ``document``,
    #: ``wiki_page``, ``poll``, ``task``, ``join``, ``leave``, ``reaction``…
    kind: Mapped[str] = mapped_column(String(20))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)

    def __init__(self, **kwargs):
        kwargs.setdefault("at", utcnow())
        kwargs.setdefault("day", paris_day(kwargs["at"]))
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"<ActivityEvent {self.id} {self.kind} by {self.user_id} on {self.day}>"
