"""Deprovisioning: an account whose directory no longer finds the person.

When the periodic sync no longer finds a person (deleted from the directory, moved out of
``user_base``, or filtered out by ``user_filter`` — a disabled Active Directory account), and
``DIRECTORY_DEPROVISION`` is ``"suspend"`` (the default), the account is suspended and every one
of its sessions ends at once; ``"keep"`` leaves it active (groups still take back what they gave).

The suspension is the directory's own: ``suspended_by_id`` stays empty, and the identity that
vanished remembers it (``Identity.deprovisioned_at``, equal to ``User.suspended_at``).  When the
directory finds the person again (the next sync, or a sign-in through it), that suspension — and
only that one — is lifted.  An account an administrator suspended, before or since, stays
suspended until an administrator reactivates it.

The last active administrator is never suspended (the platform would be orphaned): that is
written in the audit log instead.  Every suspension and reactivation is in the audit log
(``directory.suspended``, ``directory.reactivated``, ``directory.suspension_kept``), with no
actor: the directory did it.  The caller commits.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from maillage.auth.sessions.operations import end_user_sessions
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

logger = logging.getLogger(__name__)

SUSPEND = "suspend"
KEEP = "keep"
MODES = (SUSPEND, KEEP)
#: how far apart the two copies of the suspension time may be read back (storage rounding)
SAME_MOMENT = dt.timedelta(seconds=1)


def deprovision_mode() -> str:
    """``DIRECTORY_DEPROVISION``; an unknown value keeps accounts (and says so in the log): a
    typo must not suspend everybody."""
    mode = str(current_app.config.get("DIRECTORY_DEPROVISION", SUSPEND)).strip().lower()
    if mode not in MODES:
        logger.error("DIRECTORY_DEPROVISION=%r is neither suspend nor keep: accounts kept", mode)
        return KEEP
    return mode


def _deleted(user: User) -> bool:
    return bool(user.deleted_at or user.deletion_requested_at)


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.is_admin.is_(True), User.is_active.is_(True), User.id != user.id
        )
    )


def deprovision(user: User, provider: str, identities: list) -> bool:
    """Suspend ``user``, whom directory ``provider`` no longer finds under any of
    ``identities`` (theirs at that provider), and end their sessions; False when nothing was
    done (already suspended or deactivated, or the last administrator)."""
    if not user.is_active or user.suspended_at is not None or _deleted(user):
        return False
    if user.is_admin and not _other_active_admins(user):
        record(None, "directory.suspension_kept", user, provider=provider, reason="last_admin")
        return False
    now = utcnow()
    user.is_active = False
    user.suspended_at = now
    user.suspended_by_id = None
    user.suspension_reason = _(
        "L'annuaire « %(provider)s » ne connaît plus cette personne.", provider=provider
    )
    for identity in identities:
        identity.deprovisioned_at = now
    ended = end_user_sessions(user, reason="deprovisioned")
    record(None, "directory.suspended", user, provider=provider, sessions=ended)
    return True


def _suspended_by(identity, user: User) -> bool:
    """Whether the account's current suspension is the one the sync made for ``identity``."""
    return (
        user.suspended_at is not None
        and user.suspended_by_id is None
        and abs(user.suspended_at - identity.deprovisioned_at) <= SAME_MOMENT
    )


def lift_directory_suspension(user: User, identity) -> bool:
    """The directory of ``identity`` finds the person again: lift the suspension it made (and no
    other); True when the account is active again."""
    if identity.deprovisioned_at is None:
        return False
    ours = _suspended_by(identity, user) and not _deleted(user)
    identity.deprovisioned_at = None
    if not ours:
        return False
    user.is_active = True
    user.suspended_at = None
    user.suspension_reason = None
    record(None, "directory.reactivated", user, provider=identity.provider)
    return True
