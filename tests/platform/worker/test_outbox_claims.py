"""Outbox claims: small batches for one-at-a-time kinds, a short lease renewed while working,
other workers free to take the rest; an e-mail never handed to the SMTP server twice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from maillage.platform import mail
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.outbox import operations as outbox
from maillage.platform.outbox.models import OutboxItem
from maillage.platform.outbox.tasks import sweep_outbox

from .conftest import wait_for

LEASE_SECONDS = 45


@pytest.fixture
def app_config(app_config, smtp):
    return {
        **app_config,
        "OUTBOX_LEASE_SECONDS": LEASE_SECONDS,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
    }


@pytest.fixture
def batch_kind():
    """A batch kind (one handler call for many items), as search indexing is."""
    calls: list[int] = []

    @outbox.handler("test.batch")
    def run(_session, payloads):
        calls.append(len(payloads))

    yield calls
    outbox.HANDLERS.pop("test.batch")


def queue_quietly(mails: int = 0, batch_items: int = 0) -> None:
    """Queue items without the wake-up a commit sends (nothing processes them yet)."""
    for number in range(mails):
        mail.send(f"agent{number}@example.gouv.fr", f"Message {number}", "Texte")
    for number in range(batch_items):
        outbox.enqueue("test.batch", n=number)
    db.session.info.pop("outbox_dirty", None)
    db.session.commit()


def expire_leases() -> None:
    db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.lease.is_not(None))
        .values(available_at=utcnow() - dt.timedelta(seconds=1))
    )
    db.session.commit()


def statuses() -> dict[str, int]:
    db.session.rollback()
    counts: dict[str, int] = {}
    for status in db.session.scalars(select(OutboxItem.status)):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_one_at_a_time_kinds_are_claimed_a_few_at_a_time_with_a_short_lease(app, batch_kind):
    queue_quietly(mails=30, batch_items=30)
    before = utcnow()
    with Session(db.engine, expire_on_commit=False) as session:
        mails = outbox.claim_items(session, per_item=True)
        batch = outbox.claim_items(session, per_item=False)
    after = utcnow()
    assert len(mails.items) == outbox.PER_ITEM_BATCH_SIZE < 30
    assert {item.kind for item in mails.items} == {"mail.send"}
    assert len(batch.items) == 30  # batch kinds still go 500 at a time
    lease = dt.timedelta(seconds=LEASE_SECONDS)  # OUTBOX_LEASE_SECONDS, not five minutes
    for item in mails.items + batch.items:
        assert before + lease <= item.available_at <= after + lease


def test_a_dead_workers_claim_holds_back_only_its_few_items(app, outbox_mail, smtp):
    """Regression: a killed worker had leased 500 rows for 5 minutes (755 e-mails took 338 s).
    Now only its small claim waits for its lease; any other worker sends the rest at once."""
    queue_quietly(mails=35)
    with Session(db.engine, expire_on_commit=False) as session:
        dead = outbox.claim_items(session, per_item=True)  # then it dies
    assert sweep_outbox() == 35 - len(dead.items)
    assert len(smtp.handler.received) == 25
    assert statuses() == {"done": 25, "pending": 10}
    expire_leases()  # one lease later
    assert sweep_outbox() == 10
    assert len(smtp.handler.received) == len(set(smtp.handler.received)) == 35
    assert statuses() == {"done": 35}


def test_a_renewal_moves_the_whole_claims_lease_forward(app):
    queue_quietly(mails=3)
    with Session(db.engine, expire_on_commit=False) as session:
        claim = outbox.claim_items(session, per_item=True)
    first_expiry = {item.id: item.available_at for item in claim.items}
    renewed_from = utcnow()
    assert outbox.LeaseKeeper(db.engine, claim).renew() == 3
    for item in db.session.scalars(select(OutboxItem)):
        assert item.available_at >= renewed_from + dt.timedelta(seconds=LEASE_SECONDS)
        assert item.available_at > first_expiry[item.id]


@pytest.fixture
def long_kind():
    """A one-at-a-time kind whose handler works until it has seen its lease renewed."""
    seen: list[str] = []

    def lease_expiry():
        with db.engine.connect() as connection:
            return connection.scalar(select(OutboxItem.available_at))

    @outbox.handler("test.long", per_item=True)
    def long_job(_session, _payloads):
        first = lease_expiry()
        wait_for(lambda: lease_expiry() > first, 30, "the lease to be renewed", interval=0.1)
        with Session(db.engine) as other_worker:  # the item is still taken
            assert outbox.claim_items(other_worker, per_item=True).items == []
        seen.append("renewed")

    yield seen
    outbox.HANDLERS.pop("test.long")
    outbox.PER_ITEM.discard("test.long")


def test_the_lease_is_renewed_while_a_long_handler_works(app, long_kind):
    app.config["OUTBOX_LEASE_SECONDS"] = 3  # renewed every second
    outbox.enqueue("test.long")
    db.session.commit()  # processed now (Celery runs in the caller in this test)
    assert long_kind == ["renewed"]
    assert statuses() == {"done": 1}


def test_an_item_another_worker_took_over_is_not_sent_twice(app, smtp):
    queue_quietly(mails=1)
    with Session(db.engine, expire_on_commit=False) as slow, Session(db.engine) as fast:
        first = outbox.claim_items(slow, per_item=True)  # a worker stalls past its lease…
        expire_leases()
        second = outbox.claim_items(fast, per_item=True)  # … another one takes the item
        assert [item.id for item in second.items] == [item.id for item in first.items]
        outbox._run_claim(second)
        outbox._run_claim(first)  # the first one wakes up: it must not send it again
    assert len(smtp.handler.received) == 1
    assert statuses() == {"done": 1}


def test_a_send_interrupted_after_the_handover_is_never_repeated(app, smtp):
    """An item left ``sending`` (its worker died between handing the message over and hearing
    the server's answer) may have gone: it is set aside, not sent again."""
    queue_quietly(mails=1)
    db.session.execute(
        update(OutboxItem).values(
            status=outbox.SENDING, lease="dead", available_at=utcnow() - dt.timedelta(seconds=1)
        )
    )
    db.session.commit()
    sweep_outbox()
    item = db.session.scalar(select(OutboxItem))
    assert item.status == outbox.UNCERTAIN
    assert "pas renvoyé" in item.last_error
    assert smtp.handler.received == []


def test_workers_skip_the_rows_another_worker_is_claiming(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite has a single writer")
    queue_quietly(mails=20)
    with db.engine.connect() as other:
        transaction = other.begin()
        locked = set(
            other.scalars(text("SELECT id FROM outbox ORDER BY id LIMIT 10 FOR UPDATE")).all()
        )
        with Session(db.engine, expire_on_commit=False) as session:
            session.execute(text("SET LOCAL lock_timeout = '5s'"))  # waiting would fail the test
            claim = outbox.claim_items(session, per_item=True)
        transaction.rollback()
    claimed = {item.id for item in claim.items}
    assert len(claimed) == 10
    assert claimed.isdisjoint(locked)


def test_process_outbox_says_how_many_sends_were_interrupted(app):
    queue_quietly(mails=1)
    db.session.execute(update(OutboxItem).values(status=outbox.UNCERTAIN))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["maillage", "process-outbox"])
    assert result.exit_code == 0, result.output
    assert "0 éléments traités." in result.output
    assert "1 élément(s) interrompu(s) pendant l'envoi" in result.output
