"""Analytics on a large activity log: period summary and full dashboard latency.

Generates (at --scale 1) 5,000 users, 200 communities, 20,000 memberships and 1,000,000 activity
events over two years with bulk inserts, then times ``period_summary`` for a month and the whole
dashboard (four trends, organisations, dormant members, most read) of the largest community and of
the platform.

    python benchmarks/analytics.py --scale 0.2
    python benchmarks/analytics.py --database-url postgresql+psycopg://postgres@127.0.0.1/test

Figures, not assertions: compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text

from maillage.platform.app import create_app
from maillage.platform.extensions import db

KINDS = ("visit",) * 6 + ("view",) * 6 + ("post", "comment", "reply", "reaction", "topic")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=10)
    return parser.parse_args()


def fresh_schema(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()


def bulk(table, rows, size: int = 10_000) -> None:
    for start in range(0, len(rows), size):
        db.session.execute(insert(table), rows[start : start + size])
    db.session.commit()


def generate(scale: float, rng: random.Random) -> None:
    from maillage.communities.analytics.models import ActivityEvent, paris_day
    from maillage.communities.community.models import Community, Membership
    from maillage.communities.organisations.models import Organisation
    from maillage.communities.users.models import User

    now = dt.datetime.now(dt.UTC)
    users, communities = int(5000 * scale) or 10, int(200 * scale) or 2
    bulk(Organisation, [{"id": i, "name": f"Org {i}", "kind": "other"} for i in range(1, 101)])
    bulk(
        User,
        [
            {"id": i, "username": f"u{i}", "display_name": f"U {i}", "ap_id": f"https://b/u/{i}",
             "organisation_id": rng.randint(1, 100)}
            for i in range(1, users + 1)
        ],
    )  # fmt: skip
    bulk(
        Community,
        [{"id": i, "slug": f"c{i}", "name": f"C {i}", "ap_id": f"https://b/c/{i}"}
         for i in range(1, communities + 1)],
    )  # fmt: skip
    pairs = {(1 + int(rng.paretovariate(1.2)) % communities, rng.randint(1, users))
             for _ in range(int(20_000 * scale))}  # fmt: skip
    bulk(Membership, [{"community_id": c, "user_id": u} for c, u in pairs])
    pairs = sorted(pairs)
    events = []
    for _ in range(int(1_000_000 * scale)):
        community_id, user_id = rng.choice(pairs)
        at = now - dt.timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
        kind = rng.choice(KINDS)
        events.append(
            {"at": at, "day": paris_day(at), "user_id": user_id, "community_id": community_id,
             "kind": kind, "object_type": "post" if kind == "view" else None,
             "object_id": rng.randint(1, 1000) if kind == "view" else None}
        )  # fmt: skip
    bulk(ActivityEvent, events)


def timed(function, runs: int) -> str:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        durations.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return f"p50 {statistics.median(durations):.0f} ms, max {max(durations):.0f} ms"


def main() -> None:
    from maillage.communities.analytics.dashboard import dashboard
    from maillage.communities.analytics.queries import period_summary
    from maillage.communities.community.models import Community

    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="maillage-analytics-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "CELERY_ALWAYS_EAGER": True, "LOG_LEVEL": "WARNING",
         "SEARCH_INDEX_PATH": str(workdir / "index"), "RATELIMIT_ENABLED": False},
        instance_path=workdir,
    )  # fmt: skip
    fresh_schema(app)
    with app.app_context():
        started = time.perf_counter()
        generate(args.scale, random.Random(7))
        print(f"generated in {time.perf_counter() - started:.1f} s")
        community = db.session.get(Community, 1)
        month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        end = (month + dt.timedelta(days=32)).replace(day=1)
        print(
            "period_summary, largest community:",
            timed(lambda: period_summary(community, month, end), args.runs),
        )
        print("dashboard, largest community:", timed(lambda: dashboard(community), args.runs))
        print("dashboard, platform:", timed(lambda: dashboard(None), max(1, args.runs // 5)))


if __name__ == "__main__":
    main()
