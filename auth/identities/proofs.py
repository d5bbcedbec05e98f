"""Proving control of an existing account before a new identity is linked to it.

A first sign-in through a provider whose address an existing account holds, when the provider
may not link by address alone (see :func:`operations.may_link_by_email`), stops at
:class:`~maillage.auth.identities.operations.LinkProofRequired`.  A :class:`LinkProof` then
remembers what the provider said, for :data:`PROOF_MINUTES` minutes, and the person proves they
hold the account in one of three ways:

- its password (and its second factor when it has one): :func:`check_password`;
- a sign-in with another identity already linked to it (the web flow sees it come back);
- a one-time code e-mailed to the account's address: :func:`send_code`, :func:`check_code` —
  only its hash is stored, it lasts :data:`CODE_MINUTES` minutes, at most :data:`MAX_CODES` are
  sent per proof, one per :data:`RESEND_SECONDS` seconds.

Passwords and codes tried count together: at most :data:`MAX_FAILURES` tries, after which the
proof ends and the person starts again from their provider.  A try is counted (an atomic
``UPDATE … SET failures = failures + 1`` committed at once) before the password or code is
checked, so parallel requests cannot get more tries than that between them.

Then :func:`complete` links the identity (and the account's groups are applied, as at any
sign-in).  :func:`cancel` — or letting it expire — leaves nothing linked and no account created;
:func:`separate` creates a distinct account, without the address, for the person who says the
existing account is not theirs.

Operations only: the web flow (:mod:`.flow`, :mod:`.proof_views`) keeps which proof is this
browser's.  The caller commits (except the count of tries, committed at once).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, update
from sqlalchemy.orm.attributes import set_committed_value

from maillage.auth.identities import operations
from maillage.auth.identities.info import IdentityInfo
from maillage.auth.identities.models import LinkProof
from maillage.auth.local.operations import mail_user
from maillage.auth.passwords import verify_password
from maillage.auth.twofactor.operations import check_second_factor
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db

PROOF_MINUTES = 30
CODE_MINUTES = 10
CODE_DIGITS = 6
MAX_CODES = 3
RESEND_SECONDS = 60
MAX_FAILURES = 5


class ProofEnded(OperationError):
    """Too many wrong passwords or codes: the proof is over (nothing was linked)."""


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _code_hash(proof: LinkProof, code: str) -> str:
    """A keyed hash: a stolen table does not give the codes away by a 10⁶ brute force."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{proof.id}:{code}".encode(), hashlib.sha256).hexdigest()


def info_as_json(info: IdentityInfo) -> dict:
    data = dataclasses.asdict(info)
    data["groups"] = list(info.groups)
    return data


def info_of(proof: LinkProof) -> IdentityInfo:
    data = dict(proof.info)
    data["groups"] = tuple(data.get("groups") or ())
    return IdentityInfo(**data)


def start(
    info: IdentityInfo, account: User, *, next_url: str | None = None, remember: bool = False
) -> tuple[LinkProof, str]:
    """A new proof that the person ``info`` describes holds ``account``; returns it with the
    key the browser keeps (only its hash is stored).  Expired proofs are cleared on the way."""
    now = utcnow()
    db.session.execute(delete(LinkProof).where(LinkProof.expires_at < now))
    key = secrets.token_urlsafe(32)
    proof = LinkProof(
        user=account,
        key_hash=_hash(key),
        provider=info.provider,
        identifier=info.identifier,
        info=info_as_json(info),
        next_url=next_url,
        remember=remember,
        codes_sent=0,
        failures=0,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=PROOF_MINUTES),
    )
    db.session.add(proof)
    db.session.flush()
    record(None, "auth.link_proof_started", account, provider=info.provider)
    return proof, key


def find(proof_id, key) -> LinkProof | None:
    """The proof ``proof_id`` if ``key`` is its key and it has not expired."""
    if not isinstance(proof_id, int) or not isinstance(key, str):
        return None
    proof = db.session.get(LinkProof, proof_id)
    if proof is None or not hmac.compare_digest(proof.key_hash, _hash(key)):
        return None
    if proof.expires_at <= utcnow():
        return None
    return proof


def can_send_code(proof: LinkProof) -> bool:
    return proof.codes_sent < MAX_CODES and bool(proof.user.email)


def send_code(proof: LinkProof, provider_title: str) -> None:
    """E-mail a new one-time code to the account's address (the previous one stops working)."""
    now = utcnow()
    if not can_send_code(proof):
        raise OperationError(
            _l("Plus aucun code ne peut être envoyé pour cette demande : recommencez la connexion.")
        )
    if proof.last_code_sent_at and now - proof.last_code_sent_at < dt.timedelta(
        seconds=RESEND_SECONDS
    ):
        raise OperationError(
            _l("Un code vient d'être envoyé : attendez une minute avant d'en demander un autre.")
        )
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    proof.code_hash = _code_hash(proof, code)
    proof.code_expires_at = now + dt.timedelta(minutes=CODE_MINUTES)
    proof.last_code_sent_at = now
    proof.codes_sent += 1
    mail_user(
        proof.user,
        _l("Code de confirmation pour lier une identité"),
        "identity_link_code",
        code=code,
        minutes=CODE_MINUTES,
        provider=provider_title,
    )
    record(None, "auth.link_code_sent", proof.user, provider=proof.provider)


