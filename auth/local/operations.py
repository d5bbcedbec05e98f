"""Local accounts: sign-up, password sign-in, password reset and change.

No function reads ``request``: views, the CLI and tests call the same code.  The caller commits;
e-mails are queued in the outbox in the same transaction, rendered in the recipient's language.

Account enumeration: sign-up and the "forgot password" form answer the same whether or not an
address is known (the owner of a known address is told by e-mail instead), and sign-in spends the
same Argon2 time for an unknown account as for a wrong password.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from maillage.auth.identities.operations import SUSPENDED, record_failure
from maillage.auth.passwords import hash_password, needs_rehash, verify_password
from maillage.communities.community.operations import (
    CHARTER_REQUIRED,
    accept_invitation,
    invitation_for_token,
)
from maillage.communities.organisations.models import Organisation
from maillage.communities.users.models import User
from maillage.communities.users.operations import (
    EmailTaken,
    create_user,
    normalise_email,
    set_password,
)
from maillage.communities.users.queries import local_user_by_email
from maillage.platform import mail
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db

log = logging.getLogger(__name__)

RESET_SALT = "maillage.auth.password-reset"


# -- links and e-mails -------------------------------------------------------------------------


def absolute_url(endpoint: str, **values) -> str:
    """A link for an e-mail, on the configured public address.

    Never built from the request's Host header, which the client controls: a forged host would
    otherwise receive password reset tokens.
    """
    path = current_app.url_map.bind("maillage.invalid").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def mail_user(user: User, subject, template: str, **context) -> None:
    """Queue an e-mail to ``user`` in their language (or the instance's)."""
    if not user.email:
        return
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template(
            f"auth/email/{template}.txt",
            user=user,
            site=current_app.config["INSTANCE_NAME"],
            **context,
        )
        mail.send(user.email, str(subject), text)


def _login_url(next_url: str | None = None) -> str:
    return absolute_url("auth.login", **({"next": next_url} if next_url else {}))


# -- sign-up -----------------------------------------------------------------------------------


def sign_up(
    username: str,
    display_name: str,
    email: str,
    password: str,
    organisation: Organisation | None,
    next_url: str | None = None,
) -> User | None:
    """Create a local account and mail its owner a welcome; return it.

    When the address already has an account nothing is created and ``None`` is returned: the
    page shown must be the same, and the address's owner receives an e-mail saying someone tried
    to sign up with it.  A concurrent sign-up with the same name or address makes the flush fail
    with ``IntegrityError``; the caller rolls back and calls again, and the checks then see it.
    """
    try:
        user = create_user(username, display_name, email, password, organisation=organisation)
    except EmailTaken:
        hash_password(password)  # the same Argon2 time as a real sign-up: timing tells nothing
        _warn_existing_owner(local_user_by_email(normalise_email(email)), next_url)
        return None
    mail_user(
        user,
        _l("Bienvenue sur %(site)s", site=current_app.config["INSTANCE_NAME"]),
        "welcome",
        login_url=_login_url(next_url),
    )
    return user


def _warn_existing_owner(owner: User | None, next_url: str | None) -> None:
    if owner is None:  # a remote account holds the address: nobody here to warn
        return
    log.info("sign-up attempted with the address of user %s", owner.id)
    mail_user(
        owner,
        _l(
            "Tentative de création de compte sur %(site)s",
            site=current_app.config["INSTANCE_NAME"],
        ),
        "signup_attempt",
        login_url=_login_url(next_url),
        forgot_url=absolute_url("auth.forgot_password"),
    )


# -- invited accounts --------------------------------------------------------------------------


INVITATION_GONE = _l("Cette invitation n'est plus valable (expirée ou déjà utilisée).")


class InvitationGone(OperationError):
    pass


def address_has_account(email: str) -> bool:
    """Does an account (local or federated) hold ``email``?

    Only asked for the holder of an invitation link, which was mailed to that very address: the
    answer tells them nothing about anyone else.
    """
    return db.session.scalar(select(User.id).where(User.email == email)) is not None


def create_invited_account(
    token: str,
    username: str,
    display_name: str,
    password: str,
    organisation: Organisation | None,
    accept_charter: bool | None = None,
) -> User:
    """Create the local account an invitation link offers and accept the invitation with it;
    the caller commits (account, membership and the spent invitation go together or not at all).

    The address is the invited one, verified: the link was mailed there.  Raises
    :class:`InvitationGone` when the invitation is no longer valid (already used, expired: the
    acceptance claims it in one statement, so it is used once), :class:`EmailTaken` when the
    address got an account in the meantime (the person signs in instead).
    """
    invitation = invitation_for_token(token)
    if invitation is None:
        raise InvitationGone(INVITATION_GONE)
    if invitation.community.charter and accept_charter is False:
        raise OperationError(CHARTER_REQUIRED)  # checked before anything is created
    user = create_user(username, display_name, invitation.email, password, organisation)
    user.email_verified_at = utcnow()
    record(user, "auth.account_created", user, provider="local", invitation=invitation.id)
    try:
        accept_invitation(token, user, accept_charter)
    except OperationError as exc:  # another click spent it first
        raise InvitationGone(INVITATION_GONE) from exc
    mail_user(
        user,
        _l("Bienvenue sur %(site)s", site=current_app.config["INSTANCE_NAME"]),
        "welcome",
        login_url=_login_url(),
    )
    return user


# -- sign-in -----------------------------------------------------------------------------------


def find_local_account(login: str) -> User | None:
    """The local account named by a username or an e-mail address (usernames hold no ``@``)."""
    login = login.strip()
    if "@" in login:
        try:
            return local_user_by_email(normalise_email(login))
        except OperationError:
            return None
    return db.session.scalar(
        select(User).where(User.username == login.lower(), User.local.is_(True))
    )


class AccountSuspended(OperationError):
    """The right password of a suspended account (see :mod:`maillage.platform.people`)."""


def authenticate(login: str, password: str) -> User | None:
    """The account if ``password`` opens it, else ``None`` — after the same Argon2 work whether
    the account is unknown, inactive, without password, or the password is wrong.  Raises
    :class:`AccountSuspended` when the right password opens a suspended account.

    A hash made with older Argon2 parameters is replaced on success (the caller commits).
    """
    user = find_local_account(login)
    suspended = user is not None and not user.is_active and user.suspended_at is not None
    active = user is not None and (user.is_active or suspended)
    password_hash = user.password_hash if active else None
    if not verify_password(password_hash, password):
        if user is not None:
            log.info("failed sign-in for user %s", user.id)
            record_failure("local", "bad_password", user)
        return None
    if suspended:  # told only to whoever knows the password: it reveals nothing to others
        record_failure("local", "suspended", user)
        raise AccountSuspended(SUSPENDED)
    if needs_rehash(password_hash):
        user.password_hash = hash_password(password)
        record(user, "user.password_rehashed", user)
    return user


# -- password reset ----------------------------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _fingerprint(user: User) -> str:
    """Changes whenever the password (its salted hash) or the address changes, so a reset link
    works once and dies when the password is changed another way."""
    message = f"{user.id}|{user.password_hash or ''}|{user.email or ''}".encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def password_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"u": user.id, "f": _fingerprint(user)})


