"""Personal API tokens: created, listed, revoked, and resolved to their user.

A token's secret (``mlg_`` followed by 43 URL-safe characters) is shown once, at creation; only
its SHA-256 is stored, so a database leak reveals no usable token.  Tokens authenticate the JSON
API (``Authorization: Bearer <secret>``) as their owner.  Callers commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from maillage.auth.tokens.models import ApiToken
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db

PREFIX = "mlg_"
NAME_MAX = 100
MAX_ACTIVE_TOKENS = 50
#: ``last_used_at`` is written at most this often per token (reads stay read-only).
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _validate_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise OperationError(_l("Donnez un nom au jeton (par exemple l'outil qui l'utilisera)."))
    if len(name) > NAME_MAX:
        raise OperationError(_l("Le nom du jeton fait %(n)d caractères au plus."), n=NAME_MAX)
    return name


def _active(user: User):
    return (ApiToken.user_id == user.id) & ApiToken.revoked_at.is_(None)


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with its secret, which is never stored nor shown
    again."""
    if not can(user, "edit", user):
        raise NotAllowed(_l("Vous n'avez pas le droit de faire cela."))
    name = _validate_name(name)
    active = db.session.scalar(select(func.count()).select_from(ApiToken).where(_active(user)))
    if active >= MAX_ACTIVE_TOKENS:
        raise Conflict(
            _l("Vous avez déjà %(n)d jetons actifs : révoquez-en un avant d'en créer un autre."),
            n=MAX_ACTIVE_TOKENS,
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=hash_secret(secret))
    db.session.add(token)
    db.session.flush()
    record(user, "token.create", token, name=name)
    return token, secret


def revoke_token(token: ApiToken, actor: User) -> None:
    """Revoke ``token`` (its owner, or a platform administrator); revoking twice changes
    nothing."""
    if not can(actor, "edit", token.user):
        raise NotAllowed(_l("Vous ne pouvez révoquer que vos propres jetons."))
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    record(actor, "token.revoke", token, user=token.user_id)


def tokens_of(user: User, include_revoked: bool = False) -> list[ApiToken]:
    """``user``'s tokens, the most recent first (active ones only unless asked)."""
    statement = select(ApiToken).where(ApiToken.user_id == user.id)
    if not include_revoked:
        statement = statement.where(ApiToken.revoked_at.is_(None))
    return list(
        db.session.scalars(statement.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    )


def token_of(user: User, token_id: int) -> ApiToken | None:
    """One of ``user``'s tokens by id (for a revoke button), or None."""
    return db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def user_for_token(secret: str | None) -> User | None:
    """The active user a token secret authenticates, or None (unknown, revoked, account
    disabled).  Records when the token was last used, at most once a minute."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == hash_secret(secret), ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.user))
    )
    if token is None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # Conditional, so concurrent requests write once; the caller commits.
        db.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token.id,
                ApiToken.last_used_at.is_(None)
                | (ApiToken.last_used_at <= now - LAST_USED_PRECISION),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(token, "last_used_at", now)
    return token.user
