"""Platform announcements an administrator wrote: exported; on deletion they stay signed by the
anonymised row (« Ancien membre »), or go when the person chose to delete their content."""

from __future__ import annotations

from sqlalchemy import select

from maillage.platform.personal_data.registry import Erasure, holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows
from maillage.platform.portal.models import Announcement


def _export(user) -> list[dict]:
    statement = select(
        Announcement.id,
        Announcement.title,
        Announcement.body_source,
        Announcement.created_at,
        Announcement.expires_at,
    ).where(Announcement.author_id == user.id)
    return export_rows(statement, Announcement.id)


def _erase(user, erasure) -> None:
    if erasure == Erasure.DELETE_CONTENT:
        delete_rows(Announcement, Announcement.author_id == user.id)


holds_personal_data(Announcement, section="announcements", export=_export, erase=_erase)
