"""Worker processes killed (SIGKILL) in the middle of a batch of e-mails, through a real SMTP
server: every e-mail arrives, and none arrives twice.

Two kills, at the two places that matter:

- while the server holds its answer to RCPT: the message was not handed over (DATA never ended),
  so the next worker sends it — once;
- while the server holds its answer to the end of DATA: the server has the message, the worker
  died before hearing so.  The worker had marked the item ``sending`` just before the final dot;
  no worker sends it again (it is set aside as ``uncertain``): it arrived once.
"""

from __future__ import annotations

import collections

import pytest
from sqlalchemy import select

from maillage.platform import mail
from maillage.platform.extensions import db
from maillage.platform.outbox.models import OutboxItem
from maillage.platform.outbox.tasks import process_outbox

from .conftest import wait_for

MAILS = 30
LEASE_SECONDS = 2  # a killed worker's claim comes back quickly (production: 60)


@pytest.fixture
def app_config(app_config, redis_broker, smtp):
    return {
        **app_config,
        "CELERY_ALWAYS_EAGER": False,
        "CELERY_BROKER_URL": redis_broker.url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "OUTBOX_LEASE_SECONDS": LEASE_SECONDS,
    }


def statuses() -> dict[str, str]:
    db.session.rollback()
    return {
        item.payload["message_id"]: item.status for item in db.session.scalars(select(OutboxItem))
    }


def kill_while_held(handler, worker, step: str, number: int) -> None:
    handler.hold(step, number)
    process_outbox.delay()  # what a commit or the sweeper sends
    wait_for(handler.holding.is_set, 60, f"the worker to reach {step} of message {number}")
    worker.kill()
    handler.release()


def test_every_mail_arrives_exactly_once_across_worker_kills(app, smtp, start_worker):
    handler = smtp.handler
    for number in range(MAILS):
        mail.send(f"agent{number}@example.gouv.fr", f"Message {number}", "Texte")
    db.session.info.pop("outbox_dirty")  # the tests sends the wake-ups itself
    db.session.commit()

    kill_while_held(handler, start_worker(), "rcpt", 5)
    assert len(handler.received) == 4
    kill_while_held(handler, start_worker(), "data", 12)
    in_flight = handler.received[-1]
    assert statuses()[in_flight] == "sending"

    last = start_worker()

    def drained() -> bool:
        if set(statuses().values()) <= {"done", "uncertain"}:
            return True
        process_outbox.delay()  # as the sweeper would, once the dead workers' leases lapse
        return False

    wait_for(drained, 90, "the outbox to drain", interval=1)
    assert last.alive()
    counts = collections.Counter(handler.received)
    assert set(counts) == set(statuses())  # every e-mail arrived…
    assert set(counts.values()) == {1}  # … once
    assert statuses()[in_flight] == "uncertain"  # not sent again: the server had it
    assert collections.Counter(statuses().values()) == {"done": MAILS - 1, "uncertain": 1}
