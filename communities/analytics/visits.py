"""One ``visit`` event per person, per day and per community visited, without a write per request.

After a successful GET by a signed-in person, the session remembers which visits of the current
Paris day are already stored (the platform and each community slug seen); only the first request
of the day (and the first in each community) checks the log and writes, and it also refreshes
``User.last_seen_at``, so that column costs one write a day too.  Two browsers on the same day may
both write a visit: every count is of *distinct* people, so a duplicate changes nothing.
"""

from __future__ import annotations

from flask import request, session
from flask_login import current_user
from sqlalchemy import select

from maillage.communities.analytics.blueprint import blueprint
from maillage.communities.analytics.models import ActivityEvent, paris_day
from maillage.communities.community.models import Community
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

SESSION_KEY = "analytics_visits"
#: Communities remembered per day in the session cookie (past it, the log is checked again).
MAX_REMEMBERED = 30
PLATFORM = ""


def _counts(response) -> bool:
    if request.method != "GET" or response.status_code >= 400:
        return False
    endpoint = request.endpoint or ""
    if not endpoint or endpoint == "static" or endpoint.endswith(".static"):
        return False
    if endpoint.startswith(("api", "federation")):
        return False
    return current_user.is_authenticated


@blueprint.after_app_request
def record_visit(response):
    if not _counts(response):
        return response
    now = utcnow()
    day = paris_day(now).isoformat()
    remembered = session.get(SESSION_KEY) or {}
    seen = list(remembered.get("keys", [])) if remembered.get("day") == day else []
    slug = (request.view_args or {}).get("slug")
    wanted = [PLATFORM] + ([slug] if isinstance(slug, str) else [])
    missing = [key for key in wanted if key not in seen]
    if not missing:
        return response
    try:
        # Only the visit is committed here: whatever the view left uncommitted is not ours to keep.
        db.session.rollback()
        _store_visits(current_user._get_current_object(), missing, now)
        db.session.commit()
    except Exception:  # statistics must never break a page
        db.session.rollback()
        return response
    session[SESSION_KEY] = {"day": day, "keys": (seen + missing)[-MAX_REMEMBERED:]}
    return response


def _store_visits(user, keys: list[str], now) -> None:
    day = paris_day(now)
    community_ids: list[int | None] = []
    for key in keys:
        if key == PLATFORM:
            community_ids.append(None)
            user.last_seen_at = now
            continue
        community_id = db.session.scalar(select(Community.id).where(Community.slug == key))
        if community_id is not None:
            community_ids.append(community_id)
    for community_id in community_ids:
        already = select(ActivityEvent.id).where(
            ActivityEvent.user_id == user.id,
            ActivityEvent.kind == "visit",
            ActivityEvent.day == day,
            ActivityEvent.community_id.is_(None)
            if community_id is None
            else ActivityEvent.community_id == community_id,
        )
        if db.session.scalar(already.limit(1)) is None:
            db.session.add(
                ActivityEvent(kind="visit", user_id=user.id, community_id=community_id, at=now)
            )