#: how long the link mailed to a pre-provisioned account (no password yet) stays valid
ACCOUNT_SETUP_VALID_SECONDS = 14 * 24 * 3600


def account_setup_token(user: User) -> str:
    """A link for an account an administrator created without a password (platform/people):
    the person chooses one through the reset page; it works once and lasts two weeks."""
    return _reset_serializer().dumps({"u": user.id, "f": _fingerprint(user), "s": 1})


def _reset_token_data(token: str) -> dict | None:
    """The signed content of a reset (or account set-up) token still valid, else ``None``."""
    serializer = _reset_serializer()
    reset_age = current_app.config["PASSWORD_RESET_VALID_SECONDS"]
    try:
        data = serializer.loads(token, max_age=max(reset_age, ACCOUNT_SETUP_VALID_SECONDS))
        if not isinstance(data, dict) or not isinstance(data.get("u"), int):
            return None
        if data.get("s") != 1:
            serializer.loads(token, max_age=reset_age)
    except BadSignature:  # includes SignatureExpired
        return None
    return data


def user_for_reset_token(token: str) -> User | None:
    """The account a reset token opens, or ``None`` when it is forged, expired or already used."""
    data = _reset_token_data(token)
    if data is None:
        return None
    setup = data.get("s") == 1
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active or not user.local:
        return None
    if not user.password_hash and not setup:
        return None
    if not hmac.compare_digest(str(data.get("f", "")), _fingerprint(user)):
        return None
    return user


def request_password_reset(email: str) -> None:
    """Mail a reset link to the owner of ``email``, if any; the caller says the same either way.

    An account without a local password (it signs in through its organisation) is told so
    instead: a reset must not add a password that outlives the organisation's own sign-in.
    """
    user = local_user_by_email(normalise_email(email))
    if user is None or not user.is_active:
        return
    if not user.password_hash:
        mail_user(user, _l("Votre compte n'a pas de mot de passe"), "password_none")
        return
    seconds = current_app.config["PASSWORD_RESET_VALID_SECONDS"]
    mail_user(
        user,
        _l("Réinitialiser votre mot de passe"),
        "password_reset",
        reset_url=absolute_url("auth.reset_password", token=password_reset_token(user)),
        minutes=max(1, seconds // 60),
    )
    record(user, "user.password_reset_requested", user)


def reset_password(user: User, password: str) -> None:
    """Set a new password from a reset link; every existing session of the account ends.  The
    link came by e-mail: the address is verified."""
    set_password(user, password)
    user.email_verified_at = user.email_verified_at or utcnow()
    _mail_password_changed(user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change a password knowing the current one; every existing session of the account ends."""
    if not verify_password(user.password_hash, current_password):
        raise OperationError(_l("Le mot de passe actuel est incorrect."))
    set_password(user, new_password)
    _mail_password_changed(user)


def _mail_password_changed(user: User) -> None:
    mail_user(
        user,
        _l("Votre mot de passe a été modifié"),
        "password_changed",
        forgot_url=absolute_url("auth.forgot_password"),
    )
