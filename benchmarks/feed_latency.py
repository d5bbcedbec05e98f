"""Feed and community page latency on a large data set.

Generates (at --scale 1) 100,000 users, 5,000 communities, 500,000 memberships and 500,000 posts
with bulk inserts, then requests the home feed of members and community pages through the full
Flask stack (routing, permission policy, SQL, templates) and prints p50/p95 in milliseconds.

    python benchmarks/feed_latency.py                       # SQLite file under benchmarks/results
    python benchmarks/feed_latency.py --database-url postgresql+psycopg://postgres@127.0.0.1/test

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
from maillage.platform.firstrun.operations import mark_setup_done

ROOT = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def sizes(scale: float) -> dict[str, int]:
    return {
        "users": int(100_000 * scale),
        "communities": int(5_000 * scale),
        "memberships_per_user": 5,
        "posts": int(500_000 * scale),
    }


def fresh_schema(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()


def chunks(rows, size=5000):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def bulk(table, rows) -> None:
    for chunk in chunks(rows):
        db.session.execute(insert(table), chunk)
    db.session.commit()


def generate(app, counts: dict[str, int], rng: random.Random) -> None:
    from maillage.communities.community.models import Community, Membership
    from maillage.communities.organisations.models import Organisation
    from maillage.communities.posts.models import Post
    from maillage.communities.users.models import User

    base = app.config["BASE_URL"]
    now = dt.datetime.now(dt.UTC)
    kinds = ["state_service", "local_authority", "association", "other"]
    bulk(
        Organisation.__table__,
        [
            {"id": i, "name": f"Organisation {i}", "kind": kinds[i % 4], "created_at": now}
            for i in range(1, 501)
        ],
    )
    bulk(
        User.__table__,
        [
            {
                "id": i,
                "username": f"agent{i}",
                "display_name": f"Agent {i}",
                "email": None,
                "organisation_id": 1 + i % 500,
                "job_title": "",
                "bio": "",
                "is_admin": False,
                "is_trainer": False,
                "is_active": True,
                "session_version": 1,
                "ap_id": f"{base}/u/agent{i}",
                "local": True,
                "created_at": now,
            }
            for i in range(1, counts["users"] + 1)
        ],
    )
    visibilities = ["public"] * 6 + ["private"] * 3 + ["secret"]
    bulk(
        Community.__table__,
        [
            {
                "id": i,
                "slug": f"communaute-{i}",
                "name": f"Communauté {i}",
                "description": "",
                "visibility": visibilities[i % 10],
                "join_policy": "open",
                "member_count": 0,
                "post_count": 0,
                "ap_id": f"{base}/c/communaute-{i}",
                "local": True,
                "created_at": now,
            }
            for i in range(1, counts["communities"] + 1)
        ],
    )
    memberships = set()
    for user_id in range(1, counts["users"] + 1):
        for community_id in rng.sample(
            range(1, counts["communities"] + 1), counts["memberships_per_user"]
        ):
            memberships.add((community_id, user_id))
    bulk(
        Membership.__table__,
        [
            {"community_id": c, "user_id": u, "role": "member", "created_at": now}
            for c, u in memberships
        ],
    )
    bulk(
        Post.__table__,
        [
            {
                "community_id": rng.randint(1, counts["communities"]),
                "author_id": rng.randint(1, counts["users"]),
                "title": f"Publication {i}",
                "body_source": "Compte rendu de la réunion.",
                "comment_count": 0,
                "body_html": "<p>Compte rendu de la réunion.</p>",
                "local": True,
                "created_at": now - dt.timedelta(seconds=i * 37),
            }
            for i in range(counts["posts"])
        ],
    )
    db.session.execute(
        text(
            "UPDATE communities SET member_count = (SELECT count(*) FROM memberships "
            "WHERE memberships.community_id = communities.id)"
        )
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def measure(client, paths: list[str]) -> tuple[float, float]:
    timings = []
    for path in paths:
        start = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def sign_in(client, user_id: int) -> None:
    """Open a real server-side session for ``user_id`` and store its Flask-Login login id, with
    the identifier strong session protection checks."""
    from maillage.auth.session import login_id
    from maillage.auth.sessions.operations import open_session
    from maillage.communities.users.models import User
    from maillage.platform.extensions import login_manager

    with client.application.app_context():
        user = db.session.get(User, user_id)
        token, _record = open_session(user, user_agent="benchmark", ip_address="127.0.0.1")
        value = login_id(user, token)
        db.session.commit()
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session.update(_user_id=value, _fresh=True, _id=identifier)


def check_signed_in(client) -> None:
    """The member's feed, not the anonymous page: a benchmark that measured the wrong page
    would print plausible figures."""
    page = client.get("/").get_data(as_text=True)
    if 'action="/logout"' not in page:
        raise SystemExit("the benchmark's sign-in did not open a session")


def main() -> None:
    args = parse_args()
    counts = sizes(args.scale)
    workdir = Path(tempfile.mkdtemp(prefix="maillage-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "CELERY_ALWAYS_EAGER": True,
            "LOG_LEVEL": "WARNING",
            "SEARCH_INDEX_PATH": str(workdir / "index"),
            "RATELIMIT_ENABLED": False,
        },
        instance_path=workdir,
    )
    fresh_schema(app)
    rng = random.Random(args.seed)
    with app.app_context():
        started = time.perf_counter()
        generate(app, counts, rng)
        mark_setup_done()  # a generated instance needs no first-run setup
        db.session.commit()
        print(
            f"database: {db.engine.dialect.name}; generated {counts} "
            f"in {time.perf_counter() - started:.1f} s"
        )
    client = app.test_client()
    users = [rng.randint(1, counts["users"]) for _ in range(args.requests)]
    feed_timings = []
    for user_id in users:
        sign_in(client, user_id)
        feed_timings.append(measure(client, ["/"])[0])
    check_signed_in(client)
    feed_timings.sort()
    print(
        f"home feed (member of 5 communities): p50 {statistics.median(feed_timings):.1f} ms, "
        f"p95 {feed_timings[int(len(feed_timings) * 0.95) - 1]:.1f} ms"
    )
    with client.session_transaction() as session:
        session.clear()
    p50, p95 = measure(client, ["/"] * 50)
    print(f"home page (anonymous, public posts): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    public_ids = [i for i in range(1, counts["communities"] + 1) if i % 10 < 6]
    paths = [f"/c/communaute-{rng.choice(public_ids)}" for _ in range(args.requests)]
    p50, p95 = measure(client, paths)
    print(f"community page (anonymous, public): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    p50, p95 = measure(client, ["/communities"] * 50)
    print(f"community directory, first page: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
