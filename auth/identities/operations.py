"""Identifying: which account an authenticated identity is, created or linked when needed.

Every provider ends in :func:`establish_identity`; the web flows then call
:func:`complete_login`.  Linking is explicit: an identity joins an existing account only when
the person is signed in and asks for it (``link_to``), or when the provider vouches for an
e-mail address that an account has verified (``IdentityInfo.email_verified``).
"""

from __future__ import annotations

import re

from flask import session
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from maillage.auth import signals
from maillage.auth.identities.access import check_access
from maillage.auth.identities.info import IdentityInfo
from maillage.auth.identities.models import Identity
from maillage.auth.session import start_session
from maillage.communities.organisations.models import Organisation
from maillage.communities.organisations.operations import organisation_for_siret
from maillage.communities.users.models import User
from maillage.communities.users.operations import (
    RESERVED_USERNAMES,
    USERNAME_RE,
    create_user,
    normalise_email,
)
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db

SUSPENDED = _l(
    "Ce compte est suspendu par l'administration de la plateforme. "
    "Contactez-la pour en savoir plus."
)

#: session key naming the provider of the current session (for the provider's own sign-out)
SESSION_PROVIDER_KEY = "auth_provider"


def find_identity(provider: str, identifier: str) -> Identity | None:
    return db.session.scalar(
        select(Identity).where(Identity.provider == provider, Identity.identifier == identifier)
    )


def establish_identity(
    info: IdentityInfo, provider_rules: dict | None = None, link_to: User | None = None
) -> User:
    """The account ``info`` signs in to: found, linked or created; the caller commits.

    Raises :class:`~maillage.auth.identities.access.AccessRefused` when an access rule is not
    met, :class:`NotAllowed` for a deactivated account, :class:`Conflict` when ``link_to`` asks
    to link an identity another account holds.
    """
    organisation = _organisation(info)
    check_access(info, provider_rules or {}, organisation.kind if organisation else None)
    identity = find_identity(info.provider, info.identifier)
    created = False
    if link_to is not None:
        identity = _link(identity, info, link_to)
    elif identity is None:
        user = _account_for_verified_email(info)
        created = user is None
        identity = _new_identity(info, user or _create_account(info, organisation))
    user = identity.user
    if not user.is_active and user.suspended_at is not None:
        raise NotAllowed(SUSPENDED)
    if not user.is_active:
        raise NotAllowed(
            _l("Ce compte est désactivé. Contactez l'administrateur de la plateforme.")
        )
    _refresh(user, identity, info, organisation)
    signals.identity_established.send(user, info=info, identity=identity, created=created)
    return user


def _organisation(info: IdentityInfo) -> Organisation | None:
    if not info.organisation_siret:
        return None
    try:
        return organisation_for_siret(
            info.organisation_siret, info.organisation_name, info.organisation_kind
        )
    except OperationError:
        return None  # a malformed SIRET from a provider names no organisation


def _link(identity: Identity | None, info: IdentityInfo, user: User) -> Identity:
    if identity is not None and identity.user_id != user.id:
        raise Conflict(_l("Cette identité est déjà liée à un autre compte."))
    if identity is None:
        identity = _new_identity(info, user)
        record(user, "auth.identity_linked", user, provider=info.provider)
    return identity


def _new_identity(info: IdentityInfo, user: User) -> Identity:
    identity = Identity(user=user, provider=info.provider, identifier=info.identifier)
    db.session.add(identity)
    return identity


def _account_for_verified_email(info: IdentityInfo) -> User | None:
    """An account with the same address, when both sides have verified it."""
    if not (info.email and info.email_verified):
        return None
    user = db.session.scalar(select(User).where(User.email == _normalised(info.email)))
    if user is None or user.email_verified_at is None:
        return None
    record(user, "auth.identity_linked", user, provider=info.provider, by="verified_email")
    return user


def _normalised(email: str | None) -> str | None:
    try:
        return normalise_email(email) if email else None
    except OperationError:
        return None


def _create_account(info: IdentityInfo, organisation: Organisation | None) -> User:
    email = _normalised(info.email)
    if email and db.session.scalar(select(User.id).where(User.email == email)):
        email = None  # another account holds it, unverified: never linked, never stolen
    user = create_user(
        _available_username(info), info.display_name[:120] or "?", email, None, organisation
    )
    if email and info.email_verified:
        user.email_verified_at = utcnow()
    record(user, "auth.account_created", user, provider=info.provider)
    return user


def _available_username(info: IdentityInfo) -> str:
    base = info.username_hint or (info.email or "").split("@")[0] or info.display_name
    base = re.sub(r"[^a-z0-9_.-]+", ".", _ascii(base).lower()).strip("._-")[:56] or "agent"
    if len(base) < 3:
        base = f"{base}.agent"
    candidate, number = base, 1
    while (
        not USERNAME_RE.match(candidate)
        or candidate in RESERVED_USERNAMES
        or db.session.scalar(select(User.id).where(func.lower(User.username) == candidate))
    ):
        number += 1
        candidate = f"{base}{number}"
    return candidate


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _refresh(user: User, identity: Identity, info: IdentityInfo, organisation) -> None:
    """What the provider says now wins over what it said before."""
    identity.email = info.email
    identity.data = dict(info.data)
    identity.last_login_at = utcnow()
    if organisation is not None and user.organisation_id != organisation.id:
        user.organisation = organisation
    if info.email_verified and user.email and user.email == _normalised(info.email):
        user.email_verified_at = user.email_verified_at or utcnow()


def unlink_identity(user: User, identity: Identity) -> None:
    """Remove a way in, never the last one (a password counts as one); the caller commits."""
    if identity.user_id != user.id:
        raise NotAllowed(_l("Cette identité n'appartient pas à votre compte."))
    others = db.session.scalar(
        select(func.count(Identity.id)).where(
            Identity.user_id == user.id, Identity.id != identity.id
        )
    )
    if not others and not user.password_hash:
        raise OperationError(
            _l(
                "C'est votre seul moyen de connexion : définissez un mot de passe ou liez une "
                "autre identité avant de la retirer."
            )
        )
    record(user, "auth.identity_unlinked", user, provider=identity.provider)
    db.session.delete(identity)


def complete_login(user: User, provider: str, remember: bool = False) -> None:
    """Open a fresh session for ``user`` signed in through ``provider`` (``local`` for a
    password) and write it in the audit log; commits."""
    record(user, "auth.login", user, provider=provider)
    start_session(user, remember=remember)
    session[SESSION_PROVIDER_KEY] = provider


def record_failure(provider: str, reason: str, user: User | None = None, **data) -> None:
    """Audit a failed sign-in (whatever the request rolled back) and commit it.

    ``data`` must hold no secret: a login name is fine, a password or a token never.
    """
    db.session.rollback()
    record(user, "auth.login_failed", user, provider=provider, reason=reason, **data)
    db.session.commit()
