"""Migration 0029 on a database at 0028 that holds data: rows, ids and schema kept.

On SQLite the federated tables are rebuilt with AUTOINCREMENT (their foreign keys cascade:
a careless rebuild would empty ``comments`` when it drops ``posts``); on PostgreSQL nothing
changes.  The database is a fresh one of its own (a schema of its own on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from maillage.platform.app import create_app
from maillage.platform.extensions import db

BEFORE, AFTER = "0028_worker_health", "0029_federation_tombstones"
TABLES = (
    "users",
    "communities",
    "posts",
    "comments",
    "discussion_topics",
    "discussion_replies",
    "events",
    "memberships",
    "audit_log",
)
_values = itertools.count(1)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("MAILLAGE_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return f"sqlite:///{tmp_path_factory.mktemp('migration') / 'at-0028.sqlite'}"
    schema = f"{os.environ.get('MAILLAGE_TEST_SCHEMA_PREFIX') or 'test'}_mig0029"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return (
        sa.make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def _filler(column: sa.Column):
    """A value for a NOT NULL column the test does not care about."""
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return []
    if kind is bool:
        return False
    if kind is int:
        return 0
    if kind is dt.datetime:
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    if kind in (dict, list):
        return []
    return f"v{next(_values)}"


def _insert(connection, table: sa.Table, **given) -> int:
    for column in table.columns:
        needed = not column.nullable and column.server_default is None
        if column.name not in given and needed and not column.primary_key:
            given[column.name] = _filler(column)
    return connection.execute(table.insert().values(**given).returning(table.c.id)).scalar_one()


def _fill(connection) -> dict[str, int]:
    """A little of everything at 0028: two posts and a deleted third, comments (whose foreign
    key cascades), a topic and a reply that point at each other, an event, a membership."""
    meta = sa.MetaData()
    meta.reflect(connection, only=TABLES)
    t = meta.tables
    now = dt.datetime(2026, 5, 4, 12, tzinfo=dt.UTC)
    base = "https://maillage.test"
    ids = {}
    ids["user"] = _insert(connection, t["users"], username="alice", ap_id=f"{base}/u/alice")
    ids["community"] = _insert(connection, t["communities"], slug="main", ap_id=f"{base}/c/main")
    content = {"community_id": ids["community"], "author_id": ids["user"], "local": True}
    for n in (1, 2, 3):
        ids[f"post{n}"] = _insert(connection, t["posts"], title=f"P{n}", **content)
    connection.execute(t["posts"].delete().where(t["posts"].c.id == ids["post3"]))
    for number, object_id in ((1, ids["post3"]), (2, ids["post3"] + 4)):  # one long gone
        _insert(
            connection,
            t["audit_log"],
            action="post.delete",
            object_type="post",
            object_id=object_id,
            data={"n": number},
        )
    for _ in (1, 2):
        _insert(connection, t["comments"], post_id=ids["post1"], author_id=ids["user"])
    topic = _insert(connection, t["discussion_topics"], **content, last_activity_at=now)
    reply = _insert(connection, t["discussion_replies"], topic_id=topic, author_id=ids["user"])
    connection.execute(
        t["discussion_topics"]
        .update()
        .values(answered_reply_id=reply)
        .where(t["discussion_topics"].c.id == topic)
    )
    _insert(
        connection,
        t["events"],
        community_id=ids["community"],
        organiser_id=ids["user"],
        starts_at=now,
        ends_at=now + dt.timedelta(hours=1),
        local=True,
    )
    _insert(connection, t["memberships"], community_id=ids["community"], user_id=ids["user"])
    return ids


def _snapshot(connection) -> dict:
    inspector = sa.inspect(connection)
    snapshot = {}
    for table in TABLES:
        rows = connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()
        snapshot[table] = {
            "rows": [tuple(row) for row in rows],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)
            ),
            "uniques": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    fk["options"].get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "checks": sorted(c["name"] or "" for c in inspector.get_check_constraints(table)),
        }
    return snapshot


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """``(app, ids, before, after, after_downgrade)`` of one database taken 0028 → 0029."""
    url = _database_url(tmp_path_factory)
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "CELERY_ALWAYS_EAGER": True},
        instance_path=tmp_path_factory.mktemp("migration-instance"),
    )
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            ids = _fill(connection)
        with db.engine.connect() as connection:
            before = _snapshot(connection)
        upgrade(revision=AFTER)
        with db.engine.connect() as connection:
            after = _snapshot(connection)
        yield app, ids, before, after
        db.engine.dispose()


def test_rows_ids_and_schema_are_kept(migrated):
    _app, _ids, before, after = migrated
    for table in TABLES:
        assert after[table] == before[table], table
    assert len(after["comments"]["rows"]) == 2  # not cascaded away with the old ``posts``


def test_ids_are_never_handed_out_again(migrated):
    app, ids, _before, _after = migrated
    with app.app_context(), db.engine.begin() as connection:
        posts = sa.Table("posts", sa.MetaData(), autoload_with=connection)
        new_id = _insert(
            connection, posts, community_id=ids["community"], author_id=ids["user"], title="N"
        )
        dialect = connection.dialect.name
        if dialect == "sqlite":
            sql = connection.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE name = 'posts'")
            ).scalar()
            assert "AUTOINCREMENT" in sql
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            # Past the deleted post and past the id the audit log remembers.
            assert new_id > ids["post3"] + 4
        assert new_id > ids["post3"]
        connection.execute(posts.delete().where(posts.c.id == new_id))


def test_downgrade_keeps_the_data(migrated):
    app, _ids, before, _after = migrated
    with app.app_context():
        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            again = _snapshot(connection)
        upgrade(revision=AFTER)
    for table in TABLES:
        assert again[table]["rows"] == before[table]["rows"], table
        assert again[table]["foreign_keys"] == before[table]["foreign_keys"], table
