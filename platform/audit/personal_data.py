"""The audit log: entries written by the person are exported.

On deletion the entries stay — the log is the instance's record of who did what, and the
anonymised users row it points to no longer names anyone.  Operations record ids and reasons,
not addresses or names; entries that still hold the person's e-mail address, username or
display name in ``data`` (older invitations recorded the invited address) have those values
replaced by « Ancien membre ».
"""

from __future__ import annotations

import json

from sqlalchemy import Text, cast, func, or_, select

from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import export_rows

#: Keys whose values are codes (a role, a status…): never a person's name, even when equal.
CODE_KEYS = frozenset({"role", "status", "erasure", "provider", "by", "source", "mode", "kind"})


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


def _as_stored(value: str) -> str:
    """``value`` as it appears inside the stored JSON text (escaped like the JSON column)."""
    return json.dumps(value)[1:-1]


def _scrub(value, email: str | None, names: set[str], replacement: str, key: str = ""):
    """``value`` with the e-mail address (anywhere in a string) and the names (a whole string
    value) replaced."""
    if isinstance(value, dict):
        return {k: _scrub(v, email, names, replacement, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, email, names, replacement, key) for v in value]
    if not isinstance(value, str):
        return value
    if email and email in value.lower():
        return replacement
    if key not in CODE_KEYS and value in names:
        return replacement
    return value


def _erase(user, _erasure) -> None:
    """Scrub the person's e-mail address and names from the entries' data (called before the
    users row is anonymised, so they are still known); the entries themselves stay."""
    from maillage.platform.account_deletion.operations import FORMER_MEMBER

    email = (user.email or "").lower() or None
    names = {user.username, user.display_name} - {None, "", FORMER_MEMBER}
    needles = ([email] if email else []) + sorted(names)
    if not needles:
        return
    text = cast(AuditEntry.data, Text)
    matches = [text.contains(_as_stored(needle), autoescape=True) for needle in needles]
    if email:  # addresses are compared without case
        matches.append(func.lower(text).contains(_as_stored(email), autoescape=True))
    for entry in db.session.scalars(select(AuditEntry).where(or_(*matches))):
        scrubbed = _scrub(entry.data or {}, email, names, FORMER_MEMBER)
        if scrubbed != entry.data:
            entry.data = scrubbed


holds_personal_data(AuditEntry, section="audit_log", export=_export, erase=_erase)
