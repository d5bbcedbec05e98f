"""Calendar periods in Europe/Paris: a day is a Paris calendar day, a week an ISO week (Monday to
Sunday), a month a calendar month.  Every period is a half-open range of dates ``[start, end)``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from maillage.communities.analytics.models import paris_day
from maillage.platform.db import utcnow

DAY, WEEK, MONTH = "day", "week", "month"
UNITS = (DAY, WEEK, MONTH)
MONTH_NAMES = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)  # fmt: skip


@dataclass(frozen=True)
class Period:
    unit: str
    start: dt.date
    end: dt.date  # exclusive

    @property
    def label(self) -> str:
        """Short, unambiguous label: ``2026-03-02``, ``S10 2026`` (ISO week), ``mars 2026``."""
        if self.unit == DAY:
            return self.start.isoformat()
        if self.unit == WEEK:
            year, week, _ = self.start.isocalendar()
            return f"S{week:02d} {year}"
        return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


def today(now: dt.datetime | None = None) -> dt.date:
    return paris_day(now or utcnow())


def period_of(unit: str, day: dt.date) -> Period:
    """The day, ISO week or calendar month that contains ``day``."""
    if unit == DAY:
        return Period(DAY, day, day + dt.timedelta(days=1))
    if unit == WEEK:
        monday = day - dt.timedelta(days=day.weekday())
        return Period(WEEK, monday, monday + dt.timedelta(days=7))
    if unit == MONTH:
        first = day.replace(day=1)
        return Period(MONTH, first, _add_months(first, 1))
    raise ValueError(unit)


def _add_months(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def last_periods(unit: str, count: int, now: dt.datetime | None = None) -> list[Period]:
    """The ``count`` periods up to and including the current one, oldest first."""
    current = period_of(unit, today(now))
    periods = [current]
    for _ in range(count - 1):
        periods.append(period_of(unit, periods[-1].start - dt.timedelta(days=1)))
    return periods[::-1]
