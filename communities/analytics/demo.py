"""Demo activity: a year of visits, readings and contributions, rising over time, so the charts of
the demo communities show trends.  A few thousand rows at most, inserted in one statement."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select

from maillage.communities.analytics.models import ActivityEvent, paris_day
from maillage.communities.community.models import Membership
from maillage.communities.posts.models import Post
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

WEEKS = 52
MAX_ROWS = 4000
CONTRIBUTIONS = ("post", "comment", "topic", "reply", "reaction", "document", "event")


def load_demo(_people, communities, rng) -> None:
    ids = [community.id for community in communities.values()]
    members = db.session.execute(
        select(Membership.community_id, Membership.user_id).where(Membership.community_id.in_(ids))
    ).all()
    posts: dict[int, list[int]] = {}
    for community_id, post_id in db.session.execute(
        select(Post.community_id, Post.id).where(Post.community_id.in_(ids))
    ):
        posts.setdefault(community_id, []).append(post_id)
    rows = _rows(members, posts, rng, utcnow())
    if rows:
        db.session.execute(insert(ActivityEvent), rows[:MAX_ROWS])


def _rows(members, posts, rng, now: dt.datetime) -> list[dict]:
    rows: list[dict] = []
    for week in range(WEEKS, 0, -1):
        growth = (WEEKS - week) / WEEKS  # 0 a year ago, close to 1 this week
        for community_id, user_id in members:
            if rng.random() > 0.15 + 0.45 * growth:
                continue
            moment = now - dt.timedelta(weeks=week, hours=rng.randrange(0, 7 * 24))
            rows.append(_row("visit", user_id, community_id, moment))
            if posts.get(community_id) and rng.random() < 0.5:
                post_id = rng.choice(posts[community_id])
                rows.append(_row("view", user_id, community_id, moment, "post", post_id))
            if rng.random() < 0.15 + 0.2 * growth:
                rows.append(_row(rng.choice(CONTRIBUTIONS), user_id, community_id, moment))
    return rows


def _row(kind, user_id, community_id, moment, object_type=None, object_id=None) -> dict:
    return {
        "kind": kind,
        "user_id": user_id,
        "community_id": community_id,
        "at": moment,
        "day": paris_day(moment),
        "object_type": object_type,
        "object_id": object_id,
    }
