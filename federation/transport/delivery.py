"""Durable delivery of activities to remote inboxes.

``enqueue_delivery`` writes one :class:`Delivery` row per inbox in the caller's transaction (the
outbox); after the commit one ``deliver_host`` task per destination host is queued.  The task
claims that host's due rows with a lease, signs each request at send time (so a retry is signed
afresh) and sends several at once; then:

- 2xx: delivered;
- other 4xx (not 408/429) and refused destinations: failed, never retried;
- 408, 429, 5xx, network errors: retried with exponential backoff and jitter over more than 48 h
  (:data:`MAX_ATTEMPTS`), ``Retry-After`` honoured;
- per host, a circuit breaker (:func:`_count_failure`): :data:`CIRCUIT_THRESHOLD` failures
  within one :data:`CIRCUIT_WINDOW` open it for a short :data:`CIRCUIT_PAUSE` (a burst of failed
  requests counts once it has opened: it does not lengthen the pause); then the circuit is
  half-open: ONE delivery probes the host; a failed probe opens it again for twice the previous
  pause (capped at :data:`CIRCUIT_MAX`), a success (or any answer but 408/429/5xx) closes it and
  the backlog goes at once.  The sweeper wakes the host when the pause is over: no need to wait
  for the peer to send us something;
- a host failing for ``FEDERATION_DEAD_AFTER_DAYS`` (7) days is dead: nothing new is queued for
  it and a probe is tried once an hour; any success, or a signed activity from it
  (:func:`note_host_alive`), revives it and its backlog is sent at once;
- a periodic sweeper re-queues due rows whose wake-up was lost or whose worker died (the lease
  expired), and fails rows older than the dead delay plus a day.

Deliveries are at-least-once: receivers deduplicate by activity id, as ActivityPub servers do.

Signing keys: ``signing_key_resolver(signer_ap_id) -> (key_id, private_pem)`` when set (tests,
benchmarks), else ``maillage.federation.actors.operations.signing_key``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from maillage.federation.transport.fetch import FetchError, check_url, post_signed
from maillage.federation.transport.models import Delivery, Instance
from maillage.federation.transport.policy import domain_allowed, normalize_domain, own_domain
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

log = logging.getLogger(__name__)

#: Set to ``func(signer_ap_id) -> (key_id, private_pem)`` to bypass the actors package.
signing_key_resolver: Callable[[str], tuple[str, str]] | None = None

IN_FLIGHT = 4
BATCH_SIZE = 32
MAX_PER_RUN = 2000
LEASE = dt.timedelta(minutes=5)
BASE_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(hours=12)
MAX_RETRY_AFTER = dt.timedelta(hours=24)
JITTER = 0.2
MAX_ATTEMPTS = 15
CIRCUIT_THRESHOLD = 5
CIRCUIT_WINDOW = dt.timedelta(minutes=1)
CIRCUIT_PAUSE = dt.timedelta(minutes=1)
CIRCUIT_MAX = dt.timedelta(hours=1)
DEAD_PROBE_INTERVAL = dt.timedelta(hours=1)
DEFAULT_DEAD_AFTER_DAYS = 7
RETRYABLE_4XX = frozenset({408, 429})

_random = random.SystemRandom()


# -- backoff -----------------------------------------------------------------------------------


def retry_delay(attempts: int, rng=_random) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 1 min doubling up to 12 h, ±20 % jitter."""
    base = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


