"""Identities (the ways a person signs in): exported, and deleted with the account."""

from __future__ import annotations

from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _export(user) -> list[dict]:
    statement = select(
        Identity.id,
        Identity.provider,
        Identity.identifier,
        Identity.email,
        Identity.data,
        Identity.created_at,
        Identity.last_login_at,
    ).where(Identity.user_id == user.id)
    return export_rows(statement, Identity.id)


def _erase(user, _erasure) -> None:
    delete_rows(Identity, Identity.user_id == user.id)


holds_personal_data(Identity, section="identities", export=_export, erase=_erase)
