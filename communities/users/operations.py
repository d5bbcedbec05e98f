from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from maillage.auth.passwords import MIN_LENGTH, hash_password
from maillage.auth.sessions.operations import end_user_sessions
from maillage.communities import signals
from maillage.communities.organisations.models import Organisation
from maillage.communities.users.models import User
from maillage.federation.ids import local_ap_id
from maillage.platform.audit.operations import record
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,62}[a-z0-9]$")
RESERVED_USERNAMES = frozenset({"admin", "api", "inbox", "outbox", "static", "system", "maillage"})


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise OperationError(_l("Adresse e-mail invalide.")) from exc


def validate_username(username: str) -> str:
    username = username.strip().lower()
    if not USERNAME_RE.match(username) or username in RESERVED_USERNAMES:
        raise OperationError(
            _l(
                "L'identifiant doit faire 3 à 64 caractères : lettres minuscules sans accent, "
                "chiffres, points, tirets ou soulignés."
            )
        )
    return username


def validate_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise OperationError(
            _l("Le mot de passe doit faire au moins %(n)d caractères."), n=MIN_LENGTH
        )


def create_user(
    username: str,
    display_name: str,
    email: str | None,
    password: str | None = None,
    organisation: Organisation | None = None,
    job_title: str = "",
    is_admin: bool = False,
    actor=None,
) -> User:
    """Create a local account; the caller commits."""
    username = validate_username(username)
    display_name = display_name.strip()
    if not display_name or len(display_name) > 120:
        raise OperationError(_l("Le nom affiché est obligatoire (120 caractères au plus)."))
    email = normalise_email(email) if email else None
    if password is not None:
        validate_password(password)
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        raise OperationError(_l("Cet identifiant est déjà pris."))
    if email and db.session.scalar(select(User.id).where(User.email == email)):
        # The caller decides what to show: sign-up must not reveal that the address is known.
        raise EmailTaken(_l("Un compte existe déjà avec cette adresse."))
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        password_hash=hash_password(password) if password else None,
        organisation=organisation,
        job_title=job_title.strip(),
        is_admin=is_admin,
        ap_id=local_ap_id("user", username),
    )
    db.session.add(user)
    db.session.flush()
    record(actor or user, "user.create", user)
    signals.user_created.send(user)
    return user


class EmailTaken(OperationError):
    pass


def update_profile(
    user: User, display_name: str, job_title: str, bio: str, organisation: Organisation | None
) -> User:
    display_name = display_name.strip()
    if not display_name or len(display_name) > 120:
        raise OperationError(_l("Le nom affiché est obligatoire (120 caractères au plus)."))
    if len(bio) > 2000:
        raise OperationError(_l("La présentation fait 2 000 caractères au plus."))
    user.display_name, user.job_title, user.bio = display_name, job_title.strip()[:200], bio
    user.organisation = organisation
    record(user, "user.update", user)
    signals.user_updated.send(user)
    return user


def set_password(user: User, password: str, actor=None) -> None:
    validate_password(password)
    user.password_hash = hash_password(password)
    # every other session ends with the old password
    end_user_sessions(user, reason="password", actor=actor or user)
    record(actor or user, "user.password_changed", user)


def set_locale(user: User, locale: str | None) -> None:
    """Store the interface language; ``None`` follows the browser (then the instance default)."""
    from flask import current_app

    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        raise OperationError(_l("Langue non disponible."))
    user.locale = locale


def end_other_sessions(user: User) -> None:
    """Invalidate every session of ``user`` (the login id carries the session version); the
    caller starts a fresh one for the current browser if it should stay signed in."""
    end_user_sessions(user, reason="others", actor=user)
    record(user, "user.sessions_ended", user)
