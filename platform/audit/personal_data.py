"""The audit log: entries written by the person are exported.

On deletion the entries stay — the log is the instance's record of who did what, and the
anonymised users row it points to no longer names anyone.  Entries never hold a person's name,
e-mail or words in ``data`` (operations record ids and reasons), so nothing else needs erasing.
"""

from __future__ import annotations

from sqlalchemy import select

from maillage.platform.audit.models import AuditEntry
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import export_rows


def _export(user) -> list[dict]:
    statement = select(
        AuditEntry.id,
        AuditEntry.action,
        AuditEntry.object_type,
        AuditEntry.object_id,
        AuditEntry.community_id,
        AuditEntry.data,
        AuditEntry.created_at,
    ).where(AuditEntry.actor_id == user.id)
    return export_rows(statement, AuditEntry.id)


def _erase(_user, _erasure) -> None:
    """Kept: see the module docstring."""


holds_personal_data(AuditEntry, section="audit_log", export=_export, erase=_erase)
