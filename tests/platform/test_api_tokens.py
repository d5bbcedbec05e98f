"""Personal API tokens: only a hash is stored, revoked tokens stop working at once, and the last
use is recorded without writing on every request."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from maillage.auth.tokens.models import ApiToken
from maillage.auth.tokens.operations import (
    MAX_ACTIVE_TOKENS,
    create_token,
    revoke_token,
    token_of,
    tokens_of,
    user_for_token,
)
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db


def test_a_token_is_shown_once_and_only_its_hash_is_stored(create_user):
    user = create_user()
    token, secret = create_token(user, "  Tableau   de bord  ")
    db.session.commit()
    assert secret.startswith("mlg_")
    assert len(secret) == 4 + 43
    stored = db.session.scalar(select(ApiToken).where(ApiToken.id == token.id))
    assert stored.name == "Tableau de bord"
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(stored.__dict__)
    assert (
        db.session.scalar(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "apitoken", AuditEntry.object_id == token.id
            )
        )
        == "token.create"
    )
    _other, other_secret = create_token(user, "Autre")
    assert other_secret != secret


def test_user_for_token_resolves_the_owner(create_user):
    user = create_user()
    _token, secret = create_token(user, "Script")
    db.session.commit()
    assert user_for_token(secret) == user
    wrong_secrets = (None, "", "mlg_", secret + "x", secret[4:], "Bearer " + secret, "mlg_" * 80)
    for wrong in wrong_secrets:
        assert user_for_token(wrong) is None


def test_a_revoked_token_no_longer_authenticates(create_user):
    user = create_user()
    token, secret = create_token(user, "Script")
    db.session.commit()
    revoke_token(token, user)
    db.session.commit()
    first_revocation = token.revoked_at
    assert first_revocation is not None
    assert user_for_token(secret) is None
    revoke_token(token, user)  # twice: nothing changes
    assert token.revoked_at == first_revocation


def test_a_disabled_account_s_tokens_do_not_work(create_user):
    user = create_user()
    _token, secret = create_token(user, "Script")
    user.is_active = False
    db.session.commit()
    assert user_for_token(secret) is None


def test_last_use_is_written_at_most_once_a_minute(create_user):
    user = create_user()
    token, secret = create_token(user, "Script")
    db.session.commit()
    assert token.last_used_at is None
    user_for_token(secret)
    db.session.commit()
    first = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token.id))
    assert first is not None
    user_for_token(secret)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first
    token = db.session.get(ApiToken, token.id)
    token.last_used_at = utcnow() - dt.timedelta(minutes=2)
    db.session.commit()
    user_for_token(secret)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at > first


def test_tokens_of_lists_active_tokens_newest_first(create_user):
    user, other = create_user(), create_user()
    first, _ = create_token(user, "Premier")
    second, _ = create_token(user, "Second")
    create_token(other, "Pas à moi")
    db.session.commit()
    assert [token.name for token in tokens_of(user)] == ["Second", "Premier"]
    revoke_token(first, user)
    db.session.commit()
    assert tokens_of(user) == [second]
    assert {token.name for token in tokens_of(user, include_revoked=True)} == {"Premier", "Second"}
    assert token_of(user, second.id) == second
    assert token_of(other, second.id) is None


def test_only_the_owner_or_an_admin_revokes(create_user):
    owner, stranger, admin = create_user(), create_user(), create_user(is_admin=True)
    token, _ = create_token(owner, "Script")
    db.session.commit()
    with pytest.raises(NotAllowed):
        revoke_token(token, stranger)
    assert token.revoked_at is None
    revoke_token(token, admin)
    assert token.revoked_at is not None


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_reasonable_name(create_user, name):
    with pytest.raises(OperationError):
        create_token(create_user(), name)


def test_active_tokens_are_limited(create_user):
    user = create_user()
    for number in range(MAX_ACTIVE_TOKENS):
        create_token(user, f"Jeton {number}")
    with pytest.raises(Conflict):
        create_token(user, "Un de trop")
    revoke_token(tokens_of(user)[0], user)
    create_token(user, "Après révocation")
