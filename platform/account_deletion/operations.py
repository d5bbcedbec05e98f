"""Account deletion: a request, a cooling-off period, then anonymisation.

The person (or an administrator) asks; the deletion waits ``ACCOUNT_DELETION_DELAY_DAYS``, during
which the person can still sign in to cancel it (an administrator's request only an
administrator cancels).  A periodic task then queues one outbox item per due person;
:func:`execute` re-checks the refusals, sends a Delete of the Person to the instances that
received their content, asks every registered personal-data holder to erase its rows, and
anonymises the ``users`` row, which is kept so that foreign keys stay valid.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from maillage.auth.sessions.operations import end_user_sessions
from maillage.communities.community.models import Community, Membership, Role
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.outbox.operations import enqueue
from maillage.platform.personal_data.registry import HOLDERS, Erasure

EXECUTE_KIND = "account_deletion.execute"
#: What an anonymised account is called everywhere its contributions remain.
FORMER_MEMBER = "Ancien membre"
USERNAME_PREFIX = "ancien-membre-"


class DeletionRefused(OperationError):
    """The account cannot be deleted now; ``communities`` lists those to hand over first."""

    def __init__(self, message, communities=(), **params) -> None:
        super().__init__(message, **params)
        self.communities = list(communities)


# -- refusals ----------------------------------------------------------------------------------


def last_owned_communities(user: User) -> list[Community]:
    """Communities of which ``user`` is the only owner (they must hand over first)."""
    other_owner = (
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.community_id == Community.id,
            Membership.role == Role.OWNER,
            Membership.user_id != user.id,
            User.is_active.is_(True),
            User.deletion_due_at.is_(None),
        )
        .exists()
    )
    return list(
        db.session.scalars(
            select(Community)
            .join(Membership, Membership.community_id == Community.id)
            .where(Membership.user_id == user.id, Membership.role == Role.OWNER, ~other_owner)
            .order_by(Community.name)
        )
    )


def is_last_admin(user: User) -> bool:
    if not user.is_admin:
        return False
    others = db.session.scalar(
        select(func.count(User.id)).where(
            User.is_admin.is_(True),
            User.is_active.is_(True),
            User.id != user.id,
            User.deletion_due_at.is_(None),
        )
    )
    return not others


def _export_in_progress(user: User) -> bool:
    """Whether an export of the person's data is being built (the personal data package's
    answer; until that package provides it, no export can be running)."""
    try:
        from maillage.platform.personal_data.queries import export_in_progress
    except ImportError:
        return False
    return bool(export_in_progress(user))


def check_deletable(user: User, *, execution: bool = False) -> None:
    """Raise :class:`DeletionRefused` when the account cannot be deleted now."""
    owned = last_owned_communities(user)
    if owned:
        raise DeletionRefused(
            _l(
                "Vous êtes le dernier propriétaire de ces communautés : confiez-les à un autre "
                "membre avant de supprimer le compte."
            ),
            communities=owned,
        )
    if is_last_admin(user):
        raise DeletionRefused(
            _l(
                "C'est le dernier compte administrateur actif de la plateforme : nommez un autre "
                "administrateur avant de le supprimer."
            )
        )
    if not execution and _export_in_progress(user):
        raise DeletionRefused(
            _l(
                "Une exportation de vos données est en cours : attendez qu'elle soit prête avant "
                "de supprimer le compte."
            )
        )


# -- request and cancel ------------------------------------------------------------------------


def delay() -> dt.timedelta:
    return dt.timedelta(days=int(current_app.config.get("ACCOUNT_DELETION_DELAY_DAYS", 7)))


def request_deletion(
    user: User,
    erasure: Erasure | str = Erasure.KEEP_CONTENT,
    *,
    requested_by: User | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> User:
    """Schedule the deletion of ``user``'s account (``requested_by``: the administrator, when it
    is not the person); the caller commits.  Asking again while one is pending changes nothing."""
    if user.deleted_at is not None or not user.local:
        raise OperationError(_l("Ce compte ne peut pas être supprimé."))
    if user.deletion_due_at is not None:
        raise OperationError(_l("La suppression de ce compte est déjà programmée."))
    erasure = Erasure(erasure)
    check_deletable(user)
    now = now or utcnow()
    by_admin = requested_by is not None and requested_by.id != user.id
    user.deletion_requested_at = now
    user.deletion_due_at = now + delay()
    user.deletion_erasure = erasure.value
    user.deletion_requested_by_id = requested_by.id if by_admin else None
    if requested_by is not None:  # asked by someone, not by the inactivity pass
        user.inactivity_warned_at = None
    details = {"erasure": erasure.value, "due": user.deletion_due_at.isoformat()}
    if by_admin and reason:
        details["reason"] = reason
    record(requested_by or user, "account.deletion_requested", user, **details)
    from maillage.platform.account_deletion import mails

    mails.requested(user, by_admin=by_admin, reason=reason)
    return user


def may_cancel(actor: User | None, user: User) -> bool:
    """Whoever asked may cancel; an administrator's request, only an administrator."""
    if actor is None or user.deletion_due_at is None:
        return False
    if actor.is_admin:
        return True
    return actor.id == user.id and user.deletion_requested_by_id is None


