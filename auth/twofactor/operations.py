"""The TOTP second factor of local accounts (RFC 6238, 30-second steps, 6 digits) and its
single-use recovery codes.

A secret is stored on the account when set-up starts and becomes active (``totp_enabled_at``)
once a first code proves the person's app holds it.  A code is accepted for the previous, current
or next step, and never twice: the step of the last accepted code is kept (``totp_last_step``) and
moved forward in the same statement that checks it, so two requests racing with one code cannot
both pass.  Recovery codes are random (about 50 bits each), shown once, stored as SHA-256 hashes.

Nothing here reads ``request``; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from maillage.auth.local.operations import mail_user
from maillage.auth.passwords import verify_password
from maillage.auth.twofactor.models import RecoveryCode
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db

STEP_SECONDS = 30
DIGITS = 6
#: steps accepted around the current one (a phone's clock drifts, people type slowly)
WINDOW = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10
#: no 0/o, 1/l/i: codes are copied by hand from paper
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

#: the clock (tests move it forward instead of waiting for the next step)
_clock = time.time

WRONG_CODE = _l("Code incorrect, expiré ou déjà utilisé.")


class WrongCode(OperationError):
    """The code (or password) given to prove the second factor is not right."""


# -- codes -------------------------------------------------------------------------------------


def current_step() -> int:
    return int(_clock()) // STEP_SECONDS


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def normalise_code(code: str) -> str:
    """What a person typed, without spaces or dashes, in lower case."""
    return "".join(code.split()).replace("-", "").lower()


def is_totp_code(code: str) -> bool:
    code = normalise_code(code)
    return len(code) == DIGITS and code.isdigit()


def _matching_step(secret: str, code: str) -> int | None:
    """The step within the window whose code ``code`` is (compared in constant time)."""
    totp, now = _totp(secret), current_step()
    for step in range(now + WINDOW, now - WINDOW - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Move the account's last accepted step to ``step``, unless a code of that step or a later
    one was already accepted; one statement, so a code is accepted once even under a race."""
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        set_committed_value(user, "totp_last_step", step)
    return bool(claimed)


def verify_totp(user: User, code: str, secret: str | None = None) -> bool:
    """Is ``code`` a fresh code of the account's secret (or of ``secret``, during set-up)?
    A code accepted here is spent."""
    secret = secret or user.totp_secret
    code = normalise_code(code)
    if not secret or not is_totp_code(code):
        return False
    step = _matching_step(secret, code)
    return step is not None and _claim_step(user, step)


# -- recovery codes ----------------------------------------------------------------------------


def _hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    half = RECOVERY_CODE_LENGTH // 2
    return f"{raw[:half]}-{raw[half:]}"


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_code(code)) for code in codes)
    return codes


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one of the account's unused recovery codes (marked used in the checking statement)."""
    if not user.totp_enabled_at or len(normalise_code(code)) != RECOVERY_CODE_LENGTH:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if used:
        record(user, "auth.recovery_code_used", user, remaining=remaining_recovery_codes(user))
    return bool(used)


def check_second_factor(user: User, code: str) -> str | None:
    """Spend ``code``, a TOTP code or a recovery code: ``"totp"``, ``"recovery"`` or ``None``."""
    if not user.totp_enabled_at:
        return None
    if is_totp_code(code):
        return "totp" if verify_totp(user, code) else None
    return "recovery" if use_recovery_code(user, code) else None


# -- set-up and removal ------------------------------------------------------------------------


def _require_password_account(user: User) -> None:
    if not user.local or not user.password_hash:
        raise NotAllowed(
            _l(
                "La double authentification protège les comptes à mot de passe ; votre "
                "organisation gère la sécurité de votre connexion."
            )
        )


def pending_secret(user: User) -> str:
    """The secret being set up (created on first call, kept until confirmed or replaced)."""
    _require_password_account(user)
    if user.totp_enabled_at:
        raise OperationError(_l("La double authentification est déjà activée."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32(32)
    return user.totp_secret


def restart_setup(user: User) -> str:
    """Replace a secret being set up (the person wants a new key)."""
    if user.totp_enabled_at:
        raise OperationError(_l("La double authentification est déjà activée."))
    user.totp_secret = None
    return pending_secret(user)


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    issuer = current_app.config["INSTANCE_NAME"]
    return _totp(secret).provisioning_uri(name=user.email or user.username, issuer_name=issuer)


def enable(user: User, code: str) -> list[str]:
    """Activate the secret being set up once ``code`` proves the app has it; returns the new
    recovery codes (to show once)."""
    secret = pending_secret(user)
    if not verify_totp(user, code, secret=secret):
        raise WrongCode(WRONG_CODE)
    user.totp_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    record(user, "auth.totp_enabled", user)
    mail_user(user, _l("Double authentification activée"), "totp_enabled")
    return codes


def _require_enabled(user: User) -> None:
    if not user.totp_enabled_at:
        raise OperationError(_l("La double authentification n'est pas activée."))


def disable(user: User, password: str, code: str) -> None:
    """Remove the second factor, knowing the password and a code (or a recovery code)."""
    _require_enabled(user)
    if not verify_password(user.password_hash, password):
        raise WrongCode(_l("Le mot de passe est incorrect."))
    if check_second_factor(user, code) is None:
        raise WrongCode(WRONG_CODE)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record(user, "auth.totp_disabled", user)
    mail_user(user, _l("Double authentification désactivée"), "totp_disabled")


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), knowing a code from the app."""
    _require_enabled(user)
    if not verify_totp(user, code):
        raise WrongCode(WRONG_CODE)
    codes = _replace_recovery_codes(user)
    record(user, "auth.recovery_codes_regenerated", user)
    return codes
