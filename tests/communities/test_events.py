"""Events over HTTP: proposing, reading, editing, cancelling, deleting; bad input in French with
nothing stored; who may do what; modules switched off; list pages and their query counts;
the signals other packages rely on."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from maillage.communities import signals
from maillage.communities.community.operations import set_modules
from maillage.communities.events.models import Event, Rsvp
from maillage.communities.events.operations import EventFields, create_event, edit_event, respond
from maillage.communities.modules import MODULE_KEYS
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from tests.communities.test_events_support import (
    PARIS,
    captured,
    count,
    event_form,
    fresh,
    in_days,
    only_event,
    send,
    text,
)

pytest_plugins = ("tests.communities.test_events_support",)

# -- the journey -------------------------------------------------------------------------------


def test_member_proposes_an_event_and_everyone_reads_it(client, login_as, people, public):
    login_as(people["member"])
    form = client.get("/c/acheteurs/events/new")
    assert form.status_code == 200
    html = text(form)
    assert 'action="/c/acheteurs/events/new"' in html
    assert 'type="date"' in html
    assert 'type="time"' in html
    assert '<label for="timezone">Fuseau horaire</label>' in html

    created = send(
        client, "/c/acheteurs/events/new", event_form(title="  Webinaire   clauses sociales ")
    )
    assert created.status_code == 302
    event = only_event()
    assert created.headers["Location"] == f"/c/acheteurs/events/{event.id}"
    assert event.title == "Webinaire clauses sociales"
    assert event.organiser_id == people["member"].id
    assert event.timezone == "Europe/Paris"
    assert event.starts_at.astimezone(PARIS).time() == dt.time(10)
    assert event.ends_at - event.starts_at == dt.timedelta(hours=2)
    assert "<strong>clauses sociales</strong>" in event.description_html
    assert event.description_source == "Ordre du jour : **clauses sociales**."
    assert event.ap_id == f"https://maillage.test/event/{event.id}"
    assert event.local is True
    assert event.capacity is None

    login_as(None)
    page = text(client.get(f"/c/acheteurs/events/{event.id}"))
    assert "<h1>Webinaire clauses sociales</h1>" in page
    assert "Salle Marianne, Paris" in page
    assert 'href="https://webinaire.numerique.gouv.fr/salle-42"' in page
    assert ", 10:00 – 12:00</time>" in page
    assert "Connectez-vous</a> pour répondre." in page
    listing = text(client.get("/c/acheteurs/events"))
    assert f'href="/c/acheteurs/events/{event.id}">Webinaire clauses sociales</a>' in listing
    # the stable id is fetchable: it leads to the page
    permalink = client.get(f"/event/{event.id}")
    assert permalink.status_code == 302
    assert permalink.headers["Location"] == f"/c/acheteurs/events/{event.id}"


def test_an_event_over_several_days_in_another_time_zone(client, login_as, people, public):
    login_as(people["facilitator"])
    start = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    end = (dt.date.today() + dt.timedelta(days=31)).strftime("%d/%m/%Y")  # text fallback
    answer = send(
        client,
        "/c/acheteurs/events/new",
        event_form(
            title="Séminaire ultramarin",
            start_date=start,
            start_time="9h30",
            end_date=end,
            end_time="17:00",
            timezone="Indian/Reunion",
            place="",
            video_url="",
            capacity="40",
        ),
    )
    assert answer.status_code == 302
    event = only_event()
    assert event.timezone == "Indian/Reunion"
    # La Réunion is UTC+4 all year
    assert event.starts_at.time() == dt.time(5, 30)
    assert event.ends_at.time() == dt.time(13)
    assert (event.ends_at - event.starts_at) == dt.timedelta(days=1, hours=7, minutes=30)
    assert event.capacity == 40
    page = text(client.get(f"/c/acheteurs/events/{event.id}"))
    assert "09:30 – " in page
    assert ", 17:00 (Indian/Reunion)</time>" in page


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": "  "}, "Le titre est obligatoire."),
        ({"start_date": "2026-02-30"}, "Date invalide"),
        ({"start_date": "demain"}, "Date invalide"),
        ({"start_time": "25:00"}, "Heure invalide"),
        ({"end_time": ""}, "L'heure de fin est obligatoire."),
        ({"end_time": "09:00"}, "La fin doit être après le début."),
        ({"end_time": "10:00"}, "La fin doit être après le début."),
        ({"timezone": "Europe/Atlantis"}, "Fuseau horaire inconnu : Europe/Atlantis."),
        ({"timezone": "../../etc/passwd"}, "Fuseau horaire inconnu"),
        ({"capacity": "-3"}, "Le nombre de places est compris entre 1 et 100000."),
        ({"capacity": "0"}, "Le nombre de places est compris entre 1 et 100000."),
        ({"capacity": "beaucoup"}, "Indiquez un nombre entier de places."),
        ({"video_url": "javascript:alert(1)"}, "doit commencer par https://"),
        ({"video_url": "https://"}, "doit commencer par https://"),
        ({"place": "x" * 301}, "Le lieu fait 300 caractères au plus."),
    ],
)
def test_bad_input_is_a_french_message_and_nothing_is_stored(
    client, login_as, people, public, overrides, message
):
    login_as(people["member"])
    answer = send(client, "/c/acheteurs/events/new", event_form(**overrides))
    assert answer.status_code == 400
    html = text(answer)
    assert message in html
    assert 'role="alert"' in html
    assert 'aria-invalid="true"' in html
    assert "<title>Erreur : " in html
    assert count(Event) == 0


def test_a_time_skipped_by_the_change_to_summer_time_is_refused(client, login_as, people, public):
    login_as(people["member"])
    answer = send(
        client,
        "/c/acheteurs/events/new",
        event_form(start_date="2027-03-28", start_time="02:30", end_time="04:00"),
    )
    assert answer.status_code == 400
    assert "02:30 n&#39;existe pas le 28/03/2027" in text(answer)
    assert count(Event) == 0


def test_operations_check_again_for_other_callers(app, people, public):
    start = in_days(3)
    fields = EventFields(title="x", starts_at=start, ends_at=start)
    with pytest.raises(OperationError, match="La fin doit être après le début"):
        create_event(public, people["member"], fields)
    with pytest.raises(OperationError, match="Fuseau horaire inconnu"):
        create_event(
            public,
            people["member"],
            EventFields("x", start, start + dt.timedelta(hours=1), timezone="Mars/Olympus"),
        )
    with pytest.raises(OperationError, match="capacité"):
        create_event(
            public,
            people["member"],
            EventFields("x", start, start + dt.timedelta(hours=1), capacity=-1),
        )
    with pytest.raises(OperationError, match="visioconférence"):
        create_event(
            public,
            people["member"],
            EventFields("x", start, start + dt.timedelta(hours=1), video_url="data:text/html,x"),
        )
    with pytest.raises(NotAllowed):
        create_event(public, people["guest"], EventFields("x", start, start + dt.timedelta(1)))
    db.session.rollback()
    assert count(Event) == 0


# -- who may do what ---------------------------------------------------------------------------


def test_who_may_propose_edit_and_cancel(client, login_as, people, public, make_event):
    event = make_event(public, people["member"])
    for who in ("guest", "outsider"):
        login_as(people[who])
        assert client.get("/c/acheteurs/events/new").status_code == 403
        assert send(client, "/c/acheteurs/events/new", event_form()).status_code == 403
    for who in ("other", "moderator", "guest", "outsider"):
        login_as(people[who])
        assert client.get(f"/c/acheteurs/events/{event.id}/edit").status_code == 403
        assert (
            send(client, f"/c/acheteurs/events/{event.id}/cancel", {"confirmed": "1"}).status_code
            == 403
        )
        assert "/edit" not in text(client.get(f"/c/acheteurs/events/{event.id}"))
    assert count(Event) == 1
    assert fresh(event).cancelled is False
    for who in ("member", "facilitator", "owner"):
        login_as(people[who])
        assert client.get(f"/c/acheteurs/events/{event.id}/edit").status_code == 200
    login_as(None)
    answer = client.get("/c/acheteurs/events/new")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


def test_organiser_edits_attendees_are_told_and_the_sequence_moves(
    client, login_as, people, public, make_event
):
    event = make_event(public, people["member"], capacity=10)
    respond(event, people["other"], "yes")
    respond(event, people["third"], "maybe")
    respond(event, people["guest"], "no")
    db.session.commit()
    login_as(people["member"])
    form = text(client.get(f"/c/acheteurs/events/{event.id}/edit"))
    local_day = event.starts_at.astimezone(PARIS).date().isoformat()
    assert f'value="{local_day}"' in form
    assert 'value="10:00"' in form
    with (
        captured(signals.notification_requested) as sent,
        captured(signals.content_updated) as updated,
    ):
        answer = send(
            client,
            f"/c/acheteurs/events/{event.id}/edit",
            event_form(
                title="Webinaire (nouvel horaire)",
                start_date=local_day,
                start_time="14:00",
                end_time="15:30",
                capacity="10",
            ),
        )
    assert answer.status_code == 302
    event = fresh(event)
    assert event.title == "Webinaire (nouvel horaire)"
    assert event.starts_at.astimezone(PARIS).time() == dt.time(14)
    assert event.sequence == 1
    assert event.updated_at is not None
    assert [details["sender_id"] for _, details in updated] == [event.id]
    ((_, details),) = sent
    assert details["sender_id"] == event.id
    assert details["reason"] == "event_change"
    assert details["url"] == f"/c/acheteurs/events/{event.id}"
    assert details["recipients"] == ["mia", "theo"]
    assert details["actor"] == "marc"

    # editing without changes does not bump the sequence nor tell anyone
    with captured(signals.notification_requested) as sent:
        edit_event(
            event,
            people["member"],
            EventFields(
                event.title,
                event.starts_at,
                event.ends_at,
                description=event.description_source,
                place=event.place,
                video_url=event.video_url,
                capacity=10,
            ),
        )
        db.session.commit()
    assert sent == []
    assert fresh(event).sequence == 1


def test_capacity_cannot_drop_below_the_seats_taken(client, login_as, people, public, make_event):
    event = make_event(public, people["member"], capacity=5)
    for who in ("other", "third", "guest"):
        respond(event, people[who], "yes")
    db.session.commit()
    login_as(people["member"])
    day = event.starts_at.astimezone(PARIS).date().isoformat()
    answer = send(
        client, f"/c/acheteurs/events/{event.id}/edit", event_form(start_date=day, capacity="2")
    )
    assert answer.status_code == 400
    assert "3 personnes ont déjà une place" in text(answer)
    assert fresh(event).capacity == 5


def test_cancelling_tells_attendees_and_freezes_the_event(
    client, login_as, people, public, make_event
):
    event = make_event(public, people["member"])
    respond(event, people["other"], "yes")
    db.session.commit()
    login_as(people["facilitator"])
    confirm = text(client.get(f"/c/acheteurs/events/{event.id}/cancel"))
    assert "Annuler l&#39;événement « Webinaire achats » ?" in confirm
    with captured(signals.notification_requested) as sent:
        answer = send(client, f"/c/acheteurs/events/{event.id}/cancel", {"confirmed": "1"})
    assert answer.status_code == 302
    event = fresh(event)
    assert event.cancelled is True
    assert event.sequence == 1
    assert [(d["reason"], d["recipients"]) for _, d in sent] == [("event_change", ["mia"])]
    page = text(client.get(f"/c/acheteurs/events/{event.id}"))
    assert "Cet événement est annulé." in page
    assert f"/c/acheteurs/events/{event.id}/edit" not in page
    listing = text(client.get("/c/acheteurs/events"))
    assert "<strong>Annulé</strong>" in listing
    # cancelling twice, editing a cancelled event: refused, nothing changes
    again = send(
        client, f"/c/acheteurs/events/{event.id}/cancel", {"confirmed": "1"}, follow_redirects=True
    )
    assert "Cet événement est déjà annulé." in text(again)
    edit = client.get(f"/c/acheteurs/events/{event.id}/edit", follow_redirects=True)
    assert "il ne peut plus être modifié" in text(edit)
    assert fresh(event).sequence == 1


def test_delete_removes_event_and_answers(client, login_as, people, public, make_event):
    event = make_event(public, people["member"])
    event_id = event.id
    respond(event, people["other"], "yes")
    db.session.commit()
    login_as(people["other"])
    assert (
        send(client, f"/c/acheteurs/events/{event_id}/delete", {"confirmed": "1"}).status_code
        == 403
    )
    login_as(people["moderator"])
    assert client.get(f"/c/acheteurs/events/{event.id}/delete").status_code == 200
    with captured(signals.content_deleted) as deleted:
        answer = send(client, f"/c/acheteurs/events/{event.id}/delete", {"confirmed": "1"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/c/acheteurs/events"
    assert len(deleted) == 1
    assert count(Event) == 0
    assert count(Rsvp) == 0
    assert client.get(f"/c/acheteurs/events/{event_id}").status_code == 404


# -- visibility, unknown ids and modules -------------------------------------------------------


def test_secret_and_private_events_for_outsiders(
    client, login_as, people, private, secret, make_event
):
    hidden = make_event(secret, people["member"], "Réunion de crise")
    closed = make_event(private, people["member"], "Réunion du club")
    slug = secret.slug  # secret communities have unguessable addresses
    login_as(people["outsider"])
    assert client.get(f"/c/{slug}/events").status_code == 404
    assert client.get(f"/c/{slug}/events/{hidden.id}").status_code == 404
    assert client.get(f"/c/{slug}/events/{hidden.id}.ics").status_code == 404
    assert client.get(f"/event/{hidden.id}").status_code == 404  # the address stays secret
    private_list = client.get("/c/club/events")
    assert private_list.status_code == 403
    assert "réservés à ses membres" in text(private_list)
    assert client.get(f"/c/club/events/{closed.id}").status_code == 404
    assert send(client, f"/c/club/events/{closed.id}/rsvp", {"answer": "yes"}).status_code == 404
    assert count(Rsvp) == 0
    login_as(people["guest"])
    assert "Réunion de crise" in text(client.get(f"/c/{slug}/events"))


def test_unknown_ids_and_wrong_community_are_404(client, login_as, people, public, make_event):
    other = make_event(public, people["member"])
    login_as(people["member"])
    assert client.get("/c/acheteurs/events/999").status_code == 404
    assert client.get("/c/nulle-part/events").status_code == 404
    assert client.get("/event/999").status_code == 404
    assert send(client, "/c/acheteurs/events/999/rsvp", {"answer": "yes"}).status_code == 404
    assert client.get("/c/acheteurs/events/polls/999").status_code == 404
    # an event is only found under its own community's address
    from maillage.communities.community.operations import create_community

    create_community(people["member"], "Autre", slug="autre")
    db.session.commit()
    assert client.get(f"/c/autre/events/{other.id}").status_code == 404


def test_module_switched_off_hides_every_events_address(
    client, login_as, people, public, make_event
):
    event = make_event(public, people["member"])
    set_modules(public, people["owner"], MODULE_KEYS - {"events"})
    db.session.commit()
    login_as(people["member"])
    urls = [
        "/c/acheteurs/events",
        "/c/acheteurs/events/past",
        "/c/acheteurs/events/new",
        "/c/acheteurs/events/polls/new",
        f"/c/acheteurs/events/{event.id}",
        f"/c/acheteurs/events/{event.id}.ics",
        f"/c/acheteurs/events/{event.id}/edit",
        "/c/acheteurs/events.ics",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert (
        send(client, f"/c/acheteurs/events/{event.id}/rsvp", {"answer": "yes"}).status_code == 404
    )
    assert "/c/acheteurs/events" not in text(client.get("/c/acheteurs"))
    with pytest.raises(OperationError, match="désactivés"):
        respond(event, people["other"], "yes")
    db.session.rollback()
    assert count(Rsvp) == 0


# -- list pages --------------------------------------------------------------------------------


def test_upcoming_and_past_lists_paginate_with_bounded_queries(
    client, login_as, people, public, make_event, count_queries
):
    for day in range(1, 26):
        event = make_event(public, people["member"], f"Rencontre n°{day:02d}", days=day)
        respond(event, people["other"], "yes" if day % 2 else "maybe")
    db.session.commit()
    old = make_event(public, people["member"], "Réunion de lancement", days=3)
    old.starts_at -= dt.timedelta(days=40)
    old.ends_at -= dt.timedelta(days=40)
    db.session.commit()

    login_as(people["other"])
    client.get("/c/acheteurs/events")  # warm up
    with count_queries() as queries:
        first = client.get("/c/acheteurs/events")
    assert first.status_code == 200
    html = text(first)
    titles = re.findall(r'event-title"><a href="[^"]+">([^<]+)</a>', html)
    assert titles == [f"Rencontre n°{day:02d}" for day in range(1, 21)]
    assert "Réunion de lancement" not in html
    assert "Page 1 sur 2" in html
    assert 'href="/c/acheteurs/events?page=2"' in html
    assert "Votre réponse :\nJe participe" in html or "Je participe</p>" in html
    assert len(queries) <= 12, queries

    second = text(client.get("/c/acheteurs/events?page=2"))
    assert re.findall(r'event-title"><a href="[^"]+">([^<]+)</a>', second) == [
        f"Rencontre n°{day:02d}" for day in range(21, 26)
    ]
    past = text(client.get("/c/acheteurs/events/past"))
    assert "Réunion de lancement" in past
    assert "Rencontre n°01" not in past
    assert client.get("/c/acheteurs/events?page=abc").status_code == 200


def test_event_page_queries_do_not_grow_with_attendees(
    client, login_as, people, public, make_event, count_queries, create_user
):
    from maillage.communities.community.operations import add_membership

    event = make_event(public, people["member"], capacity=3)
    login_as(people["other"])

    def measure():
        client.get(f"/c/acheteurs/events/{event.id}")
        with count_queries() as queries:
            page = client.get(f"/c/acheteurs/events/{event.id}")
        assert page.status_code == 200
        return len(queries)

    few = measure()
    for number in range(12):
        person = create_user(f"agent{number}", display_name=f"Agent {number:02d}")
        add_membership(public, person, "member")
        respond(event, person, "yes" if number < 8 else "maybe")
    db.session.commit()
    assert measure() == few
    html = text(client.get(f"/c/acheteurs/events/{event.id}"))
    assert 'Participants <span class="meta">(3)</span>' in html
    assert 'Liste d\'attente <span class="meta">(5)</span>' in html
    waiting = re.search(
        r'<ol class="people-list" aria-labelledby="waiting-title">(.*?)</ol>', html, re.S
    )
    assert re.findall(r">(Agent \d\d)<", waiting.group(1)) == [
        f"Agent {n:02d}" for n in range(3, 8)
    ]


# -- signals -----------------------------------------------------------------------------------


def test_a_new_event_is_announced_to_the_community(app, people, public, make_event):
    with (
        captured(signals.notification_requested) as sent,
        captured(signals.content_created) as created,
    ):
        event = make_event(public, people["member"])
    assert [sender for sender, _ in created] == [event]  # same session: the same object
    assert created[0][1]["community"] == "acheteurs"
    ((sender, details),) = sent
    assert sender is event
    assert details["reason"] == "event"
    assert details["recipients"] is None
    assert details["actor"] == "marc"
    assert details["title"] == "Webinaire achats"
    assert details["url"] == f"/c/acheteurs/events/{event.id}"
    assert db.session.scalar(select(Event.ap_id)) == f"https://maillage.test/event/{event.id}"
