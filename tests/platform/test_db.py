import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from maillage.communities.community.models import Membership
from maillage.platform.extensions import db


def test_datetimes_come_back_timezone_aware_utc(app, create_user):
    user = create_user()
    db.session.expire_all()
    assert user.created_at.tzinfo is not None
    assert user.created_at.utcoffset() == dt.timedelta(0)


def test_naive_datetimes_are_refused(app, create_user):
    user = create_user()
    user.last_seen_at = dt.datetime(2026, 1, 1)
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


def test_foreign_keys_are_enforced_on_every_database(app, create_community):
    community = create_community()
    db.session.add(Membership(community_id=community.id, user_id=999_999, role="member"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_sqlite_runs_in_wal_mode_for_web_and_worker_side_by_side(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
