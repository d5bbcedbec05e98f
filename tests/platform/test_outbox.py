"""The outbox: written with the change, processed after commit, retried, never lost."""

import datetime as dt

from sqlalchemy import select

from maillage.platform import mail
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.outbox import operations as outbox
from maillage.platform.outbox.models import OutboxItem
from maillage.platform.outbox.tasks import sweep_outbox


def test_mail_is_written_after_commit_and_not_on_rollback(app, outbox_mail):
    mail.send("agent@example.gouv.fr", "Sujet annulé", "Texte")
    db.session.rollback()
    assert outbox_mail() == []
    mail.send("agent@example.gouv.fr", "Bonjour", "Texte")
    db.session.commit()
    messages = outbox_mail()
    assert [m["Subject"] for m in messages] == ["Bonjour"]
    item = db.session.scalar(select(OutboxItem))
    assert item.status == "done"


def test_processing_twice_has_no_extra_effect(app, outbox_mail):
    mail.send("agent@example.gouv.fr", "Une fois", "Texte")
    db.session.commit()
    item = db.session.scalar(select(OutboxItem))
    db.session.execute(
        OutboxItem.__table__.update().values(status="pending", available_at=utcnow())
    )
    db.session.commit()  # nothing new enqueued: only the sweeper picks it up again
    assert sweep_outbox() == 1
    assert len(outbox_mail()) == 1
    db.session.refresh(item)
    assert item.status == "done"


def test_failing_handler_is_retried_later_with_the_error_kept(app):
    calls = []

    @outbox.handler("test.flaky")
    def flaky(_session, payloads):
        calls.append(payloads)
        if len(calls) == 1:
            raise ConnectionError("serveur injoignable")

    try:
        outbox.enqueue("test.flaky", n=1)
        db.session.commit()
        item = db.session.scalar(select(OutboxItem))
        assert (item.status, item.attempts) == ("pending", 1)
        assert "serveur injoignable" in item.last_error
        assert item.available_at > utcnow()
        # Not yet due: the sweeper leaves it alone.
        assert sweep_outbox() == 0
        db.session.execute(OutboxItem.__table__.update().values(available_at=utcnow()))
        db.session.commit()
        assert sweep_outbox() == 1
        db.session.refresh(item)
        assert item.status == "done"
        assert len(calls) == 2
    finally:
        outbox.HANDLERS.pop("test.flaky")


def test_a_claimed_item_whose_worker_died_comes_back_after_its_lease(app):
    mail.send("agent@example.gouv.fr", "Perdu puis retrouvé", "Texte")
    db.session.info.pop("outbox_dirty")  # simulate a lost wake-up message
    db.session.commit()
    from sqlalchemy.orm import Session

    with Session(db.engine) as session:
        claimed = outbox.claim(session)
        assert len(claimed) == 1  # … and the worker dies here
    assert sweep_outbox() == 0  # still leased
    db.session.execute(
        OutboxItem.__table__.update().values(available_at=utcnow() - dt.timedelta(seconds=1))
    )
    db.session.commit()
    assert sweep_outbox() == 1


def test_item_without_handler_fails_after_max_attempts(app, monkeypatch):
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 1)
    outbox.enqueue("test.unknown")
    db.session.commit()
    item = db.session.scalar(select(OutboxItem))
    assert item.status == "failed"
    assert "no outbox handler" in item.last_error


def test_one_bad_mail_does_not_hold_back_the_others(app, outbox_mail):
    mail.send("agent@example.gouv.fr", "Avant", "Texte")
    # Written past send() (an older release, a corrupted row): the message cannot be built.
    outbox.enqueue(
        "mail.send",
        to="x@example.gouv.fr",
        subject="a\nb",
        text="t",
        message_id="<broken@maillage>",
    )
    mail.send("agent@example.gouv.fr", "Après", "Texte")
    db.session.commit()
    assert sorted(m["Subject"] for m in outbox_mail()) == ["Après", "Avant"]
    statuses = {
        item.payload["subject"]: item.status for item in db.session.scalars(select(OutboxItem))
    }
    assert statuses == {"Avant": "done", "Après": "done", "a\nb": "pending"}


def test_subjects_are_folded_onto_one_line(app, outbox_mail):
    mail.send("agent@example.gouv.fr", "Invitation à « Cellule\nde crise »", "Texte")
    db.session.commit()
    assert outbox_mail()[0]["Subject"] == "Invitation à « Cellule de crise »"
