"""Reads about personal data exports."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import and_, exists, or_, select

from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.personal_data.models import ExportRequest, ExportStatus

RECENT = 5


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def export_in_progress(user: User, now: dt.datetime | None = None) -> bool:
    """Whether an archive of ``user`` is asked or being built (account deletion waits for it).

    A build whose lease ended (its worker died) no longer counts: the outbox item retried takes
    it over, and the deletion, if it goes first, removes the export so the late worker's archive
    is dropped."""
    now = now or utcnow()
    building = and_(ExportRequest.status == ExportStatus.BUILDING, ExportRequest.expires_at > now)
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    ExportRequest.user_id == user.id,
                    or_(ExportRequest.status == ExportStatus.PENDING, building),
                )
            )
        )
    )


def recent_exports(user: User, limit: int = RECENT) -> list[ExportRequest]:
    """The person's latest requests, newest first (the page shows their state)."""
    return list(
        db.session.scalars(
            select(ExportRequest)
            .where(ExportRequest.user_id == user.id)
            .order_by(ExportRequest.created_at.desc(), ExportRequest.id.desc())
            .limit(limit)
        )
    )


def export_for_download(user: User, token: str) -> ExportRequest | None:
    """The export the link's ``token`` opens, only when it is ``user``'s own (else None)."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(ExportRequest).where(
            ExportRequest.token_hash == token_hash(token), ExportRequest.user_id == user.id
        )
    )
