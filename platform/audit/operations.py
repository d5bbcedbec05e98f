from __future__ import annotations

from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db


def record(actor, action: str, obj=None, *, community=None, **data) -> AuditEntry:
    """Add an audit entry to the current transaction (committed with the change it describes).

    ``community`` (a Community or its id) files the entry under that community, so its
    facilitators read it in the community's audit log; the id is also kept in ``data`` as
    before, for readers of older entries.
    """
    community_id = getattr(community, "id", community)
    if community_id is not None:
        data["community"] = community_id
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "platform",
        object_id=getattr(obj, "id", None),
        community_id=community_id,
        data=data,
    )
    db.session.add(entry)
    return entry
