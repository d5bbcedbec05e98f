"""Date polls: proposing slots, answering yes / if need be / no per slot, the results table,
closing into an event in one transaction, answers refused once closed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.events.date_polls import (
    DatePollFields,
    answer_date_poll,
    close_date_poll,
    create_date_poll,
)
from maillage.communities.events.models import DatePoll, DatePollAnswer, DatePollSlot, Event
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from tests.communities.test_events_support import (
    PARIS,
    captured,
    count,
    fresh,
    in_days,
    send,
    text,
)

pytest_plugins = ("tests.communities.test_events_support",)


def day(offset: int) -> str:
    return (dt.datetime.now(PARIS).date() + dt.timedelta(days=offset)).isoformat()


def poll_form(slots, **overrides) -> dict:
    data = {
        "title": "Réunion de réseau de printemps",
        "timezone": "Europe/Paris",
        "place": "Préfecture de l'Hérault, Montpellier",
        "video_url": "",
        "description": "Choisissons ensemble la date.",
        **overrides,
    }
    for index, (date, start, end) in enumerate(slots):
        data |= {
            f"slots-{index}-day": date,
            f"slots-{index}-start_time": start,
            f"slots-{index}-end_time": end,
        }
    return data


@pytest.fixture
def poll(app, people, public):
    made = create_date_poll(
        public,
        people["facilitator"],
        DatePollFields(
            title="Réunion de réseau",
            slots=[
                (in_days(10, 9), in_days(10, 11)),
                (in_days(11, 14), in_days(11, 16)),
                (in_days(12, 9), in_days(12, 11)),
            ],
        ),
    )
    db.session.commit()
    return made


def slot_ids(poll) -> list[int]:
    return [slot.id for slot in fresh(poll).slots]


def test_facilitator_proposes_slots(client, login_as, people, public):
    login_as(people["facilitator"])
    form = text(client.get("/c/acheteurs/events/polls/new"))
    assert "<legend>Créneau 1</legend>" in form
    assert 'id="slots-0-day"' in form
    assert 'id="slots-5-end_time"' in form
    with captured(signals.notification_requested) as sent:
        answer = send(
            client,
            "/c/acheteurs/events/polls/new",
            poll_form(
                [
                    (day(12), "14:00", "16:00"),
                    ("", "", ""),  # an empty row is ignored
                    (day(10), "9h30", "11:30"),
                    (day(11), "10:00", "12:00"),
                ]
            ),
        )
    assert answer.status_code == 302
    poll = db.session.scalar(select(DatePoll))
    assert answer.headers["Location"] == f"/c/acheteurs/events/polls/{poll.id}"
    assert poll.is_open
    assert poll.organiser_id == people["facilitator"].id
    assert poll.place == "Préfecture de l'Hérault, Montpellier"
    starts = [slot.starts_at.astimezone(PARIS) for slot in poll.slots]
    assert [(s.date().isoformat(), s.strftime("%H:%M")) for s in starts] == [
        (day(10), "09:30"),
        (day(11), "10:00"),
        (day(12), "14:00"),
    ]
    ((_, details),) = sent
    assert details["reason"] == "new_content"
    assert details["recipients"] is None
    listing = text(client.get("/c/acheteurs/events"))
    assert "Sondages de dates en cours" in listing
    assert "3 créneaux proposés" in listing


@pytest.mark.parametrize(
    ("slots", "overrides", "message"),
    [
        ([(day(10), "10:00", "12:00")], {}, "Proposez au moins 2 créneaux."),
        ([(day(10), "10:00", "09:00"), (day(11), "10:00", "12:00")], {}, "La fin doit être"),
        ([(day(10), "10:00", ""), (day(11), "10:00", "12:00")], {}, "À compléter pour ce créneau."),
        ([("31/02/2027", "10:00", "12:00"), (day(11), "10:00", "12:00")], {}, "Date invalide"),
        (
            [(day(10), "10:00", "12:00"), (day(10), "10:00", "12:00")],
            {},
            "Deux créneaux proposés sont identiques.",
        ),
        (
            [(day(10), "10:00", "12:00"), (day(11), "10:00", "12:00")],
            {"timezone": "Nowhere/Land"},
            "Fuseau horaire inconnu",
        ),
        (
            [(day(10), "10:00", "12:00"), (day(11), "10:00", "12:00")],
            {"video_url": "javascript:alert(1)"},
            "https://",
        ),
        (
            [(day(10), "10:00", "12:00"), (day(11), "10:00", "12:00")],
            {"title": ""},
            "Le titre est obligatoire.",
        ),
    ],
)
def test_bad_slots_are_refused_in_french(
    client, login_as, people, public, slots, overrides, message
):
    login_as(people["member"])
    answer = send(client, "/c/acheteurs/events/polls/new", poll_form(slots, **overrides))
    assert answer.status_code == 400
    html = text(answer)
    assert message in html
    assert 'role="alert"' in html
    assert count(DatePoll) == 0
    assert count(DatePollSlot) == 0


def test_members_answer_and_the_results_table_is_accessible(
    client, login_as, people, public, poll, count_queries
):
    first, second, third = slot_ids(poll)
    url = f"/c/acheteurs/events/polls/{poll.id}"
    for who, answers in (
        ("member", {first: "yes", second: "if_need_be", third: "no"}),
        ("other", {first: "yes", second: "yes", third: "no"}),
        ("guest", {first: "if_need_be", second: "no"}),
    ):
        login_as(people[who])
        page = text(client.get(url))
        assert f'name="slot-{first}"' in page
        assert "Si besoin</label>" in page
        form = {f"slot-{slot}": value for slot, value in answers.items()}
        answered = send(client, f"{url}/answer", form)
        assert answered.status_code == 302
        assert answered.headers["Location"] == f"{url}#resultats"

    # answering again changes the answers: one per slot and person
    login_as(people["guest"])
    send(client, f"{url}/answer", {f"slot-{second}": "yes"})
    assert count(DatePollAnswer) == 8
    page = text(client.get(url))
    assert f'id="slot-{second}-yes" value="yes" checked' in page
    assert f'id="slot-{first}-if_need_be" value="if_need_be" checked' in page

    table = re.search(r'<table class="poll-results">.*?</table>', page, re.S).group(0)
    assert "<caption>Réponses de 3 personnes, par créneau</caption>" in table
    assert '<th scope="col">Participant</th>' in table
    assert table.count('<th scope="col" id="slot-head-') == 3
    rows = re.findall(r'<tr>\s*<th scope="row">([^<]+)</th>(.*?)</tr>', table, re.S)
    cells = {name: re.findall(r'availability-?[a-z_]*">([^<—]*)', row) for name, row in rows}
    assert cells["Marc Membre"] == ["Oui", "Si besoin", "Non"]
    assert cells["Gus Invité"] == ["Si besoin", "Oui", ""]  # no answer: a dash, said in words
    assert "pas de réponse" in table
    totals = dict(re.findall(r'<th scope="row">(Total « [^»]+ »)</th>(.*?)</tr>', table, re.S))
    assert re.findall(r"<td>(\d+)</td>", totals["Total « Oui »"]) == ["2", "2", "0"]
    assert re.findall(r"<td>(\d+)</td>", totals["Total « Si besoin »"]) == ["1", "1", "0"]
    assert "(le plus de disponibilités)" in table

    client.get(url)
    with count_queries() as queries:
        client.get(url)
    assert len(queries) <= 10, queries


def test_who_may_answer_and_bad_answers(client, login_as, people, public, poll):
    first, *_ = slot_ids(poll)
    url = f"/c/acheteurs/events/polls/{poll.id}"
    login_as(people["outsider"])
    assert send(client, f"{url}/answer", {f"slot-{first}": "yes"}).status_code == 403
    assert 'name="slot-' not in text(client.get(url))
    login_as(people["member"])
    unknown = send(client, f"{url}/answer", {f"slot-{first}": "peut-etre"})
    assert unknown.status_code == 400
    assert "Réponse inconnue" in text(unknown)
    empty = send(client, f"{url}/answer", {})
    assert empty.status_code == 400
    assert "au moins un créneau" in text(empty)
    assert count(DatePollAnswer) == 0
    with pytest.raises(OperationError, match="n'appartient pas"):
        answer_date_poll(fresh(poll), people["member"], {999_999: "yes"})
    db.session.rollback()


def test_the_database_refuses_two_answers_for_one_slot(app, people, poll):
    first, *_ = slot_ids(poll)
    db.session.add(DatePollAnswer(slot_id=first, user_id=people["member"].id, availability="yes"))
    db.session.commit()
    db.session.add(DatePollAnswer(slot_id=first, user_id=people["member"].id, availability="no"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_closing_turns_the_chosen_slot_into_an_event(client, login_as, people, public, poll):
    first, second, _third = slot_ids(poll)
    answer_date_poll(poll, people["member"], {first: "yes", second: "no"})
    answer_date_poll(poll, people["other"], {second: "yes"})
    answer_date_poll(poll, people["facilitator"], {second: "yes"})
    db.session.commit()
    url = f"/c/acheteurs/events/polls/{poll.id}"

    login_as(people["member"])  # not the organiser, not a facilitator
    assert "Clore le sondage" not in text(client.get(url))
    assert send(client, f"{url}/close", {"slot": second}).status_code == 403

    login_as(people["facilitator"])
    page = text(client.get(url))
    assert "Clore le sondage" in page
    assert "— 2 oui, 0 si besoin" in page
    missing = send(client, f"{url}/close", {})
    assert missing.status_code == 400
    assert "Choisissez le créneau retenu." in text(missing)
    foreign = send(client, f"{url}/close", {"slot": "999999"})
    assert foreign.status_code == 400
    assert "parmi ceux du sondage" in text(foreign)
    assert count(Event) == 0
    assert fresh(poll).is_open

    with captured(signals.notification_requested) as sent:
        closed = send(client, f"{url}/close", {"slot": str(second), "capacity": "12"})
    assert closed.status_code == 302
    event = db.session.scalar(select(Event))
    assert closed.headers["Location"] == f"/c/acheteurs/events/{event.id}"
    slot = db.session.get(DatePollSlot, second)
    assert (event.starts_at, event.ends_at) == (slot.starts_at, slot.ends_at)
    assert event.title == "Réunion de réseau"
    assert event.capacity == 12
    assert event.organiser_id == people["facilitator"].id
    poll = fresh(poll)
    assert not poll.is_open
    assert poll.event_id == event.id
    assert slot.chosen
    reasons = {details["reason"]: details["recipients"] for _, details in sent}
    assert reasons == {"event": None, "poll_closed": ["marc", "mia"]}

    page = text(client.get(url))
    assert "Sondage clos." in page
    assert f'href="/c/acheteurs/events/{event.id}"' in page
    assert "(retenu)" in page
    assert 'name="slot-' not in page

    # answers and closing after the poll closed are refused, nothing changes
    login_as(people["other"])
    late = send(client, f"{url}/answer", {f"slot-{first}": "yes"})
    assert late.status_code == 400
    assert "Ce sondage est clos" in text(late)
    login_as(people["facilitator"])
    again = send(client, f"{url}/close", {"slot": str(first)})
    assert again.status_code in (400, 403)
    assert count(Event) == 1
    assert count(DatePollAnswer) == 4


def test_closing_is_one_transaction(app, people, public, poll):
    """When the event cannot be created, the poll stays open and nothing is stored."""
    first, *_ = slot_ids(poll)
    with pytest.raises(OperationError, match="capacité"):
        close_date_poll(poll, people["facilitator"], first, capacity=-5)
    db.session.rollback()
    assert fresh(poll).is_open
    assert count(Event) == 0
    assert not db.session.get(DatePollSlot, first).chosen
    # a stale page cannot answer a poll closed meanwhile
    close_date_poll(fresh(poll), people["facilitator"], first)
    db.session.commit()
    with pytest.raises(OperationError, match="Ce sondage est clos"):
        answer_date_poll(fresh(poll), people["member"], {first: "yes"})
    db.session.rollback()
