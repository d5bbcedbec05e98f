"""What the SMTP server answers after a message decides its fate, through a real SMTP server:

- a message the server accepted (250 at the end of DATA) is never sent again, whatever happens
  afterwards — here a server that answers QUIT with something other than 221, which made
  ``smtplib.SMTP.__exit__`` raise and the outbox send the message again, up to ten times;
- a message the server refused at the end of DATA (4xx) was not kept: it is sent again later;
- any other error after the point of no return leaves the item ``uncertain``, never retried.
"""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from maillage.platform import mail
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.outbox import operations as outbox
from maillage.platform.outbox.models import OutboxItem

from .conftest import RecordingHandler, free_port


class OddServerHandler(RecordingHandler):
    """Answers QUIT with ``250 bye`` (not 221); refuses the first ``refusals`` messages at the
    end of DATA with a 451 (a refused message is not counted as received)."""

    def __init__(self, refusals: int = 0):
        super().__init__()
        self.refusals = refusals
        self.quits = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refusals:
            self.refusals -= 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server, session, envelope):
        self.quits += 1
        return "250 bye"


@pytest.fixture
def odd_smtp():
    controller = Controller(OddServerHandler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def app_config(app_config, odd_smtp):
    return {**app_config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": odd_smtp.port}


def queue_mail(number: int = 1) -> None:
    mail.send(f"agent{number}@example.gouv.fr", f"Message {number}", "Texte")
    db.session.info.pop("outbox_dirty")  # the test runs the worker itself
    db.session.commit()


def run_worker() -> None:
    """One worker run, with every item due now (as if its retry delay had passed)."""
    db.session.execute(update(OutboxItem).values(available_at=utcnow()))
    db.session.commit()
    outbox.process_pending()


def the_item() -> OutboxItem:
    db.session.expire_all()
    return db.session.scalars(select(OutboxItem)).one()


def test_an_accepted_mail_is_sent_once_when_quit_is_not_answered_221(app, odd_smtp):
    """Regression: three worker runs delivered three copies, the item still pending."""
    queue_mail()
    for _ in range(3):
        run_worker()
    assert odd_smtp.handler.quits >= 1  # the odd QUIT answer was really given
    assert len(odd_smtp.handler.received) == 1
    item = the_item()
    assert (item.status, item.attempts, item.last_error) == ("done", 0, "")


def test_a_mail_refused_at_the_end_of_data_is_sent_again(app, odd_smtp):
    odd_smtp.handler.refusals = 1
    queue_mail()
    run_worker()
    item = the_item()
    assert (item.status, item.attempts) == ("pending", 1)
    assert "451" in item.last_error
    assert odd_smtp.handler.received == []
    run_worker()
    assert len(odd_smtp.handler.received) == 1
    assert the_item().status == "done"


@pytest.fixture
def fails_after_the_point():
    """A kind whose effect happens, then something breaks; registered for this test only (a
    kind left in the registry would meet other tests, e.g. the restore decisions)."""
    calls: list[int] = []

    @outbox.handler("test.fails_after_the_point", per_item=True)
    def run(_session, payloads):
        calls.append(1)
        outbox.point_of_no_return()
        raise RuntimeError("the effect happened, then something broke")

    yield calls
    outbox.HANDLERS.pop("test.fails_after_the_point")
    outbox.PER_ITEM.discard("test.fails_after_the_point")


def test_an_error_after_the_point_of_no_return_is_uncertain_not_retried(app, fails_after_the_point):
    calls = fails_after_the_point
    outbox.enqueue("test.fails_after_the_point")
    db.session.info.pop("outbox_dirty")
    db.session.commit()
    run_worker()
    run_worker()
    assert calls == [1]
    item = the_item()
    assert (item.status, item.attempts, item.lease) == ("uncertain", 0, None)
    assert "RuntimeError" in item.last_error
