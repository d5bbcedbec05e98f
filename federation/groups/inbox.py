"""Receiving an activity: every check that must answer the sender now, then storage.

The inbox answers quickly: it verifies what can only be verified on the request itself (size,
JSON, HTTP signature, that the key belongs to the activity's actor, the instance policy), stores
the activity once per id and lets a task do the rest.  Nothing here reads ``request``: the view
passes what it received.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maillage.federation.groups.models import InboxActivity
from maillage.federation.groups.registry import id_of, same_origin
from maillage.federation.ids import domain_of, host_header_is_ours, is_local_id
from maillage.platform.extensions import db

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


@dataclass
class Verdict:
    status: int
    reason: str
    row_id: int | None = None  # the new row to process (None for duplicates and refusals)


def parse(body: bytes) -> dict | None:
    """The activity, if ``body`` is a JSON object with string ``id``, ``type`` and ``actor``."""
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(activity, dict):
        return None
    fields = (activity.get("id"), activity.get("type"), id_of(activity.get("actor")))
    if not all(isinstance(value, str) and value for value in fields):
        return None
    return activity


def _domain_allowed(domain: str) -> bool:
    from maillage.federation.transport.policy import domain_allowed

    return bool(domain) and domain_allowed(domain)


def _key_owner(key_id: str) -> str:
    """The actor a verified key belongs to (its stored owner, else the key id's document)."""
    from maillage.federation.actors.queries import remote_actor_by_key_id

    actor = remote_actor_by_key_id(key_id)
    return actor.ap_id if actor is not None else key_id.split("#", 1)[0]


def _verify(method: str, full_path: str, headers, body: bytes, now=None) -> str:
    from maillage.federation.actors.operations import public_key_for
    from maillage.federation.transport.signatures import verify_request

    scheme = urlsplit(current_app.config["BASE_URL"]).scheme or "https"
    return verify_request(method, full_path, headers, body, public_key_for, now=now, scheme=scheme)


def check(method: str, full_path: str, headers, body: bytes, *, now=None) -> tuple[Verdict, dict]:
    """Everything checked before storing; a Verdict of 202 means "store it"."""
    if len(body) > MAX_BODY:
        return Verdict(413, "body too large"), {}
    activity = parse(body)
    if activity is None:
        return Verdict(400, "not an activity"), {}
    if not host_header_is_ours(headers):
        # A request signed for another server, replayed here; or a proxy dropping the Host.
        log.warning("inbox: Host header is not the host of BASE_URL (proxy_set_header Host?)")
        return Verdict(401, "request for another host"), activity
    return _check_sender(method, full_path, headers, body, activity, now), activity


def _check_sender(method, full_path, headers, body, activity: dict, now) -> Verdict:
    """Signed, by the activity's own actor, from an instance the policy allows."""
    from maillage.federation.transport.signatures import SignatureError, signature_key_id

    actor = id_of(activity["actor"])
    key_id = signature_key_id(headers)
    if not key_id:
        return Verdict(401, "not signed")
    if is_local_id(actor) or is_local_id(key_id):
        return Verdict(403, "our own actors do not post to our inbox")
    if not (_domain_allowed(domain_of(actor)) and _domain_allowed(domain_of(key_id))):
        return Verdict(403, "instance not allowed")
    try:
        key_id = _verify(method, full_path, headers, body, now)
    except SignatureError as exc:
        return Verdict(401, f"bad signature: {exc.reason}")
    if _key_owner(key_id) != actor or not same_origin(activity["id"], actor):
        # Signed by someone else than the actor, or an id on another server (CVE-2024-23832).
        return Verdict(403, "key, actor and activity id of different owners or origins")
    return Verdict(202, "accepted")


def receive(
    method: str, full_path: str, headers, body: bytes, inbox_path: str, *, now=None
) -> Verdict:
    """Check and store an incoming activity; the caller commits and queues ``row_id``."""
    verdict, activity = check(method, full_path, headers, body, now=now)
    if verdict.status != 202:
        log.info("inbox %s refused %s: %s", inbox_path, activity.get("id"), verdict.reason)
        return verdict
    _note_alive(domain_of(activity["actor"]))
    return store(activity, inbox_path, key_id=_signature_key(headers))


def _signature_key(headers) -> str:
    from maillage.federation.transport.signatures import signature_key_id

    return signature_key_id(headers) or ""


def _note_alive(domain: str) -> None:
    try:
        from maillage.federation.transport.delivery import note_host_alive
    except ImportError:  # transport's delivery not there yet
        return
    note_host_alive(domain)


def store(activity: dict, inbox_path: str, *, key_id: str) -> Verdict:
    """Add the activity once per id (a duplicate is accepted and not stored again)."""
    if db.session.scalar(
        select(InboxActivity.id).where(InboxActivity.activity_id == activity["id"])
    ):
        return Verdict(202, "duplicate")
    row = InboxActivity(
        activity_id=activity["id"][:1000],
        actor_ap_id=id_of(activity["actor"])[:500],
        type=str(activity["type"])[:40],
        payload=activity,
        key_id=key_id[:600],
        inbox_path=inbox_path[:300],
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # the same activity arrived twice at the same moment
        return Verdict(202, "duplicate")
    return Verdict(202, "accepted", row.id)
