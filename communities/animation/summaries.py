"""The numbers and the first draft of a monthly activity summary.

The numbers come from the analytics package (``period_summary``); without it (not installed,
or failing), a smaller summary is counted from the memberships and posts themselves.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select

from maillage.communities.community.models import Community, Membership

log = logging.getLogger(__name__)

CONTRIBUTION_LABELS = {
    "post": "publications",
    "posts": "publications",
    "comment": "commentaires",
    "comments": "commentaires",
    "topic": "sujets de discussion",
    "reply": "réponses",
    "event": "événements",
    "document": "documents",
    "wiki_page": "pages de wiki",
    "poll": "sondages",
}


def period_numbers(community: Community, start: dt.date, end: dt.date) -> dict:
    """``period_summary`` of the analytics package, or a fallback of the same shape."""
    try:
        from maillage.communities.analytics.queries import period_summary
    except ImportError:
        return _fallback_numbers(community, start, end)
    try:
        return period_summary(community, start, end)
    except Exception:  # analytics must never stop a facilitator from writing the summary
        log.exception("period_summary failed; using the fallback numbers")
        return _fallback_numbers(community, start, end)


def _instants(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris")
    return (
        dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC),
        dt.datetime.combine(end, dt.time(), zone).astimezone(dt.UTC),
    )


def _fallback_numbers(community: Community, start: dt.date, end: dt.date) -> dict:
    from maillage.communities.posts.models import Post
    from maillage.platform.extensions import db

    since, until = _instants(start, end)
    new_members = db.session.scalar(
        select(func.count()).where(
            Membership.community_id == community.id,
            Membership.created_at >= since,
            Membership.created_at < until,
        )
    )
    posts = db.session.scalar(
        select(func.count()).where(
            Post.community_id == community.id, Post.created_at >= since, Post.created_at < until
        )
    )
    return {
        "active_members": None,
        "new_members": new_members,
        "contributions": {"post": posts} if posts else {},
        "most_read": [],
        "organisations": None,
    }


def default_subject(community: Community, start: dt.date) -> str:
    return _(
        "%(name)s : l'activité de %(month)s",
        name=community.name,
        month=format_date(start, "MMMM y"),
    )


def draft_text(community: Community, start: dt.date, numbers: dict) -> str:
    """A Markdown draft the facilitator completes (plain words: it is read in an e-mail)."""
    lines = [
        _("Bonjour à toutes et à tous,"),
        "",
        _(
            "Voici ce qui s'est passé dans « %(name)s » en %(month)s.",
            name=community.name,
            month=format_date(start, "MMMM y"),
        ),
        "",
    ]
    if numbers.get("active_members") is not None:
        lines.append(_("- %(n)d membres actifs", n=numbers["active_members"]))
    lines.append(_("- %(n)d nouveaux membres", n=numbers.get("new_members") or 0))
    if numbers.get("organisations") is not None:
        lines.append(_("- %(n)d organisations représentées", n=numbers["organisations"]))
    for kind, count in sorted((numbers.get("contributions") or {}).items()):
        lines.append(f"- {count} {CONTRIBUTION_LABELS.get(kind, kind)}")
    most_read = numbers.get("most_read") or []
    if most_read:
        lines += ["", _("Les contenus les plus lus :"), ""]
        base = current_app.config.get("BASE_URL", "")
        for title, url, views in most_read:
            link = url if url.startswith("http") else f"{base}{url}"
            lines.append(
                _("- [%(title)s](%(url)s) (%(n)d lectures)", title=title, url=link, n=views)
            )
    lines += ["", _("Merci à chacune et chacun pour sa participation !")]
    return "\n".join(lines)
