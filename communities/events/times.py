"""Local dates and times of events: IANA time zones, conversion to UTC, display.

The form takes a local date and time plus a time zone; the database keeps UTC and the zone.
A local time that does not exist (the hour skipped when clocks go forward) is refused rather
than silently moved; an ambiguous one (the hour repeated in autumn) is the first occurrence.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from maillage.communities.events.models import DEFAULT_TIMEZONE
from maillage.platform.errors import OperationError

#: The zones the forms offer: metropolitan France first, then overseas France, then neighbours.
TIMEZONE_CHOICES = (
    ("Europe/Paris", _l("Paris (France métropolitaine)")),
    ("America/Guadeloupe", _l("Guadeloupe")),
    ("America/Martinique", _l("Martinique")),
    ("America/Cayenne", _l("Guyane")),
    ("Indian/Reunion", _l("La Réunion")),
    ("Indian/Mayotte", _l("Mayotte")),
    ("America/Miquelon", _l("Saint-Pierre-et-Miquelon")),
    ("Pacific/Noumea", _l("Nouvelle-Calédonie")),
    ("Pacific/Tahiti", _l("Polynésie française (Tahiti)")),
    ("Pacific/Wallis", _l("Wallis-et-Futuna")),
    ("Europe/Brussels", _l("Bruxelles")),
    ("Europe/London", _l("Londres")),
    ("UTC", _l("Temps universel (UTC)")),
)


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone called ``name``; an unknown or malformed name is refused in French."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise OperationError(_l("Fuseau horaire inconnu : %(name)s."), name=name or "")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise OperationError(_l("Fuseau horaire inconnu : %(name)s."), name=name) from exc


def local_to_utc(day: dt.date, time: dt.time, zone_name: str) -> dt.datetime:
    """The UTC instant of the wall-clock ``day`` ``time`` in ``zone_name``."""
    tz = zone(zone_name)
    naive = dt.datetime.combine(day, time.replace(tzinfo=None))
    aware = naive.replace(tzinfo=tz)
    instant = aware.astimezone(dt.UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != naive:
        raise OperationError(
            _l(
                "%(time)s n'existe pas le %(day)s dans ce fuseau horaire (passage à l'heure "
                "d'été) : choisissez une autre heure.",
            ),
            time=time.strftime("%H:%M"),
            day=day.strftime("%d/%m/%Y"),
        )
    return instant


def in_zone(value: dt.datetime, zone_name: str | None) -> dt.datetime:
    """``value`` as wall-clock time in ``zone_name`` (the default zone when unknown)."""
    try:
        tz = zone(zone_name)
    except OperationError:
        tz = ZoneInfo(DEFAULT_TIMEZONE)
    return value.astimezone(tz)


def format_when(starts_at: dt.datetime, ends_at: dt.datetime, zone_name: str) -> str:
    """« jeudi 2 avril 2026, 10:00 – 12:00 » in the event's zone (the zone added when it is not
    the default), on two dates when the event spans several days."""
    locale = get_locale()
    start, end = in_zone(starts_at, zone_name), in_zone(ends_at, zone_name)
    start_day = format_date(start, "full", locale=locale)
    start_time = format_time(start, "short", locale=locale)
    end_time = format_time(end, "short", locale=locale)
    if start.date() == end.date():
        text = f"{start_day}, {start_time} – {end_time}"
    else:
        end_day = format_date(end, "full", locale=locale)
        text = f"{start_day}, {start_time} – {end_day}, {end_time}"
    if zone_name != DEFAULT_TIMEZONE:
        text += f" ({zone_name})"
    return text


def split_local(value: dt.datetime, zone_name: str) -> tuple[dt.date, dt.time]:
    """The local date and time of ``value`` in ``zone_name``, to fill an edit form."""
    local = in_zone(value, zone_name)
    return local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None)
