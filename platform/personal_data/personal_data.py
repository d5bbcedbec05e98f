"""The export requests themselves hold personal data: listed in the archive, erased (with their
archive files) when the account is deleted."""

from __future__ import annotations

from sqlalchemy import select

from maillage.platform.personal_data.models import ExportRequest
from maillage.platform.personal_data.operations import erase_exports
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import export_rows


def _export(user) -> list[dict]:
    return export_rows(
        select(
            ExportRequest.id,
            ExportRequest.status,
            ExportRequest.created_at,
            ExportRequest.ready_at,
            ExportRequest.expires_at,
        ).where(ExportRequest.user_id == user.id),
        ExportRequest.id,
    )


holds_personal_data(
    ExportRequest,
    section="personal_data_exports",
    export=_export,
    erase=lambda user, _erasure: erase_exports(user),
)
