"""Personal API tokens: exported without their hash, deleted with the account."""

from __future__ import annotations

from sqlalchemy import select

from maillage.auth.tokens.models import ApiToken
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _export(user) -> list[dict]:
    statement = select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.created_at,
        ApiToken.last_used_at,
        ApiToken.revoked_at,
    ).where(ApiToken.user_id == user.id)
    return export_rows(statement, ApiToken.id)


def _erase(user, _erasure) -> None:
    delete_rows(ApiToken, ApiToken.user_id == user.id)


holds_personal_data(ApiToken, section="api_tokens", export=_export, erase=_erase)