def _ended_error() -> ProofEnded:
    return ProofEnded(_l("Trop d'essais infructueux : rien n'a été lié. Recommencez la connexion."))


def _drop(proof: LinkProof) -> None:
    """Delete the proof's row, whether or not a parallel request already did (the caller
    commits)."""
    db.session.execute(
        delete(LinkProof)
        .where(LinkProof.id == proof.id)
        .execution_options(synchronize_session=False)
    )


def _take_try(proof: LinkProof) -> int:
    """Count one more try on ``proof`` before what is tried is checked; returns the number of
    tries it now counts, or raises ProofEnded (and drops the proof) when none was left.

    One atomic ``UPDATE … SET failures = failures + 1 WHERE failures < limit``, committed at once
    on a connection of its own (the request's transaction is left as it is): the database
    serialises the row's updates, so parallel requests each get a distinct count and those past
    the limit get no try at all."""
    with db.engine.begin() as connection:
        taken = connection.execute(
            update(LinkProof.__table__)
            .where(LinkProof.id == proof.id, LinkProof.failures < MAX_FAILURES)
            .values(failures=LinkProof.failures + 1)
            .returning(LinkProof.failures)
        ).scalar_one_or_none()
    if taken is None:
        _drop(proof)
        raise _ended_error()
    set_committed_value(proof, "failures", taken)  # as stored: nothing to write back
    return taken


def _failed(proof: LinkProof, tries: int, how: str) -> None:
    """A wrong password or code; the last try ends the proof (raises ProofEnded)."""
    record(None, "auth.link_proof_failed", proof.user, provider=proof.provider, by=how)
    if tries >= MAX_FAILURES:
        record(None, "auth.link_proof_ended", proof.user, provider=proof.provider)
        _drop(proof)
        raise _ended_error()


def _spend_code(proof: LinkProof) -> bool:
    """Forget the code once it has served, atomically: of parallel requests with the right
    code, one only gets it."""
    spent = db.session.execute(
        update(LinkProof)
        .where(LinkProof.id == proof.id, LinkProof.code_hash == proof.code_hash)
        .values(code_hash=None)
        .execution_options(synchronize_session="evaluate")
    )
    return spent.rowcount == 1


def check_code(proof: LinkProof, code: str) -> bool:
    """Whether ``code`` is the last code sent, still valid; a right code is spent.  Counts a
    try first (raises ProofEnded when none is left, or when this wrong one was the last)."""
    tries = _take_try(proof)
    code = "".join((code or "").split())
    valid = (
        proof.code_hash is not None
        and proof.code_expires_at is not None
        and proof.code_expires_at > utcnow()
        and code.isdigit()
        and hmac.compare_digest(proof.code_hash, _code_hash(proof, code))
    )
    if not valid or not _spend_code(proof):
        _failed(proof, tries, "code")
        return False
    return True


def check_password(proof: LinkProof, password: str, second_factor: str = "") -> bool:
    """Whether ``password`` (and ``second_factor`` when the account has one) open the account.
    The same Argon2 work whether or not the account has a password.  Counts a try first (raises
    ProofEnded when none is left, or when this wrong one was the last)."""
    tries = _take_try(proof)
    account = proof.user
    if not verify_password(account.password_hash, password or ""):
        _failed(proof, tries, "password")
        return False
    if account.totp_enabled_at and not check_second_factor(account, second_factor or ""):
        _failed(proof, tries, "second_factor")
        return False
    return True


def complete(proof: LinkProof, provider_rules: dict, by: str) -> User:
    """The person proved they hold the account: link the identity to it (access rules checked
    again, groups applied) and forget the proof."""
    account = proof.user
    info = info_of(proof)
    db.session.delete(proof)
    user = operations.establish_identity(info, provider_rules, link_to=account)
    record(user, "auth.link_proof_succeeded", user, provider=info.provider, by=by)
    return user


def separate(proof: LinkProof, provider_rules: dict) -> User:
    """The person says the account is not theirs: a distinct account, without the address."""
    info = info_of(proof)
    record(None, "auth.link_proof_declined", proof.user, provider=proof.provider)
    db.session.delete(proof)
    return operations.establish_identity(info, provider_rules, separate=True)


def cancel(proof: LinkProof) -> None:
    record(None, "auth.link_proof_cancelled", proof.user, provider=proof.provider)
    db.session.delete(proof)
