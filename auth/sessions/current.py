"""The session record of the request being served, as the user loader found it."""

from __future__ import annotations

from flask import g, has_app_context

G_RECORD = "maillage_session_record"
G_TOUCH = "maillage_session_touch"


def current_record():
    """This browser's :class:`SessionRecord`, once Flask-Login loaded the user (else None)."""
    return g.get(G_RECORD) if has_app_context() else None


def current_record_id() -> int | None:
    record = current_record()
    return record.id if record is not None else None


def remember_current(record, *, touch: bool = False) -> None:
    """Note the record of this request; ``touch``: its « last seen » is due a refresh."""
    setattr(g, G_RECORD, record)
    if touch:
        setattr(g, G_TOUCH, record.id)


def record_to_touch() -> int | None:
    return g.get(G_TOUCH) if has_app_context() else None
