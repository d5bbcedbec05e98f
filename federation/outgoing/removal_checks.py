"""Whether a removal reached the remote object's own server, read back from it.

When our moderators hide or delete a remote person's post or comment in one of our communities,
the ``Delete`` goes to the instances that follow the community and to the author's own instance.
That instance answers ``202 Accepted`` and may refuse the activity later (it does not accept our
moderators' authority, or does not know group moderation at all, as Mastodon): the object stays
visible there and our moderators never hear of it.

The object's origin can be asked: some minutes after the removal (once its deliveries have left,
``FEDERATION_REMOVAL_CHECK_DELAY`` seconds, 300 by default) the object is fetched again from its
id.  ``404``/``410`` or a ``Tombstone``: applied; the object still served: not applied — written
in the community's moderation log as « non appliqué sur l'instance distante ».  An origin that
cannot be reached is asked again a few times, then the check ends as ``unknown``.  Checks live
in a table (``RemovalCheck``) that a periodic task works through, so none is lost with a worker.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import select

from maillage.federation.ids import domain_of, hostname_of
from maillage.federation.outgoing.models import RemovalCheck
from maillage.federation.outgoing.models import RemovalCheckState as State
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

log = logging.getLogger(__name__)

DEFAULT_DELAY = 300
#: Times a check waits for its deliveries, then for an unreachable origin, before concluding.
MAX_WAITS = 12
MAX_UNREACHABLE = 5
BATCH = 50
#: Audit actions, one per conclusion (the moderation log labels them).
ACTIONS = {
    State.APPLIED: "federation.removal_applied",
    State.NOT_APPLIED: "federation.removal_not_applied",
    State.UNKNOWN: "federation.removal_unknown",
}


def delay() -> dt.timedelta:
    return dt.timedelta(
        seconds=float(current_app.config.get("FEDERATION_REMOVAL_CHECK_DELAY", DEFAULT_DELAY))
    )


def schedule(obj, community, action: str, activity: dict | None = None) -> RemovalCheck | None:
    """Read back the removal of ``obj`` later: only remote objects in our own communities,
    whose origin decides whether they stay visible there."""
    from maillage.communities.moderation.targets import kind_of

    ap_id = getattr(obj, "ap_id", None)
    if getattr(obj, "local", True) or not community.local or not ap_id or not domain_of(ap_id):
        return None
    check = RemovalCheck(
        community_id=community.id,
        object_ap_id=ap_id,
        object_type=kind_of(obj).key,
        object_id=obj.id,
        action=action,
        activity_id=(activity or {}).get("id"),
        state=State.PENDING,
        attempts=0,
        due_at=utcnow() + delay(),
    )
    db.session.add(check)
    return check


def due_ids(now: dt.datetime, limit: int = BATCH) -> list[int]:
    return list(
        db.session.scalars(
            select(RemovalCheck.id)
            .where(RemovalCheck.state == State.PENDING, RemovalCheck.due_at <= now)
            .order_by(RemovalCheck.due_at)
            .limit(limit)
        )
    )


def run_due(now: dt.datetime | None = None) -> int:
    """Check the removals that are due (each in its own transaction); returns how many ended."""
    now = now or utcnow()
    ended = 0
    for check_id in due_ids(now):
        try:
            ended += bool(check_one(check_id, now))
            db.session.commit()
        except Exception:  # one bad check must not stop the others
            db.session.rollback()
            log.exception("removal check %s failed", check_id)
    return ended


def check_one(check_id: int, now: dt.datetime) -> str | None:
    """Ask the origin about one due check; returns its conclusion, None when it waits."""
    check = db.session.get(RemovalCheck, check_id)
    if check is None or check.state != State.PENDING or check.due_at > now:
        return None
    if check.attempts < MAX_WAITS and _deliveries_pending(check):
        _wait(check, now)
        return None
    state = read_back(check.object_ap_id)
    if state is None:  # unreachable: later, then give up
        check.attempts += 1
        if check.attempts < MAX_WAITS + MAX_UNREACHABLE:
            _wait(check, now, count=False)
            return None
        state = State.UNKNOWN
    _conclude(check, state, now)
    return state


def _wait(check: RemovalCheck, now: dt.datetime, *, count: bool = True) -> None:
    check.attempts += 1 if count else 0
    check.due_at = now + delay()


def _deliveries_pending(check: RemovalCheck) -> bool:
    """Whether the removal is still waiting to leave for the object's instance."""
    from maillage.communities.community.models import Community
    from maillage.federation.transport.models import Delivery

    signer = db.session.scalar(select(Community.ap_id).where(Community.id == check.community_id))
    hosts = {hostname_of(check.object_ap_id), domain_of(check.object_ap_id)}
    statement = select(Delivery.id).where(
        Delivery.status == "pending", Delivery.host.in_(hosts), Delivery.signer_ap_id == signer
    )
    if check.activity_id:
        statement = statement.where(Delivery.activity_id == check.activity_id)
    return db.session.scalar(statement.limit(1)) is not None


def read_back(ap_id: str) -> str | None:
    """``applied``, ``not_applied`` (still served), ``unknown`` (refused to tell), or None when
    the origin could not be reached (worth asking again)."""
    from maillage.federation.actors.operations import instance_actor_key
    from maillage.federation.transport.fetch import FetchError, fetch_object_with_url

    key = instance_actor_key(commit=False)
    try:
        document, final_url = fetch_object_with_url(ap_id, signer=(key.key_id, key.private_key_pem))
    except FetchError as exc:
        if exc.status in (404, 410):
            return State.APPLIED
        return None if exc.transient else State.UNKNOWN
    if domain_of(str(document.get("id") or "")) != domain_of(final_url):
        return State.UNKNOWN
    kinds = document.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return State.APPLIED if "Tombstone" in kinds else State.NOT_APPLIED


def _conclude(check: RemovalCheck, state: str, now: dt.datetime) -> None:
    check.state, check.checked_at = state, now
    record(
        None,
        ACTIONS[state],
        None,
        community=check.community_id,
        object=check.object_type,
        object_id=check.object_id,
        ap_id=check.object_ap_id,
        host=domain_of(check.object_ap_id),
        removal=check.action,
    )
