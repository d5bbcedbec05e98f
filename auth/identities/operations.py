"""Identifying: which account an authenticated identity is, created or linked when needed.

Every provider ends in :func:`establish_identity`; the web flows then call
:func:`complete_login`.  Linking is explicit.  A new identity joins an existing account:

- when the person is signed in to it and asks for it (``link_to``);
- when the provider is trusted for it (its ``link_by_email`` setting), it vouches for the
  address (``IdentityInfo.email_verified``), the account verified the same address, and the
  account is not a platform administrator's (:func:`may_link_by_email`);
- otherwise, when an account already holds the address, only once the person proved they hold
  that account (:class:`LinkProofRequired`, then :mod:`maillage.auth.identities.proofs`): nothing
  is linked nor created meanwhile.
"""

from __future__ import annotations

import re

from flask import session
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from maillage.auth import signals
from maillage.auth.directory.deprovision import lift_directory_suspension
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
from maillage.communities.users.queries import username_taken
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


class LinkProofRequired(Exception):
    """A first sign-in whose address ``account`` already holds, with no automatic link allowed:
    the person must prove they hold that account before the identity is linked to it."""

    def __init__(self, account: User) -> None:
        super().__init__(f"proof of account {account.id} required")
        self.account = account


def find_identity(provider: str, identifier: str) -> Identity | None:
    return db.session.scalar(
        select(Identity).where(Identity.provider == provider, Identity.identifier == identifier)
    )


def establish_identity(
    info: IdentityInfo,
    provider_rules: dict | None = None,
    link_to: User | None = None,
    *,
    link_by_email: bool = False,
    separate: bool = False,
) -> User:
    """The account ``info`` signs in to: found, linked or created; the caller commits.

    ``link_by_email``: the provider is trusted to link by address (see :func:`may_link_by_email`).
    ``separate``: the person said the account holding their address is not theirs: a new account
    is created, without that address.

    Raises :class:`~maillage.auth.identities.access.AccessRefused` when an access rule is not
    met, :class:`LinkProofRequired` when an account holds the address and may not be linked
    without proof, :class:`NotAllowed` for a deactivated account, :class:`Conflict` when
    ``link_to`` asks to link an identity another account holds.
    """
    organisation = _organisation(info)
    check_access(info, provider_rules or {}, organisation.kind if organisation else None)
    identity = find_identity(info.provider, info.identifier)
    created = False
    if link_to is not None:
        identity = _link(identity, info, link_to)
    elif identity is None:
        holder = None if separate else account_with_address(info.email)
        if holder is not None and not may_link_by_email(info, holder, link_by_email):
            raise LinkProofRequired(holder)
        if holder is not None:
            record(
                holder, "auth.identity_linked", holder, provider=info.provider, by="verified_email"
            )
        created = holder is None
        identity = _new_identity(info, holder or _create_account(info, organisation))
    user = identity.user
    lift_directory_suspension(user, identity)
    _require_active(user)
    _refresh(user, identity, info, organisation)
    signals.identity_established.send(user, info=info, identity=identity, created=created)
    return user


def may_link_by_email(info: IdentityInfo, account: User, provider_allows: bool) -> bool:
    """Whether a new identity joins ``account`` on the strength of the address alone: only for a
    provider trusted for it, that vouches for this address (``email_verified``), an account that
    verified it too, and never an administrator's account (a provider must not be able to take
    over the platform)."""
    return bool(
        provider_allows
        and info.email_verified
        and account.email_verified_at is not None
        and not account.is_admin
    )


def account_with_address(email: str | None) -> User | None:
    """The local account holding ``email`` (verified or not), if any."""
    address = _normalised(email)
    if address is None:
        return None
    return db.session.scalar(select(User).where(User.email == address, User.local.is_(True)))


def _require_active(user: User) -> None:
    if not user.is_active and user.suspended_at is not None:
        raise NotAllowed(SUSPENDED)
    if not user.is_active:
        raise NotAllowed(
            _l("Ce compte est désactivé. Contactez l'administrateur de la plateforme.")
        )


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
        or username_taken(candidate)  # in use, or retired with a deleted account
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


def complete_login(
    user: User,
    provider: str,
    remember: bool = False,
    *,
    subject: str | None = None,
    sid: str | None = None,
) -> None:
    """Open a fresh session for ``user`` signed in through ``provider`` (``local`` for a
    password) and write it in the audit log; commits.  ``subject`` (the identity's key at the
    provider) and ``sid`` (the OIDC sign-in's session id) go on the server-side session record,
    for a back-channel logout."""
    record(user, "auth.login", user, provider=provider)
    start_session(
        user,
        remember=remember,
        provider=provider,
        provider_subject=subject,
        provider_sid=sid,
    )
    session[SESSION_PROVIDER_KEY] = provider


def record_failure(provider: str, reason: str, user: User | None = None, **data) -> None:
    """Audit a failed sign-in (whatever the request rolled back) and commit it.

    ``data`` must hold no secret: a login name is fine, a password or a token never.
    """
    db.session.rollback()
    record(user, "auth.login_failed", user, provider=provider, reason=reason, **data)
    db.session.commit()
