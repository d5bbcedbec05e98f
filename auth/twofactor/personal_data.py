"""Two-factor recovery codes: only their dates are exported (the hashes are secrets), deleted
with the account (the TOTP secret itself lives on the users row, cleared by the deletion)."""

from __future__ import annotations

from sqlalchemy import select

from maillage.auth.twofactor.models import RecoveryCode
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _export(user) -> list[dict]:
    statement = select(RecoveryCode.id, RecoveryCode.created_at, RecoveryCode.used_at).where(
        RecoveryCode.user_id == user.id
    )
    return export_rows(statement, RecoveryCode.id)


def _erase(user, _erasure) -> None:
    delete_rows(RecoveryCode, RecoveryCode.user_id == user.id)


holds_personal_data(RecoveryCode, section="recovery_codes", export=_export, erase=_erase)
