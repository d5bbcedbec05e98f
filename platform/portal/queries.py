from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.portal.models import Announcement


def current_announcements(limit: int = 3) -> list[Announcement]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(Announcement)
            .where((Announcement.expires_at.is_(None)) | (Announcement.expires_at > now))
            .options(joinedload(Announcement.author))
            .order_by(Announcement.created_at.desc())
            .limit(limit)
        )
    )
