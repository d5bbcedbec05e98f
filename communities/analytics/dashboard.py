"""What the analytics pages show, assembled for a community or the whole platform, and the same
tables as CSV files.  A fixed number of queries whatever the size of the community or the log."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from maillage.communities.analytics import queries, reports
from maillage.communities.analytics.charts import bar_chart
from maillage.communities.analytics.periods import DAY, MONTH, WEEK, last_periods, period_of, today
from maillage.communities.community.labels import ORGANISATION_KIND, ORGANISATION_KINDS
from maillage.communities.community.models import Community

CONTRIBUTION_LABELS = {
    "post": _l("Publications"),
    "comment": _l("Commentaires"),
    "topic": _l("Sujets de discussion"),
    "reply": _l("Réponses aux discussions"),
    "event": _l("Événements"),
    "document": _l("Documents"),
    "wiki_page": _l("Pages de wiki"),
    "poll": _l("Sondages"),
    "task": _l("Tâches"),
    "reaction": _l("Réactions"),
}
PERIOD_LABELS = {DAY: _l("Aujourd'hui"), WEEK: _l("Cette semaine"), MONTH: _l("Ce mois-ci")}
MOST_READ_DAYS = 30
DORMANT_SHOWN = 100

#: CSV tables: name -> (file name part, header)
TABLES = {
    "summary": (
        "activite",
        (_l("Période"), _l("Début"), _l("Fin"), _l("Membres actifs"), _l("Nouveaux membres"),
         _l("Contributions")),
    ),
    "contributions": ("contributions", (_l("Type"), _l("Ce mois-ci"), _l("12 derniers mois"))),
    "organisations": ("organisations", (_l("Organisation"), _l("Type"), _l("Personnes"))),
    "kinds": ("types-organisation", (_l("Type"), _l("Organisations"), _l("Personnes"))),
    "dormant": ("membres-inactifs", (_l("Nom"), _l("Identifiant"), _l("Organisation"),
                                     _l("Dernière activité"))),
    "most-read": ("plus-lus", (_l("Titre"), _l("Adresse"), _l("Lectures"))),
    "trend-week": ("tendance-semaines", (_l("Semaine"), _l("Début"), _l("Membres actifs"),
                                         _l("Contributions"), _l("Nouveaux membres"))),
    "trend-month": ("tendance-mois", (_l("Mois"), _l("Début"), _l("Membres actifs"),
                                      _l("Contributions"), _l("Nouveaux membres"))),
}  # fmt: skip


def summary_rows(community: Community | None, now: dt.datetime | None = None) -> list[tuple]:
    """Today, this ISO week, this month: active members (DAU/WAU/MAU), arrivals, contributions."""
    day = today(now)
    rows = []
    for unit in (DAY, WEEK, MONTH):
        period = period_of(unit, day)
        rows.append(
            (
                str(PERIOD_LABELS[unit]),
                period.start.isoformat(),
                period.last_day.isoformat(),
                queries.active_members(community, period.start, period.end),
                queries.new_members(community, period.start, period.end),
                sum(queries.contributions(community, period.start, period.end).values()),
            )
        )
    return rows


def contribution_rows(community: Community | None, now: dt.datetime | None = None) -> list[tuple]:
    day = today(now)
    month = period_of(MONTH, day)
    year_start = last_periods(MONTH, 12, now)[0].start
    this_month = queries.contributions(community, month.start, month.end)
    this_year = queries.contributions(community, year_start, month.end)
    return [
        (str(CONTRIBUTION_LABELS[kind]), this_month[kind], this_year[kind])
        for kind in queries.CONTRIBUTION_KINDS
    ]


def organisation_rows(community: Community | None) -> list[tuple]:
    return [
        (name, str(ORGANISATION_KIND.get(kind, kind)), people)
        for name, kind, people in reports.organisations(community)
    ]


def kind_rows(community: Community | None, organisations=None) -> list[tuple]:
    organisations = reports.organisations(community) if organisations is None else organisations
    return [
        (str(ORGANISATION_KINDS.get(kind, kind)), count, people)
        for kind, count, people in reports.organisation_kinds(organisations)
    ]


def dormant_rows(community, days: int, now=None, limit: int | None = None) -> list[tuple]:
    _total, people = reports.dormant_members(community, days, now, limit)
    return _dormant_tuples(people)


def _dormant_tuples(people) -> list[tuple]:
    return [
        (
            person.display_name,
            person.username,
            person.organisation or "",
            person.last_activity.isoformat() if person.last_activity else "",
        )
        for person in people
    ]


def most_read_rows(community: Community | None, now=None, viewer=None) -> list[tuple]:
    """Platform-wide, only the content ``viewer`` may read (see :func:`queries.most_read`)."""
    end = today(now) + dt.timedelta(days=1)
    start = end - dt.timedelta(days=MOST_READ_DAYS)
    return queries.most_read(community, start, end, limit=20, viewer=viewer)


def trend_rows(community, unit: str, now=None) -> list[tuple]:
    return [
        (
            point.period.label,
            point.period.start.isoformat(),
            point.active_members,
            point.contributions,
            point.new_members,
        )
        for point in reports.trend(community, unit, 12, now)
    ]


def table_rows(
    name: str, community, now=None, dormant_days=reports.DORMANT_DAYS_DEFAULT, viewer=None
):
    """The rows of the CSV table ``name`` (a key of :data:`TABLES`) as ``viewer`` may see them."""
    builders = {
        "summary": lambda: summary_rows(community, now),
        "contributions": lambda: contribution_rows(community, now),
        "organisations": lambda: organisation_rows(community),
        "kinds": lambda: kind_rows(community),
        "dormant": lambda: dormant_rows(community, dormant_days, now),
        "most-read": lambda: most_read_rows(community, now, viewer),
        "trend-week": lambda: trend_rows(community, WEEK, now),
        "trend-month": lambda: trend_rows(community, MONTH, now),
    }
    return builders[name]()


def _trend_charts(key: str, rows: list[tuple], unit_label) -> list:
    points = [(row[0], row[2]) for row in rows]
    contributions = [(row[0], row[3]) for row in rows]
    return [
        bar_chart(
            f"{key}-active",
            _l("Membres actifs par %(unit)s", unit=unit_label),
            _l("Nombre de membres actifs sur les 12 dernières périodes, de %(first)s à %(last)s.",
               first=points[0][0], last=points[-1][0]),
            _l("Membres actifs"),
            points,
        ),
        bar_chart(
            f"{key}-contributions",
            _l("Contributions par %(unit)s", unit=unit_label),
            _l("Nombre de contributions sur les 12 dernières périodes, de %(first)s à %(last)s.",
               first=points[0][0], last=points[-1][0]),
            _l("Contributions"),
            contributions,
        ),
    ]  # fmt: skip


def dashboard(
    community: Community | None, now=None, dormant_days=reports.DORMANT_DAYS_DEFAULT, viewer=None
):
    """Everything the page shows to ``viewer``.  Platform-wide, the numbers count every
    community, secret ones included, but content is named only where ``viewer`` may read it;
    no table names a community or lists a community's members."""
    organisations = reports.organisations(community)
    dormant_total, dormant = reports.dormant_members(community, dormant_days, now, DORMANT_SHOWN)
    weeks = trend_rows(community, WEEK, now)
    months = trend_rows(community, MONTH, now)
    return {
        "summary": summary_rows(community, now),
        "contributions": contribution_rows(community, now),
        "organisations": [
            (name, str(ORGANISATION_KIND.get(kind, kind)), people)
            for name, kind, people in organisations
        ],
        "kinds": kind_rows(community, organisations),
        "dormant_total": dormant_total,
        "dormant": _dormant_tuples(dormant),
        "dormant_days": dormant_days,
        "most_read": most_read_rows(community, now, viewer),
        "most_read_days": MOST_READ_DAYS,
        "weeks": weeks,
        "months": months,
        "charts": _trend_charts("weeks", weeks, _l("semaine"))
        + _trend_charts("months", months, _l("mois")),
    }
