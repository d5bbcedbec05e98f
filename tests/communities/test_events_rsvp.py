"""Answering events (RSVP): yes, maybe, no; capacity and the waiting list, promotion and its
notification; two last-seat answers at the same moment; answers refused on cancelled or
started events; uniqueness enforced by the database."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.events.models import Event, Rsvp
from maillage.communities.events.operations import (
    EventFields,
    cancel_event,
    edit_event,
    respond,
    waiting_position,
)
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from tests.communities.test_events_support import (
    captured,
    count,
    fresh,
    send,
    text,
)

pytest_plugins = ("tests.communities.test_events_support",)


def states(event) -> dict[str, str]:
    """``{username: yes|waiting|maybe|no}`` as stored."""
    db.session.expire_all()
    rows = db.session.execute(
        select(User.username, Rsvp.answer, Rsvp.waitlisted)
        .join(Rsvp, Rsvp.user_id == User.id)
        .where(Rsvp.event_id == event.id)
    )
    return {name: "waiting" if waiting else answer for name, answer, waiting in rows}


def test_member_answers_changes_their_mind_and_sees_it(
    client, login_as, people, public, make_event
):
    event = make_event(public, people["member"])
    url = f"/c/acheteurs/events/{event.id}"
    login_as(people["other"])
    page = text(client.get(url))
    assert "<legend>Participerez-vous ?</legend>" in page
    assert 'name="answer" value="yes" aria-pressed="false"' in page

    answered = send(client, f"{url}/rsvp", {"answer": "yes"})
    assert answered.status_code == 302
    assert answered.headers["Location"] == f"{url}#reponse"
    page = text(client.get(url))
    assert "C'est noté : vous participez." in page or "C&#39;est noté : vous participez." in page
    assert 'name="answer" value="yes" aria-pressed="true"' in page
    assert '<li><a href="/u/mia">Mia Membre</a></li>' in page
    assert fresh(event).going_count == 1

    send(client, f"{url}/rsvp", {"answer": "maybe"})
    assert states(event) == {"mia": "maybe"}
    assert fresh(event).going_count == 0
    page = text(client.get(url))
    assert "Vous participerez peut-être." in page
    assert 'id="maybe-title"' in page

    send(client, f"{url}/rsvp", {"answer": "no"})
    assert states(event) == {"mia": "no"}
    assert "1 personne ne participera pas." in text(client.get(url))
    assert count(Rsvp) == 1  # one answer per person, updated


def test_who_may_answer(client, login_as, people, public, make_event):
    event = make_event(public, people["member"])
    url = f"/c/acheteurs/events/{event.id}/rsvp"
    login_as(people["guest"])  # guests are external participants: they come to meetings
    assert send(client, url, {"answer": "yes"}).status_code == 302
    login_as(people["outsider"])
    refused = send(client, url, {"answer": "yes"})
    assert refused.status_code == 403
    assert "Seuls les membres de la communauté peuvent répondre." in text(refused)
    assert "Seuls les membres de la communauté peuvent répondre." in text(
        client.get(f"/c/acheteurs/events/{event.id}")
    )
    login_as(None)
    assert send(client, url, {"answer": "yes"}).headers["Location"].startswith("/login")
    assert states(event) == {"gus": "yes"}
    with pytest.raises(NotAllowed):
        respond(event, people["outsider"], "yes")


def test_unknown_answer_is_refused(client, login_as, people, public, make_event):
    event = make_event(public, people["member"])
    login_as(people["other"])
    answer = send(client, f"/c/acheteurs/events/{event.id}/rsvp", {"answer": "oui!"})
    assert answer.status_code == 400
    assert "Réponse inconnue" in text(answer)
    assert 'role="alert"' in text(answer)
    assert count(Rsvp) == 0


def test_beyond_capacity_people_wait_in_line_and_are_promoted_in_order(
    client, login_as, people, public, make_event
):
    event = make_event(public, people["member"], capacity=2)
    url = f"/c/acheteurs/events/{event.id}"
    for who in ("member", "other"):
        login_as(people[who])
        send(client, f"{url}/rsvp", {"answer": "yes"})
    login_as(people["third"])
    full = text(client.get(url))
    assert "complet, liste d'attente ouverte" in full or "complet, liste d&#39;attente" in full
    assert "vous rejoignez la liste d" in full
    waited = send(client, f"{url}/rsvp", {"answer": "yes"}, follow_redirects=True)
    assert "vous êtes sur la liste d&#39;attente (position 1)" in text(waited)
    login_as(people["guest"])
    waited = send(client, f"{url}/rsvp", {"answer": "yes"}, follow_redirects=True)
    assert "(position 2)" in text(waited)
    assert states(event) == {"marc": "yes", "mia": "yes", "theo": "waiting", "gus": "waiting"}
    assert fresh(event).going_count == 2

    # saying yes again keeps one's place in line
    login_as(people["third"])
    send(client, f"{url}/rsvp", {"answer": "yes"})
    assert waiting_position(_rsvp(event, "theo")) == 1

    # a seated person withdraws: the first in line gets the seat and is told
    login_as(people["other"])
    with captured(signals.notification_requested) as sent:
        send(client, f"{url}/rsvp", {"answer": "no"})
    assert states(event) == {"marc": "yes", "mia": "no", "theo": "yes", "gus": "waiting"}
    assert fresh(event).going_count == 2
    ((_, details),) = sent
    assert details["reason"] == "waitlist_promoted"
    assert details["recipients"] == ["theo"]
    assert details["url"] == url
    assert details["sender_id"] == event.id
    assert waiting_position(_rsvp(event, "gus")) == 1

    # someone waiting gives up: no seat moves, no one is told
    login_as(people["guest"])
    with captured(signals.notification_requested) as sent:
        send(client, f"{url}/rsvp", {"answer": "maybe"})
    assert sent == []
    assert states(event)["gus"] == "maybe"
    assert fresh(event).going_count == 2
    page = text(client.get(url))
    assert 'id="waiting-title"' not in page


def _rsvp(event, username) -> Rsvp:
    db.session.expire_all()
    return db.session.scalar(
        select(Rsvp).join(User).where(Rsvp.event_id == event.id, User.username == username)
    )


def test_more_capacity_promotes_waiting_people(app, people, public, make_event):
    event = make_event(public, people["member"], capacity=1)
    for who in ("other", "third", "guest"):
        respond(event, people[who], "yes")
    db.session.commit()
    assert states(event) == {"mia": "yes", "theo": "waiting", "gus": "waiting"}
    with captured(signals.notification_requested) as sent:
        edit_event(
            event,
            people["member"],
            EventFields(event.title, event.starts_at, event.ends_at, capacity=2),
        )
        db.session.commit()
    assert states(event) == {"mia": "yes", "theo": "yes", "gus": "waiting"}
    assert [(d["reason"], d["recipients"]) for _, d in sent] == [
        ("waitlist_promoted", ["theo"]),
        ("event_change", ["gus", "mia"]),  # the promoted person was told once, not twice
    ]
    # no limit any more: everyone waiting comes in
    edit_event(event, people["member"], EventFields(event.title, event.starts_at, event.ends_at))
    db.session.commit()
    assert states(event) == {"mia": "yes", "theo": "yes", "gus": "yes"}
    assert fresh(event).going_count == 3


def test_two_last_seat_answers_at_once_one_gets_the_seat(app, people, public, make_event):
    """The first answer holds its transaction open after taking the last seat; the second,
    sent meanwhile, waits for it (row lock on PostgreSQL, write lock on SQLite) and then finds
    the event full.  Whatever the timing, exactly one of them is seated."""
    event = make_event(public, people["member"], capacity=1)
    event_id = event.id
    seat_taken, release = threading.Event(), threading.Event()
    outcome: dict[str, bool] = {}
    errors: list[BaseException] = []

    def answer(username: str, hold: bool) -> None:
        try:
            with app.app_context():
                user = db.session.scalar(select(User).where(User.username == username))
                rsvp = respond(db.session.get(Event, event_id), user, "yes")
                if hold:
                    seat_taken.set()
                    release.wait(10)
                db.session.commit()
                outcome[username] = rsvp.waitlisted
                db.session.remove()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            seat_taken.set()

    first = threading.Thread(target=answer, args=("mia", True))
    first.start()
    assert seat_taken.wait(10)
    second = threading.Thread(target=answer, args=("theo", False))
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second answer must wait for the first transaction"
    release.set()
    first.join(15)
    second.join(15)
    assert errors == []
    assert outcome == {"mia": False, "theo": True}
    assert states(event) == {"mia": "yes", "theo": "waiting"}
    assert fresh(event).going_count == 1


def test_the_database_refuses_two_answers_of_one_person(app, people, public, make_event):
    event = make_event(public, people["member"])
    db.session.add(Rsvp(event_id=event.id, user_id=people["other"].id, answer="yes"))
    db.session.commit()
    db.session.add(Rsvp(event_id=event.id, user_id=people["other"].id, answer="no"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert count(Rsvp) == 1


def test_no_answer_on_a_cancelled_event(client, login_as, people, public, make_event):
    event = make_event(public, people["member"], capacity=1)
    respond(event, people["other"], "yes")
    cancel_event(event, people["member"])
    db.session.commit()
    login_as(people["third"])
    page = text(client.get(f"/c/acheteurs/events/{event.id}"))
    assert 'name="answer"' not in page
    refused = send(client, f"/c/acheteurs/events/{event.id}/rsvp", {"answer": "yes"})
    assert refused.status_code == 400
    assert "Cet événement est annulé : il n&#39;est plus possible d&#39;y répondre." in text(
        refused
    ) or "Cet événement est annulé : il n'est plus possible d'y répondre." in text(refused)
    assert 'role="alert"' in text(refused)
    assert states(event) == {"mia": "yes"}
    # withdrawing from a cancelled event is refused too: nothing moves any more
    with pytest.raises(OperationError, match="annulé"):
        respond(event, people["other"], "no")
    db.session.rollback()
    assert states(event) == {"mia": "yes"}


def test_no_answer_once_the_event_has_started(client, login_as, people, public, make_event):
    event = make_event(public, people["member"])
    event.starts_at = utcnow() - dt.timedelta(minutes=5)
    event.ends_at = utcnow() + dt.timedelta(hours=1)
    db.session.commit()
    login_as(people["other"])
    page = text(client.get(f"/c/acheteurs/events/{event.id}"))
    assert "a déjà commencé" in page
    assert 'name="answer"' not in page
    refused = send(client, f"/c/acheteurs/events/{event.id}/rsvp", {"answer": "yes"})
    assert refused.status_code == 400
    assert "Cet événement a déjà commencé" in text(refused)
    assert count(Rsvp) == 0
