"""Inactive accounts: warned by e-mail, then scheduled for deletion (contributions kept).

A person whose last visit (or, never seen, creation) is older than the retention minus the
warning period gets one e-mail (``inactivity_warned_at``); past the retention, if they were
warned at least the warning period ago and did not come back, their deletion is requested like
any other (same delay, cancellable by signing in).  A visit clears the warning.  Administrators
and remote people are never concerned; ``INACTIVE_ACCOUNT_RETENTION_DAYS = 0`` switches it off.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import func, select, update

from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import Erasure

log = logging.getLogger(__name__)
BATCH = 500


def _days(key: str) -> dt.timedelta:
    return dt.timedelta(days=int(current_app.config.get(key) or 0))


def _candidates(before: dt.datetime):
    last_visit = func.coalesce(User.last_seen_at, User.created_at)
    return (
        select(User)
        .where(
            User.local.is_(True),
            User.is_active.is_(True),
            User.is_admin.is_(False),
            User.deleted_at.is_(None),
            User.deletion_due_at.is_(None),
            last_visit < before,
        )
        .order_by(User.id)
        .limit(BATCH)
    )


def warn_inactive(now: dt.datetime) -> int:
    retention = _days("INACTIVE_ACCOUNT_RETENTION_DAYS")
    warning = _days("INACTIVE_ACCOUNT_WARNING_DAYS")
    from maillage.platform.account_deletion import mails

    warned = 0
    while True:
        users = db.session.scalars(
            _candidates(now - retention + warning).where(User.inactivity_warned_at.is_(None))
        ).all()
        for user in users:
            user.inactivity_warned_at = now
            mails.inactivity_warning(user, now + warning)
            record(None, "account.inactivity_warned", user)
        db.session.commit()
        warned += len(users)
        if len(users) < BATCH:
            return warned


def schedule_inactive(now: dt.datetime) -> int:
    from maillage.platform.account_deletion.operations import request_deletion

    retention = _days("INACTIVE_ACCOUNT_RETENTION_DAYS")
    warning = _days("INACTIVE_ACCOUNT_WARNING_DAYS")
    scheduled, skipped = 0, set()
    while True:
        statement = _candidates(now - retention).where(
            User.inactivity_warned_at <= now - warning, User.id.not_in(skipped or {0})
        )
        users = db.session.scalars(statement).all()
        for user in users:
            try:
                with db.session.begin_nested():
                    request_deletion(user, Erasure.KEEP_CONTENT, now=now)
                    record(None, "account.inactive_deletion", user)
                scheduled += 1
            except OperationError as refusal:  # last owner: stays until they hand over
                log.info("inactive account %s not scheduled: %s", user.id, refusal)
                skipped.add(user.id)
        db.session.commit()
        if len(users) < BATCH:
            return scheduled


def clear_returned() -> int:
    """Forget the warning of those who came back after it (a visit clears it); commits."""
    result = db.session.execute(
        update(User)
        .where(User.inactivity_warned_at.isnot(None), User.last_seen_at > User.inactivity_warned_at)
        .values(inactivity_warned_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


def run(now: dt.datetime | None = None) -> tuple[int, int]:
    """The daily pass: ``(warned, scheduled)``; nothing when the retention is 0."""
    if not current_app.config.get("INACTIVE_ACCOUNT_RETENTION_DAYS"):
        return 0, 0
    now = now or utcnow()
    clear_returned()
    return warn_inactive(now), schedule_inactive(now)
