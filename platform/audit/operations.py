from __future__ import annotations

from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db


def record(actor, action: str, obj=None, **data) -> AuditEntry:
    """Add an audit entry to the current transaction (committed with the change it describes)."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "platform",
        object_id=getattr(obj, "id", None),
        data=data,
    )
    db.session.add(entry)
    return entry
