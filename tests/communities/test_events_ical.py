"""iCalendar: the per-event file, community feeds and personal feeds, parsed with ``icalendar``.

Times must be right on both sides of a daylight saving change, UIDs stable, SEQUENCE moving on
edits, cancelled events marked so, text escaped; and nobody's feed may hold an event they may
not read.  Policy: a public community's feed is open; a private or secret one's needs the
reader's personal token (403 for a private community without it, 404 for a secret one).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import icalendar
import pytest
from sqlalchemy import select

from maillage.communities.community.operations import leave, set_modules
from maillage.communities.events import feeds
from maillage.communities.events.models import CalendarFeedKey
from maillage.communities.events.operations import (
    EventFields,
    cancel_event,
    edit_event,
    respond,
)
from maillage.communities.modules import MODULE_KEYS
from maillage.platform.extensions import db
from tests.communities.test_events_support import (
    paris,
    send,
    text,
)

pytest_plugins = ("tests.communities.test_events_support",)

UTC = dt.UTC


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, text(response)
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.data)


def vevents(calendar) -> dict[str, icalendar.Event]:
    return {str(item["SUMMARY"]): item for item in calendar.walk("VEVENT")}


def next_summer_time_change() -> dt.date:
    """The last Sunday of March of next year (clocks go forward in Europe)."""
    year = dt.date.today().year + 1
    last = dt.date(year, 3, 31)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def test_event_file_is_right_on_both_sides_of_the_change_to_summer_time(
    client, people, public, make_event
):
    before = make_event(public, people["member"], "Avant", starts_at=paris(2026, 3, 28), hours=1)
    after = make_event(public, people["member"], "Après", starts_at=paris(2026, 3, 30), hours=1)
    for event, utc_hour in ((before, 9), (after, 8)):
        calendar = parse(client.get(f"/c/acheteurs/events/{event.id}.ics"))
        (item,) = calendar.walk("VEVENT")
        start, end = item.decoded("DTSTART"), item.decoded("DTEND")
        assert item["DTSTART"].params["TZID"] == "Europe/Paris"
        assert (start.hour, str(start.tzinfo)) == (10, "Europe/Paris")
        assert start.astimezone(UTC) == dt.datetime(
            2026, 3, event.starts_at.day, utc_hour, tzinfo=UTC
        )
        assert end - start == dt.timedelta(hours=1)
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
        assert str(item["UID"]) == event.ap_id == f"https://maillage.test/event/{event.id}"
        assert str(item["URL"]) == f"https://maillage.test/c/acheteurs/events/{event.id}"
        assert item["STATUS"] == "CONFIRMED"
        assert int(item["SEQUENCE"]) == 0


def test_sequence_status_and_escaping(client, people, public, make_event):
    event = make_event(
        public,
        people["member"],
        "Atelier; achats, clauses\\sociales",
        place="Salle 2, 1er étage; bâtiment B",
        description="Ligne 1\nLigne 2, avec ; et \\",
        video_url="https://visio.example.gouv.fr/salle?x=1,2",
    )
    raw = client.get(f"/c/acheteurs/events/{event.id}.ics").data.decode()
    assert "SUMMARY:Atelier\\; achats\\, clauses\\\\sociales" in raw
    item = vevents(parse(client.get(f"/c/acheteurs/events/{event.id}.ics")))[
        "Atelier; achats, clauses\\sociales"
    ]
    assert str(item["LOCATION"]) == "Salle 2, 1er étage; bâtiment B"
    assert str(item["DESCRIPTION"]).startswith("Ligne 1\nLigne 2, avec ; et \\")
    assert "Visioconférence : https://visio.example.gouv.fr/salle?x=1,2" in str(item["DESCRIPTION"])
    uid = str(item["UID"])

    edit_event(
        event,
        people["member"],
        EventFields(event.title, event.starts_at + dt.timedelta(hours=1), event.ends_at),
    )
    db.session.commit()
    item = parse(client.get(f"/c/acheteurs/events/{event.id}.ics")).walk("VEVENT")[0]
    assert (str(item["UID"]), int(item["SEQUENCE"])) == (uid, 1)
    cancel_event(event, people["member"])
    db.session.commit()
    item = parse(client.get(f"/c/acheteurs/events/{event.id}.ics")).walk("VEVENT")[0]
    assert (str(item["UID"]), int(item["SEQUENCE"]), item["STATUS"]) == (uid, 2, "CANCELLED")


def test_utc_and_overseas_events(client, people, public, make_event):
    start = dt.datetime(2027, 1, 15, 8, tzinfo=UTC)
    utc_event = make_event(public, people["member"], "En UTC", starts_at=start, timezone="UTC")
    reunion = make_event(
        public, people["member"], "À La Réunion", starts_at=start, timezone="Indian/Reunion"
    )
    item = parse(client.get(f"/c/acheteurs/events/{utc_event.id}.ics")).walk("VEVENT")[0]
    assert item.decoded("DTSTART") == start
    assert "DTSTART:20270115T080000Z" in client.get(f"/c/acheteurs/events/{utc_event.id}.ics").text
    item = parse(client.get(f"/c/acheteurs/events/{reunion.id}.ics")).walk("VEVENT")[0]
    assert item["DTSTART"].params["TZID"] == "Indian/Reunion"
    assert item.decoded("DTSTART").hour == 12
    assert item.decoded("DTSTART").astimezone(UTC) == start


def test_public_community_feed_across_the_next_summer_time_change(
    client, people, public, make_event
):
    change = next_summer_time_change()
    eve, morrow = change - dt.timedelta(days=1), change + dt.timedelta(days=1)
    make_event(public, people["member"], "Veille", starts_at=paris(eve.year, eve.month, eve.day))
    make_event(
        public,
        people["member"],
        "Lendemain",
        starts_at=paris(morrow.year, morrow.month, morrow.day),
    )
    calendar = parse(client.get("/c/acheteurs/events.ics"))  # anonymous: public community
    assert str(calendar["X-WR-CALNAME"]) == "Réseau des acheteurs"
    items = vevents(calendar)
    assert items["Veille"].decoded("DTSTART").astimezone(UTC).hour == 9
    assert items["Lendemain"].decoded("DTSTART").astimezone(UTC).hour == 8
    assert len(calendar.walk("VTIMEZONE")) == 1


def test_private_and_secret_community_feeds_need_a_token(
    client, login_as, people, private, secret, make_event
):
    make_event(private, people["member"], "Réunion du club")
    make_event(secret, people["member"], "Réunion de crise")
    member_token = feeds.rotate_feed_token(people["other"])
    outsider_token = feeds.rotate_feed_token(people["outsider"])
    db.session.commit()
    secret_feed = f"/c/{secret.slug}/events.ics"

    refused = client.get("/c/club/events.ics")
    assert refused.status_code == 403
    assert "réservé à ses membres" in text(refused)
    assert client.get(secret_feed).status_code == 404
    assert (
        client.get("/c/club/events.ics", query_string={"token": outsider_token}).status_code == 403
    )
    assert client.get(secret_feed, query_string={"token": outsider_token}).status_code == 404
    forged = member_token[:-2] + ("AA" if not member_token.endswith("AA") else "BB")
    assert client.get("/c/club/events.ics", query_string={"token": forged}).status_code == 403
    assert client.get("/c/club/events.ics", query_string={"token": "1.x"}).status_code == 403

    club = parse(client.get("/c/club/events.ics", query_string={"token": member_token}))
    assert set(vevents(club)) == {"Réunion du club"}
    crisis = parse(client.get(secret_feed, query_string={"token": member_token}))
    assert set(vevents(crisis)) == {"Réunion de crise"}
    # in the browser, the session is enough
    login_as(people["member"])
    assert set(vevents(parse(client.get("/c/club/events.ics")))) == {"Réunion du club"}
    page = text(client.get("/c/club/events"))
    assert "Activer mon adresse d" in page  # marc has no token yet: no URL to show
    login_as(people["other"])
    page = text(client.get("/c/club/events"))
    assert f"https://maillage.test/c/club/events.ics?token={member_token}" in page
    assert "Cette adresse est personnelle" in page


def test_feeds_of_a_community_without_events_are_404(client, people, public, make_event):
    make_event(public, people["member"])
    token = feeds.rotate_feed_token(people["member"])
    set_modules(public, people["owner"], MODULE_KEYS - {"events"})
    db.session.commit()
    assert client.get("/c/acheteurs/events.ics").status_code == 404
    assert client.get("/c/acheteurs/events.ics", query_string={"token": token}).status_code == 404
    calendar = parse(client.get("/u/marc/events.ics", query_string={"token": token}))
    assert calendar.walk("VEVENT") == []


def test_personal_feed_holds_what_the_person_may_read(
    client, login_as, people, public, private, secret, make_event, create_community, count_queries
):
    make_event(public, people["member"], "Webinaire public")
    make_event(private, people["member"], "Réunion du club")
    make_event(secret, people["member"], "Réunion de crise")
    declined = make_event(public, people["member"], "Décliné")
    cancelled = make_event(public, people["member"], "Annulé")
    elsewhere = create_community("Ailleurs", slug="ailleurs", owner=people["owner"])
    make_event(elsewhere, people["owner"], "Pas ma communauté")
    respond(declined, people["other"], "no")
    cancel_event(cancelled, people["member"])
    db.session.commit()

    login_as(people["other"])
    agenda = text(client.get("/agenda"))
    assert "Activer mon adresse d" in agenda
    assert send(client, "/agenda/feed").status_code == 302
    agenda = text(client.get("/agenda"))
    url = agenda.split('id="person-feed-url" readonly value="', 1)[1].split('"', 1)[0]
    assert url.startswith("https://maillage.test/u/mia/events.ics?token=")
    assert 'href="webcal://maillage.test/u/mia/events.ics?token=' in agenda
    path = urlsplit(url).path + "?" + urlsplit(url).query
    token = urlsplit(url).query.split("=", 1)[1]
    # only a nonce is stored: the token itself is nowhere in the database
    assert db.session.scalar(select(CalendarFeedKey.nonce)) not in token

    login_as(None)  # calendar applications have no session
    client.get(path)
    with count_queries() as queries:
        calendar = parse(client.get(path))
    assert len(queries) <= 6, queries
    items = vevents(calendar)
    assert set(items) == {"Webinaire public", "Réunion du club", "Réunion de crise", "Annulé"}
    assert items["Annulé"]["STATUS"] == "CANCELLED"
    assert str(calendar["X-WR-CALNAME"]) == "Agenda de Mia Membre"

    # leaving the secret community takes its events out of the feed
    leave(secret, people["other"])
    db.session.commit()
    assert "Réunion de crise" not in vevents(parse(client.get(path)))

    # the token opens no one else's feed, and nothing without it
    assert client.get(f"/u/marc/events.ics?token={token}").status_code == 404
    assert client.get("/u/mia/events.ics").status_code == 404
    assert client.get("/u/mia/events.ics?token=garbage").status_code == 404


def test_rotating_and_disabling_the_personal_address(client, login_as, people, public):
    login_as(people["member"])
    send(client, "/agenda/feed")
    first = feeds.feed_token(people["member"])
    assert client.get(f"/u/marc/events.ics?token={first}").status_code == 200
    changed = send(client, "/agenda/feed", follow_redirects=True)
    assert "l&#39;ancienne ne fonctionne plus" in text(
        changed
    ) or "l'ancienne ne fonctionne" in text(changed)
    second = feeds.feed_token(people["member"])
    assert second != first
    assert client.get(f"/u/marc/events.ics?token={first}").status_code == 404
    assert client.get(f"/u/marc/events.ics?token={second}").status_code == 200
    send(client, "/agenda/feed/disable", {"confirmed": "1"})
    assert feeds.feed_token(people["member"]) is None
    assert client.get(f"/u/marc/events.ics?token={second}").status_code == 404
    login_as(None)
    assert client.get("/agenda").headers["Location"].startswith("/login")


def test_deactivated_people_lose_their_feed(client, people, public):
    token = feeds.rotate_feed_token(people["member"])
    people["member"].is_active = False
    db.session.commit()
    assert client.get(f"/u/marc/events.ics?token={token}").status_code == 404


@pytest.mark.parametrize("zone_name", ["Europe/Paris", "America/Cayenne", "Pacific/Noumea"])
def test_every_offered_zone_round_trips(client, people, public, make_event, zone_name):
    from zoneinfo import ZoneInfo

    start = dt.datetime(2027, 7, 1, 9, 30, tzinfo=ZoneInfo(zone_name))
    event = make_event(public, people["member"], starts_at=start, timezone=zone_name)
    item = parse(client.get(f"/c/acheteurs/events/{event.id}.ics")).walk("VEVENT")[0]
    assert item.decoded("DTSTART") == start
    assert (item.decoded("DTSTART").hour, item.decoded("DTSTART").minute) == (9, 30)
