"""Periodic digests: daily at 07:00 and weekly on Monday at 07:00, in the instance's time zone;
and a nightly purge of old notices, so the table stays bounded.

Celery runs in UTC; :class:`LocalCrontab` reads its fields in ``BABEL_DEFAULT_TIMEZONE``
(Europe/Paris by default), so 07:00 stays 07:00 for readers across daylight-saving changes.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from celery.schedules import crontab

from maillage.platform.celery_app import celery, periodic_task
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.notifications.digests import send_digest_batch
from maillage.platform.notifications.operations import purge_older_than

DEFAULT_ZONE = "Europe/Paris"
#: Notices older than this are deleted (``NOTIFICATIONS_RETENTION_DAYS``).
DEFAULT_RETENTION_DAYS = 180


class LocalCrontab(crontab):
    """A crontab whose hours are those of the instance's time zone."""

    @property
    def tz(self):
        flask_app = getattr(celery, "flask_app", None)
        name = flask_app.config.get("BABEL_DEFAULT_TIMEZONE") if flask_app else None
        return ZoneInfo(name or DEFAULT_ZONE)


def run_digests(frequency: str, now: dt.datetime | None = None) -> int:
    """Send every ``frequency`` digest due at ``now``, committing after each batch of people."""
    now = now or utcnow()
    sent, after = 0, 0
    while True:
        last, mailed = send_digest_batch(frequency, now, after)
        db.session.commit()
        if last is None:
            return sent
        sent, after = sent + mailed, last


def _moment(now: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(now) if now else None


@periodic_task(LocalCrontab(minute=0, hour=7), name="maillage.notifications.daily_digest")
def daily_digest(now: str | None = None) -> int:
    """The daily digests (``now``: an ISO time, to replay a given run)."""
    return run_digests("daily", _moment(now))


@periodic_task(
    LocalCrontab(minute=0, hour=7, day_of_week="mon"), name="maillage.notifications.weekly_digest"
)
def weekly_digest(now: str | None = None) -> int:
    """The weekly digests (``now``: an ISO time, to replay a given run)."""
    return run_digests("weekly", _moment(now))


@periodic_task(LocalCrontab(minute=30, hour=3), name="maillage.notifications.purge")
def purge_notifications(now: str | None = None) -> int:
    """Delete notices past the retention period, in short transactions."""
    days = celery.flask_app.config.get("NOTIFICATIONS_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS
    cutoff = (_moment(now) or utcnow()) - dt.timedelta(days=int(days))
    deleted = 0
    while True:
        count = purge_older_than(cutoff)
        db.session.commit()
        deleted += count
        if not count:
            return deleted
