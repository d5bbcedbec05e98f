"""Builders of the ActivityPub activities Maillage sends (as Lemmy and PieFed write them).

Pure functions: they take ap ids and already serialised objects and return dicts, so every
addressing rule is visible in one place and testable without a database.
"""

from __future__ import annotations

import uuid

from flask import current_app

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
]


def new_activity_id(kind: str) -> str:
    """A fresh, unique id: every activity (every retry of a Like after an Undo too) is new, so
    receivers that deduplicate by id never drop a later one."""
    return f"{current_app.config['BASE_URL']}/activities/{kind.lower()}/{uuid.uuid4()}"


def activity(
    kind: str,
    actor: str,
    obj,
    *,
    to: list[str],
    cc: list[str] | None = None,
    audience: str | None = None,
    context: bool = True,
    **extra,
) -> dict:
    """One activity; ``extra`` adds fields such as ``target``, ``summary`` or ``endTime``."""
    document: dict = {"@context": CONTEXT} if context else {}
    document.update(
        {"id": new_activity_id(kind), "type": kind, "actor": actor, "object": obj, "to": to}
    )
    document["cc"] = cc or []
    if audience:
        document["audience"] = audience
    document.update({key: value for key, value in extra.items() if value is not None})
    return document


def announce(group_ap_id: str, inner: dict, *, to: list[str], cc: list[str]) -> dict:
    """The Group re-sending ``inner`` to its followers (FEP-1b12); the inner activity keeps its
    own id and addressing, without its ``@context``."""
    inner = {key: value for key, value in inner.items() if key != "@context"}
    return activity("Announce", group_ap_id, inner, to=to, cc=cc, audience=group_ap_id)


def undo(actor: str, inner: dict, *, to: list[str], cc: list[str], audience: str | None) -> dict:
    inner = {key: value for key, value in inner.items() if key != "@context"}
    return activity("Undo", actor, inner, to=to, cc=cc, audience=audience)


def strip_public(document: dict, public: bool) -> dict:
    """Remove the Public address from an object of a non-public community (defence in depth:
    a private community's content is addressed to its followers only)."""
    if public:
        return document
    cleaned = dict(document)
    for key in ("to", "cc", "bto", "bcc"):
        value = cleaned.get(key)
        if isinstance(value, list):
            cleaned[key] = [address for address in value if address != PUBLIC]
        elif value == PUBLIC:
            cleaned[key] = []
    return cleaned
