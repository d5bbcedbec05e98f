"""Provider status, shared by every process through the database."""

from __future__ import annotations

from maillage.auth.providers.models import ProviderStatus
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

#: longest error text kept (an error message, not a dump)
ERROR_LENGTH = 500


def _status(name: str) -> ProviderStatus:
    status = db.session.get(ProviderStatus, name)
    if status is None:
        status = ProviderStatus(name=name)
        db.session.add(status)
    return status


def record_success(name: str) -> None:
    """Note a successful contact; the caller commits."""
    _status(name).last_success_at = utcnow()


def record_error(name: str, error: str) -> None:
    """Note a failed contact (the message must carry no secret); committed at once, so it is kept
    even though the request that met it rolls back."""
    db.session.rollback()
    status = _status(name)
    status.last_error_at = utcnow()
    status.last_error = error[:ERROR_LENGTH]
    db.session.commit()


def statuses() -> dict[str, ProviderStatus]:
    return {status.name: status for status in db.session.scalars(db.select(ProviderStatus))}
