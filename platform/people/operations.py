"""What platform administrators do to accounts: suspend and reactivate, end sessions, force a
password reset, remove the second factor, grant and revoke platform roles.

Every function checks that ``actor`` is an administrator, writes the audit log (``people.*``)
and, when the person must know, queues an e-mail in the same transaction.  The caller commits.
Suspending ends every session (``auth.sessions``: records deleted, ``session_version`` bumped)
and clears ``is_active``, which every way in checks: Flask-Login's loader, password sign-in,
OIDC/LDAP sign-in, API tokens.
The last active administrator is never suspended nor demoted: the platform would be orphaned.
"""

from __future__ import annotations

import secrets

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from maillage.auth.local.operations import absolute_url, password_reset_token
from maillage.auth.passwords import hash_password
from maillage.auth.sessions.operations import end_user_sessions
from maillage.auth.twofactor.models import RecoveryCode
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform import mail
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db

REASON_MAX = 1000
#: platform roles an administrator grants, and the User flag each one sets
ROLES = {"admin": "is_admin", "trainer": "is_trainer", "ambassador": "is_ambassador"}
ROLE_LABELS = {
    "admin": _l("Administrateur ou administratrice"),
    "trainer": _l("Formateur ou formatrice"),
    "ambassador": _l("Ambassadeur ou ambassadrice"),
}
LAST_ADMIN = _l(
    "C'est le dernier compte administrateur actif : nommez d'abord un autre administrateur."
)


# -- helpers -----------------------------------------------------------------------------------


def require_admin(actor: User | None) -> None:
    if not can(actor, "admin"):
        raise NotAllowed(_l("Seuls les administrateurs de la plateforme peuvent faire cela."))


def _reason(reason: str | None, required: bool = True) -> str:
    reason = " ".join((reason or "").split())
    if required and not reason:
        raise OperationError(_l("Indiquez un motif."))
    if len(reason) > REASON_MAX:
        raise OperationError(_l("Le motif fait %(n)d caractères au plus."), n=REASON_MAX)
    return reason


def _require_local(user: User) -> None:
    if not user.local:
        raise OperationError(_l("Ce compte appartient à une autre instance."))


def is_deleted_or_pending(user: User) -> bool:
    """Whether account deletion (platform/account_deletion) holds this account."""
    return bool(getattr(user, "deleted_at", None) or getattr(user, "deletion_requested_at", None))


def active_admin_count() -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(User.is_admin, User.is_active, User.local)
    )


def _refuse_last_admin(user: User) -> None:
    if user.is_admin and user.is_active and active_admin_count() <= 1:
        raise OperationError(LAST_ADMIN)


def mail_person(user: User, subject, template: str, **context) -> None:
    """Queue an e-mail to ``user`` in their language, from ``people/email/<template>.txt``."""
    if not user.email:
        return
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template(
            f"people/email/{template}.txt",
            user=user,
            site=current_app.config["INSTANCE_NAME"],
            **context,
        )
        mail.send(user.email, str(subject), text)


# -- suspension --------------------------------------------------------------------------------


def suspend(actor: User, user: User, reason: str) -> None:
    """Suspend ``user``: every session and API token stops working at once, sign-in is refused
    with a message saying so, and the person is told why by e-mail."""
    require_admin(actor)
    reason = _reason(reason)
    _require_local(user)
    if user.id == actor.id:
        raise OperationError(_l("Vous ne pouvez pas suspendre votre propre compte."))
    if user.suspended_at is not None:
        raise OperationError(_l("Ce compte est déjà suspendu."))
    if not user.is_active:
        raise OperationError(_l("Ce compte est déjà désactivé."))
    _refuse_last_admin(user)
    user.is_active = False
    user.suspended_at = utcnow()
    user.suspended_by_id = actor.id
    user.suspension_reason = reason
    end_user_sessions(user, reason="suspended", actor=actor)
    record(actor, "people.suspend", user, reason=reason)
    mail_person(user, _l("Votre compte est suspendu"), "suspended", reason=reason)


def reactivate(actor: User, user: User) -> None:
    """Lift a suspension: the person signs in again (old sessions stay ended)."""
    require_admin(actor)
    if user.suspended_at is None:
        raise OperationError(_l("Ce compte n'est pas suspendu."))
    if is_deleted_or_pending(user):
        raise OperationError(_l("Ce compte est supprimé ou en cours de suppression."))
    user.is_active = True
    user.suspended_at = None
    user.suspended_by_id = None
    user.suspension_reason = None
    record(actor, "people.reactivate", user)
    mail_person(
        user,
        _l("Votre compte est réactivé"),
        "reactivated",
        login_url=absolute_url("auth.login"),
    )


# -- sessions, password, second factor ---------------------------------------------------------


def end_sessions(actor: User, user: User) -> None:
    """Sign ``user`` out of every browser at once (API tokens are not sessions: they stay)."""
    require_admin(actor)
    end_user_sessions(user, reason="admin", actor=actor)
    record(actor, "people.sessions_ended", user)


def force_password_reset(actor: User, user: User, reason: str = "") -> None:
    """The current password stops working and every session ends; the person gets a link to
    choose a new one (the usual reset link: it works once and expires)."""
    require_admin(actor)
    reason = _reason(reason, required=False)
    _require_local(user)
    if not user.password_hash:
        raise OperationError(
            _l("Ce compte n'a pas de mot de passe : la personne se connecte par son organisation.")
        )
    if not user.is_active:
        raise OperationError(_l("Ce compte est suspendu ou désactivé."))
    # A random password nobody knows: the old one stops working, the reset link still opens it.
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    end_user_sessions(user, reason="password_reset", actor=actor)
    record(actor, "people.password_reset", user, reason=reason)
    seconds = current_app.config["PASSWORD_RESET_VALID_SECONDS"]
    mail_person(
        user,
        _l("Choisissez un nouveau mot de passe"),
        "password_reset",
        reason=reason,
        reset_url=absolute_url("auth.reset_password", token=password_reset_token(user)),
        forgot_url=absolute_url("auth.forgot_password"),
        minutes=max(1, seconds // 60),
    )


def remove_two_factor(actor: User, user: User, reason: str) -> None:
    """Remove the second factor of a person who lost it (secret and recovery codes go); the
    person is told by e-mail, with the reason, and may set it up again."""
    require_admin(actor)
    reason = _reason(reason)
    if not user.totp_enabled_at and not user.totp_secret:
        raise OperationError(_l("La double authentification n'est pas activée sur ce compte."))
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record(actor, "people.two_factor_removed", user, reason=reason)
    mail_person(user, _l("Double authentification retirée"), "two_factor_removed", reason=reason)


# -- platform roles ----------------------------------------------------------------------------


def set_role(actor: User, user: User, role: str, granted: bool) -> bool:
    """Grant or revoke a platform role; returns whether anything changed."""
    require_admin(actor)
    if role not in ROLES:
        raise OperationError(_l("Rôle inconnu."))
    attribute = ROLES[role]
    if bool(getattr(user, attribute)) == granted:
        return False
    if granted and not (user.local and user.is_active):
        raise OperationError(_l("Seul un compte actif de cette instance reçoit un rôle."))
    if role == "admin" and not granted:
        _refuse_last_admin(user)
    setattr(user, attribute, granted)
    record(actor, "people.role_granted" if granted else "people.role_revoked", user, role=role)
    mail_person(
        user,
        _l("Votre rôle sur la plateforme a changé"),
        "role_changed",
        role_label=ROLE_LABELS[role],
        granted=granted,
    )
    return True