def parse_retry_after(value: str | None, now: dt.datetime) -> dt.timedelta | None:
    """``Retry-After`` as seconds or an HTTP date, capped at a day; ``None`` if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = dt.timedelta(seconds=int(value))
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        delay = moment - now
    return max(dt.timedelta(0), min(delay, MAX_RETRY_AFTER))


def dead_after() -> dt.timedelta:
    return dt.timedelta(
        days=float(current_app.config.get("FEDERATION_DEAD_AFTER_DAYS", DEFAULT_DEAD_AFTER_DAYS))
    )


# -- enqueueing --------------------------------------------------------------------------------


def dedupe_key(activity_id: str, inbox_url: str) -> str:
    return hashlib.sha256(f"{activity_id}\n{inbox_url}".encode()).hexdigest()


def _deliverable_hosts(inboxes: list[str]) -> dict[str, str]:
    """``{inbox: host}`` for the inboxes we may deliver to (policy, dead hosts, our own host)."""
    ours = own_domain()
    verdicts: dict[str, bool] = {}
    result = {}
    for inbox in inboxes:
        try:
            check_url(inbox)
        except FetchError:
            log.info("not delivering to %s: refused URL", inbox)
            continue
        host = normalize_domain(inbox)
        if host not in verdicts:
            verdicts[host] = host != ours and domain_allowed(host) and not _is_dead(host)
        if verdicts[host]:
            result[inbox] = host
    return result


def _is_dead(host: str) -> bool:
    dead = db.session.scalar(select(Instance.dead_since).where(Instance.domain == host))
    return dead is not None


def enqueue_delivery(activity: dict, inboxes: Iterable[str], signer_ap_id: str) -> int:
    """Add deliveries of ``activity`` to ``inboxes`` to the current transaction; return how many.

    Duplicates (same activity and inbox, now or earlier), inboxes on our own host, of instances
    the policy refuses or of dead instances are skipped.  The sending starts after the commit.
    """
    activity_id = activity.get("id") if isinstance(activity, dict) else None
    if not isinstance(activity_id, str) or not activity_id:
        raise ValueError("an activity to deliver needs an id")
    wanted = _deliverable_hosts(list(dict.fromkeys(i for i in inboxes if isinstance(i, str) and i)))
    keys = {inbox: dedupe_key(activity_id, inbox) for inbox in wanted}
    existing = set()
    key_list = list(keys.values())
    for start in range(0, len(key_list), 500):
        chunk = key_list[start : start + 500]
        existing.update(
            db.session.scalars(select(Delivery.dedupe_key).where(Delivery.dedupe_key.in_(chunk)))
        )
    added = 0
    now = utcnow()
    for inbox, host in wanted.items():
        if keys[inbox] in existing:
            continue
        db.session.add(
            Delivery(
                dedupe_key=keys[inbox],
                activity_id=activity_id,
                payload=activity,
                inbox_url=inbox,
                host=host,
                signer_ap_id=signer_ap_id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
            )
        )
        existing.add(keys[inbox])
        _wake_after_commit(db.session, host)
        added += 1
    return added


def _wake_after_commit(session: Session, host: str) -> None:
    session.info.setdefault("federation_hosts", set()).add(host)


@event.listens_for(Session, "after_commit")
def _wake_hosts(session: Session) -> None:
    if session.in_nested_transaction() or not session.info.get("federation_hosts"):
        return
    hosts = session.info.pop("federation_hosts")
    from maillage.federation.transport.tasks import deliver_host

    for host in sorted(hosts):
        try:
            deliver_host.delay(host)
        except Exception:  # the broker is down, or an eager run failed: the sweeper retries
            log.exception("could not run the delivery task of %s; the sweeper will retry", host)


@event.listens_for(Session, "after_rollback")
def _forget_hosts(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop("federation_hosts", None)


# -- host health -------------------------------------------------------------------------------


def _instance(host: str) -> Instance:
    instance = db.session.scalar(select(Instance).where(Instance.domain == host))
    if instance is None:
        instance = Instance(domain=host, policy_reason="", software="", last_error="", failures=0)
        db.session.add(instance)
        db.session.flush()
    return instance


def _mark_alive(instance: Instance, now: dt.datetime) -> None:
    instance.failures = 0
    instance.failing_since = instance.dead_since = instance.circuit_open_until = None
    instance.last_success_at = now


def _mark_failure(instance: Instance, now: dt.datetime, error: str, *, probe: bool = False) -> None:
    instance.failing_since = instance.failing_since or now
    _count_failure(instance, now, probe=probe)
    instance.last_failure_at, instance.last_error = now, error[:2000]
    if instance.dead_since is None and now - instance.failing_since >= dead_after():
        instance.dead_since = now
        log.warning(
            "federation: %s marked dead after %s of failures", instance.domain, dead_after()
        )


def _count_failure(instance: Instance, now: dt.datetime, *, probe: bool = False) -> None:
    """The circuit breaker's count (``failures``), before ``last_failure_at`` moves to ``now``.

    - the probe of a half-open circuit failed: open again, for twice the previous pause, up to
      :data:`CIRCUIT_MAX`;
    - circuit open (a request of the burst that opened it came back late): not counted;
    - closed: ``failures`` counts the failures of the current :data:`CIRCUIT_WINDOW` (windows
      start at ``failing_since``); at :data:`CIRCUIT_THRESHOLD` the circuit opens for
      :data:`CIRCUIT_PAUSE`.

    Once open, ``failures`` is the threshold plus the failed probes (the backoff level).
    """
    opened = instance.circuit_open_until
    if probe or (opened is not None and opened <= now):
        instance.failures = max(instance.failures, CIRCUIT_THRESHOLD) + 1
        level = instance.failures - CIRCUIT_THRESHOLD
        instance.circuit_open_until = now + min(CIRCUIT_PAUSE * 2 ** min(level, 20), CIRCUIT_MAX)
        return
    if opened is not None:
        return
    if not _same_window(instance, now):
        instance.failures = 0
    instance.failures += 1
    if instance.failures >= CIRCUIT_THRESHOLD:
        instance.failures = CIRCUIT_THRESHOLD
        instance.circuit_open_until = now + CIRCUIT_PAUSE


def _same_window(instance: Instance, now: dt.datetime) -> bool:
    """Did the previous failure fall in the same window as ``now``?"""
    previous, start = instance.last_failure_at, instance.failing_since
    if previous is None or start is None or previous < start:
        return False
    return (previous - start) // CIRCUIT_WINDOW == (now - start) // CIRCUIT_WINDOW


def note_host_alive(domain: str, *, now: dt.datetime | None = None) -> None:
    """The host answered (a signed activity came from it): revive it and send its backlog.

    Changes the current transaction only when the host was failing; the caller commits.
    """
    host = normalize_domain(domain)
    instance = db.session.scalar(select(Instance).where(Instance.domain == host))
    if instance is None or not (
        instance.failures or instance.dead_since or instance.circuit_open_until
    ):
        return
    _mark_alive(instance, now or utcnow())
    retry_host_now(host, now=now)


def retry_host_now(host: str, *, now: dt.datetime | None = None) -> None:
    """Make the pending deliveries of ``host`` due now (after the commit of the caller)."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.host == host, Delivery.status == "pending", Delivery.lease.is_(None))
        .values(next_attempt_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    _wake_after_commit(db.session, host)


# -- sending -----------------------------------------------------------------------------------


@dataclass
class _Job:
    delivery_id: int
    url: str
    body: bytes
    key_id: str | None
    private_pem: str | None
    error: str = ""


@dataclass
class _Outcome:
    delivery_id: int
    status: int | None
    headers: dict
    error: str
    refused: bool = False


def _signing_key(signer_ap_id: str) -> tuple[str, str]:
    if signing_key_resolver is not None:
        return signing_key_resolver(signer_ap_id)
    from maillage.federation.actors.operations import signing_key

    return signing_key(signer_ap_id)


def _claim(host: str, now: dt.datetime, limit: int) -> list[Delivery]:
    token = secrets.token_hex(16)
    due = (
        (Delivery.host == host) & (Delivery.status == "pending") & (Delivery.next_attempt_at <= now)
    )
    candidates = (
        select(Delivery.id).where(due).order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
    )
    db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(candidates.scalar_subquery()), due)
        .values(lease=token, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(
        db.session.scalars(select(Delivery).where(Delivery.lease == token).order_by(Delivery.id))
    )


def _jobs(rows: list[Delivery]) -> list[_Job]:
    keys: dict[str, tuple[str, str] | str] = {}
    jobs = []
    for row in rows:
        if row.signer_ap_id not in keys:
            try:
                keys[row.signer_ap_id] = _signing_key(row.signer_ap_id)
            except Exception as exc:  # unknown or deleted actor: the delivery cannot be signed
                keys[row.signer_ap_id] = f"no signing key: {type(exc).__name__}: {exc}"
        key = keys[row.signer_ap_id]
        body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
        if isinstance(key, str):
            jobs.append(_Job(row.id, row.inbox_url, body, None, None, error=key))
        else:
            jobs.append(_Job(row.id, row.inbox_url, body, key[0], key[1]))
    return jobs


def _send(app, job: _Job) -> _Outcome:
    if job.key_id is None:
        return _Outcome(job.delivery_id, None, {}, job.error, refused=True)
    with app.app_context():
        try:
            status, headers = post_signed(job.url, job.body, job.key_id, job.private_pem)
        except FetchError as exc:
            refused = exc.reason.startswith(("refused", "malformed"))
            return _Outcome(job.delivery_id, None, {}, str(exc), refused=refused)
    return _Outcome(job.delivery_id, status, headers, "" if status < 300 else f"HTTP {status}")


def _send_all(jobs: list[_Job]) -> list[_Outcome]:
    app = current_app._get_current_object()
    workers = int(current_app.config.get("FEDERATION_DELIVERY_CONCURRENCY", IN_FLIGHT))
    if len(jobs) == 1 or workers <= 1:
        return [_send(app, job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(lambda job: _send(app, job), jobs))


def _apply(
    row: Delivery, outcome: _Outcome, instance: Instance, now: dt.datetime, *, probe: bool = False
) -> None:
    row.lease = None
    row.attempts += 1
    status = outcome.status
    if status is not None and 200 <= status < 300:
        row.status, row.delivered_at, row.last_error = "delivered", now, ""
        _mark_alive(instance, now)
        return
    row.last_error = outcome.error[:2000]
    if outcome.refused or (status is not None and status < 500 and status not in RETRYABLE_4XX):
        row.status = "failed"  # permanent: 3xx, 4xx, refused destination, no key
        if status is not None:
            _mark_alive(instance, now)  # it answered
        return
    _mark_failure(instance, now, outcome.error, probe=probe)
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        return
    delay = retry_delay(row.attempts)
    retry_after = parse_retry_after(outcome.headers.get("retry-after"), now)
    row.next_attempt_at = now + max(delay, retry_after or dt.timedelta(0))


def _blocked(instance: Instance, now: dt.datetime) -> bool:
    """Circuit open (or a probe in flight), or dead with no probe due."""
    if instance.circuit_open_until is not None and instance.circuit_open_until > now:
        return True
    if instance.dead_since is not None:
        last = instance.last_failure_at or instance.dead_since
        return now - last < DEAD_PROBE_INTERVAL
    return False


def _claim_probe(instance: Instance, host: str, now: dt.datetime) -> list[Delivery]:
    """The one delivery that probes a half-open (or dead) host, or none.

    The probe is taken by moving ``circuit_open_until`` to ``now + LEASE`` only if no other
    worker did it first (an atomic update): concurrent tasks for the host then find the circuit
    open, so exactly one request probes it.  The outcome sets the circuit (:func:`_apply`);
    :func:`_end_probe` undoes the mark when the probe had no answer to judge by.
    """
    previous = instance.circuit_open_until
    unheld = Instance.circuit_open_until.is_(None) | (Instance.circuit_open_until <= now)
    taken = db.session.execute(
        update(Instance)
        .where(Instance.id == instance.id, unheld)
        .values(circuit_open_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        db.session.commit()
        return []
    rows = _claim(host, now, 1)
    if not rows:
        _end_probe(host, now, previous)
        db.session.commit()
    return rows


def _end_probe(host: str, started: dt.datetime, previous: dt.datetime | None) -> None:
    """Give the circuit back its state before the probe if the probe left its mark on it (the
    delivery could not be sent at all: no row due, no signing key, a refused URL)."""
    db.session.execute(
        update(Instance)
        .where(Instance.domain == host, Instance.circuit_open_until == started + LEASE)
        .values(circuit_open_until=previous)
        .execution_options(synchronize_session=False)
    )


def deliver_due(host: str, *, now: dt.datetime | None = None) -> int:
    """Send the due deliveries of ``host``; return how many requests were made.  Idempotent."""
    sent = 0
    while sent < MAX_PER_RUN:
        moment = now or utcnow()
        instance = _instance(host)
        if _blocked(instance, moment):
            db.session.commit()
            break
        previous = instance.circuit_open_until
        probing = previous is not None or instance.dead_since is not None
        rows = _claim_probe(instance, host, moment) if probing else _claim(host, moment, BATCH_SIZE)
        if not rows:
            break
        outcomes = {outcome.delivery_id: outcome for outcome in _send_all(_jobs(rows))}
        instance = _instance(host)
        finished = now or utcnow()
        for row in rows:
            _apply(row, outcomes[row.id], instance, finished, probe=probing)
        db.session.flush()
        if probing:
            _end_probe(host, moment, previous)
        db.session.commit()
        sent += len(rows)
    return sent


# -- sweeper -----------------------------------------------------------------------------------


def expire_old(now: dt.datetime | None = None) -> int:
    """Fail pending deliveries older than the dead delay plus a day."""
    now = now or utcnow()
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.status == "pending",
            Delivery.created_at < now - dead_after() - dt.timedelta(days=1),
        )
        .values(status="failed", last_error="expired", lease=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


def due_hosts(now: dt.datetime | None = None) -> list[str]:
    """Hosts with deliveries due (including claims whose lease expired)."""
    now = now or utcnow()
    query = (
        select(Delivery.host)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .distinct()
        .order_by(Delivery.host)
    )
    return list(db.session.scalars(query))


def probe_dead_hosts(now: dt.datetime | None = None) -> int:
    """Dead hosts with nothing pending: a GET of their NodeInfo tells whether they are back."""
    from maillage.federation.transport.fetch import probe

    now = now or utcnow()
    probed = 0
    for instance in db.session.scalars(select(Instance).where(Instance.dead_since.is_not(None))):
        if _blocked(instance, now) or _has_pending(instance.domain):
            continue
        last_inbox = db.session.scalar(
            select(Delivery.inbox_url)
            .where(Delivery.host == instance.domain)
            .order_by(Delivery.id.desc())
            .limit(1)
        )
        if last_inbox is None:
            continue
        parts = urlsplit(last_inbox)
        probed += 1
        if probe(f"{parts.scheme}://{parts.netloc}/.well-known/nodeinfo"):
            _mark_alive(instance, now)
        else:
            instance.last_failure_at = now
    db.session.commit()
    return probed


def _has_pending(host: str) -> bool:
    row = db.session.scalar(
        select(Delivery.id).where(Delivery.host == host, Delivery.status == "pending").limit(1)
    )
    return row is not None


def pending_count(host: str | None = None) -> int:
    query = select(db.func.count()).select_from(Delivery).where(Delivery.status == "pending")
    if host is not None:
        query = query.where(Delivery.host == normalize_domain(host))
    return db.session.scalar(query)
