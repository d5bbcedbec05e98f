"""Session records: exported as the list of sessions (never the token's hash), deleted with the
account."""

from __future__ import annotations

from sqlalchemy import select

from maillage.auth.sessions.models import SessionRecord
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _export(user) -> list[dict]:
    statement = select(
        SessionRecord.id,
        SessionRecord.created_at,
        SessionRecord.last_seen_at,
        SessionRecord.user_agent,
        SessionRecord.ip_prefix,
        SessionRecord.provider,
        SessionRecord.remember,
    ).where(SessionRecord.user_id == user.id)
    return export_rows(statement, SessionRecord.id)


def _erase(user, _erasure) -> None:
    delete_rows(SessionRecord, SessionRecord.user_id == user.id)


holds_personal_data(SessionRecord, section="sessions", export=_export, erase=_erase)
