"""iCalendar files and the personal secret behind calendar subscriptions.

Calendar applications fetch feeds without the person's session, so a personal feed URL carries a
token: ``<user id>.<HMAC-SHA256(secret key, user id, nonce)>``.  Only the random nonce is stored;
the token is recomputed to show the URL again, and rotating the nonce revokes every copy of the
old URL.  The same token opens the feed of a private or secret community the person may read.

Files: one VEVENT per event with a stable UID (the event's ``ap_id``), local times with their
TZID and the matching VTIMEZONE (right on both sides of a daylight saving change), SEQUENCE
bumped on each change and STATUS:CANCELLED once cancelled.  ``icalendar`` escapes the text.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

import icalendar
from flask import current_app, url_for
from sqlalchemy import delete, select

from maillage.communities.community.models import Visibility
from maillage.communities.events.models import CalendarFeedKey, Event
from maillage.communities.events.times import in_zone
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

PRODID = "-//Maillage//Evenements//FR"


# -- personal tokens ---------------------------------------------------------------------------


def _mac(user_id: int, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"maillage.events.feed:{user_id}:{nonce}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def feed_key(user: User) -> CalendarFeedKey | None:
    return db.session.scalar(select(CalendarFeedKey).where(CalendarFeedKey.user_id == user.id))


def feed_token(user: User, key: CalendarFeedKey | None = None) -> str | None:
    """The person's current token, or None while they have not turned the feed on."""
    key = key or feed_key(user)
    return f"{user.id}.{_mac(user.id, key.nonce)}" if key is not None else None


def rotate_feed_token(user: User) -> str:
    """Turn the personal feed on, or give it a new URL (the old one stops working)."""
    key = feed_key(user)
    if key is None:
        key = CalendarFeedKey(user_id=user.id, nonce="")
        db.session.add(key)
    key.nonce = secrets.token_urlsafe(24)
    key.created_at = utcnow()
    record(user, "event.feed_rotate", user)
    db.session.flush()
    return feed_token(user, key)


def disable_feed(user: User) -> None:
    db.session.execute(delete(CalendarFeedKey).where(CalendarFeedKey.user_id == user.id))
    record(user, "event.feed_disable", user)


def user_for_token(token: str | None) -> User | None:
    """The active person whose current token is ``token`` (compared in constant time)."""
    if not token or len(token) > 100 or "." not in token:
        return None
    raw_id, mac = token.split(".", 1)
    if not raw_id.isdigit():
        return None
    row = db.session.execute(
        select(User, CalendarFeedKey.nonce)
        .join(CalendarFeedKey, CalendarFeedKey.user_id == User.id)
        .where(User.id == int(raw_id))
    ).first()
    if row is None or not row.User.is_active:
        return None
    if not hmac.compare_digest(mac.encode(), _mac(row.User.id, row.nonce).encode()):
        return None
    return row.User


def community_feed_url(community, viewer: User | None) -> str | None:
    """The address a calendar app subscribes to for ``community``'s events: open for a public
    community; for a private or secret one, only with the viewer's own token (None while the
    viewer has not turned their personal feed on, or may not read the community)."""
    path = url_for("events.community_feed", slug=community.slug)
    if community.visibility == Visibility.PUBLIC:
        return absolute(path)
    if viewer is None or not can(viewer, "read", community):
        return None
    token = feed_token(viewer)
    return absolute(f"{path}?token={token}") if token else None


# -- iCalendar ---------------------------------------------------------------------------------


def absolute(path: str) -> str:
    return f"{current_app.config['BASE_URL']}{path}"


def webcal(url: str) -> str:
    """The ``webcal://`` form of a feed URL, which opens the person's calendar application."""
    return "webcal://" + url.split("://", 1)[1]


def _ical_time(value: dt.datetime, zone_name: str) -> dt.datetime:
    local = in_zone(value, zone_name)
    return value.astimezone(dt.UTC) if zone_name == "UTC" else local


def _vevent(event: Event) -> icalendar.Event:
    page = absolute(f"/c/{event.community.slug}/events/{event.id}")
    item = icalendar.Event()
    item.add("uid", event.ap_id or f"{page}#event")
    item.add("dtstamp", event.updated_at or event.created_at)
    item.add("created", event.created_at)
    item.add("last-modified", event.updated_at or event.created_at)
    item.add("sequence", event.sequence)
    item.add("summary", event.title)
    item.add("dtstart", _ical_time(event.starts_at, event.timezone))
    item.add("dtend", _ical_time(event.ends_at, event.timezone))
    item.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    item.add("url", page)
    description = [event.description_source.strip()]
    if event.video_url:
        description.append(f"Visioconférence : {event.video_url}")
    description.append(page)
    item.add("description", "\n\n".join(part for part in description if part))
    location = event.place or event.video_url
    if location:
        item.add("location", location)
    if event.video_url:
        item.add("conference", event.video_url, parameters={"VALUE": "URI"})
    return item


def calendar(events, name: str) -> bytes:
    """An iCalendar file of ``events`` (communities loaded), named ``name`` in calendar apps."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for event in events:
        cal.add_component(_vevent(event))
    cal.add_missing_timezones()
    return cal.to_ical()