def cancel_deletion(user: User, actor: User) -> User:
    """Cancel a pending deletion; the caller commits."""
    if user.deletion_due_at is None:
        raise OperationError(_l("Aucune suppression n'est programmée pour ce compte."))
    if not may_cancel(actor, user):
        raise NotAllowed(_l("Seul un administrateur peut annuler cette suppression."))
    _clear_request(user)
    record(actor, "account.deletion_cancelled", user)
    from maillage.platform.account_deletion import mails

    mails.cancelled(user)
    return user


def _clear_request(user: User) -> None:
    user.deletion_requested_at = user.deletion_due_at = None
    user.deletion_erasure = user.deletion_requested_by_id = None
    user.inactivity_warned_at = None


def _came_back(user: User) -> bool:
    """A deletion scheduled for inactivity is dropped when the person visited since."""
    return (
        user.inactivity_warned_at is not None
        and user.deletion_requested_by_id is None
        and user.last_seen_at is not None
        and user.deletion_requested_at is not None
        and user.last_seen_at > user.deletion_requested_at
    )


# -- execution ---------------------------------------------------------------------------------


def queue_due(now: dt.datetime | None = None) -> int:
    """One outbox item per person whose deletion is due (the periodic task); commits."""
    now = now or utcnow()
    ids = list(
        db.session.scalars(
            select(User.id).where(
                User.deletion_due_at <= now, User.deleted_at.is_(None), User.local.is_(True)
            )
        )
    )
    for user_id in ids:
        enqueue(EXECUTE_KIND, user_id=user_id, now=now.isoformat())
    db.session.commit()
    return len(ids)


def execute(user_id: int, now: dt.datetime | None = None) -> bool:
    """Delete the account now if it is still due; idempotent.  Returns whether it was deleted.

    When the person became the last owner of a community (or the last administrator) in the
    meantime, the deletion is postponed by one more delay and they are told by e-mail.
    """
    now = now or utcnow()
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None or user.deletion_due_at is None:
        return False
    if user.deletion_due_at > now:
        return False
    if _came_back(user):
        _clear_request(user)
        record(None, "account.inactive_deletion_cancelled", user)
        db.session.commit()
        return False
    if _export_in_progress(user):
        # The archive being built would be written after the erasure (or its file left
        # behind): wait for it; the hourly pass queues the deletion again.
        return False
    try:
        check_deletable(user, execution=True)
    except DeletionRefused as refusal:
        _postpone(user, refusal, now)
        db.session.commit()
        return False
    erasure = Erasure(user.deletion_erasure or Erasure.KEEP_CONTENT)
    from maillage.platform.account_deletion import federation, mails, search

    email, locale = user.email, user.locale
    federation.send_delete_person(user)
    reindex = search.affected_documents(user)
    for holder in HOLDERS.values():
        holder.erase(user, erasure)
    anonymise(user, now)
    search.schedule(reindex, user)
    record(None, "account.deleted", user, erasure=erasure.value)
    mails.completed(email, locale)
    db.session.commit()
    return True


def _postpone(user: User, refusal: DeletionRefused, now: dt.datetime) -> None:
    user.deletion_due_at = now + delay()
    record(None, "account.deletion_postponed", user, due=user.deletion_due_at.isoformat())
    from maillage.platform.account_deletion import mails

    mails.postponed(user, refusal)


def tombstone_ap_id(username: str) -> str:
    from maillage.federation.ids import local_ap_id

    return local_ap_id("user", username)


def anonymise(user: User, now: dt.datetime) -> None:
    """Strip the kept ``users`` row of everything that names or reaches the person."""
    username = f"{USERNAME_PREFIX}{secrets.token_hex(8)}"
    user.username = username
    user.display_name = FORMER_MEMBER
    user.ap_id = tombstone_ap_id(username)
    user.email = user.password_hash = user.locale = None
    user.email_verified_at = user.last_seen_at = None
    user.bio = user.job_title = ""
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    user.organisation_id = None
    user.is_admin = user.is_trainer = user.is_ambassador = False
    user.is_active = False
    end_user_sessions(user, reason="deleted")
    user.deletion_due_at = user.deletion_requested_by_id = user.inactivity_warned_at = None
    user.suspended_at = user.suspended_by_id = None
    user.suspension_reason = None
    user.charter_accepted_at = None
    user.deleted_at = now


def purge_delivered_keys() -> int:
    """Delete the key pairs of deleted people once their Delete{Person} has left; commits."""
    from maillage.federation.actors.models import ActorKey
    from maillage.federation.actors.personal_data import purge_key
    from maillage.platform.account_deletion.federation import delete_pending

    purged = 0
    users = db.session.scalars(
        select(User).join(ActorKey, ActorKey.user_id == User.id).where(User.deleted_at.isnot(None))
    ).all()
    for user in users:
        if not delete_pending(user):
            purge_key(user)
            purged += 1
    db.session.commit()
    return purged
