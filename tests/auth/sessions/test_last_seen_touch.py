"""« Last seen » is stored in a transaction of its own, after the view: what the view left
uncommitted — a refused form that had flushed its rows — is never committed on its behalf, and a
busy SQLite does not turn the page into an error.

Regression (security review): the touch committed the request's own session, so rows a view had
flushed before answering 400 were committed with it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from flask_login import current_user, login_required
from sqlalchemy import select, text, update

from maillage.auth.sessions.models import SessionRecord
from maillage.communities.organisations.models import Organisation
from maillage.communities.organisations.operations import create_organisation
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.auth.sessions.conftest import form_token
from tests.conftest import TEST_DATABASE_URL

REFUSED = "Refusé"


@pytest.fixture
def app_config(app_config):
    # A write that meets a lock fails at once (SQLite): no waiting in tests.
    return {**app_config, "SQLITE_BUSY_TIMEOUT": 0}


@pytest.fixture
def refusing_routes(app):
    """Views that write, then refuse (400) without rolling back: one flushes an ORM object, the
    other writes with a plain SQL statement the ORM does not see."""

    @app.route("/test/flush-then-refuse", methods=["POST"])
    @login_required
    def flush_then_refuse():
        create_organisation("Écrite puis refusée", "state_service")
        db.session.flush()
        return REFUSED, 400

    @app.route("/test/sql-then-refuse", methods=["POST"])
    @login_required
    def sql_then_refuse():
        db.session.connection().execute(
            text("UPDATE users SET job_title = 'Écrit puis refusé' WHERE id = :id"),
            {"id": current_user.id},
        )
        return REFUSED, 400


def _make_touch_due(user) -> dt.datetime:
    """Move the person's session records' « last seen » 90 s back (over the minute)."""
    before = utcnow() - dt.timedelta(seconds=90)
    db.session.execute(
        update(SessionRecord).where(SessionRecord.user_id == user.id).values(last_seen_at=before)
    )
    db.session.commit()
    return _last_seen(user)


def _last_seen(user) -> dt.datetime:
    db.session.expire_all()
    return db.session.scalar(
        select(SessionRecord.last_seen_at).where(SessionRecord.user_id == user.id)
    )


def _organisations() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Organisation.name)))


def test_rows_flushed_by_a_refused_request_are_not_committed(
    refusing_routes, browser_client, create_user
):
    user = create_user("dominique")
    browser = browser_client("dominique")
    known = _organisations()
    token = form_token(browser, "/account")
    _make_touch_due(user)
    response = browser.post("/test/flush-then-refuse", data={"csrf_token": token})
    assert response.text == REFUSED
    assert response.status_code == 400
    assert _organisations() == known


def test_a_write_the_orm_did_not_see_is_not_committed_when_the_touch_runs(
    refusing_routes, browser_client, create_user
):
    """The touch runs (nothing tells it the view wrote) in its own transaction: on PostgreSQL
    it stores « last seen »; on SQLite it meets the request's own write lock and gives up
    quietly.  Either way the view's write is not committed and the page stays a 400."""
    user = create_user("dominique")
    browser = browser_client("dominique")
    token = form_token(browser, "/account")
    before = _make_touch_due(user)
    response = browser.post("/test/sql-then-refuse", data={"csrf_token": token})
    assert response.text == REFUSED
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(type(user), user.id).job_title == ""
    if TEST_DATABASE_URL.startswith("postgresql"):
        assert _last_seen(user) > before
    else:
        assert _last_seen(user) == before


def test_a_normal_page_still_stores_last_seen(browser_client, create_user):
    user = create_user("dominique")
    browser = browser_client("dominique")
    before = _make_touch_due(user)
    assert browser.get("/account").status_code == 200
    assert _last_seen(user) > before


@pytest.mark.skipif(TEST_DATABASE_URL.startswith("postgresql"), reason="SQLite's single writer")
def test_a_busy_sqlite_during_the_touch_keeps_the_page(app, browser_client, create_user):
    """Another process holds the write lock: the page is served (not a 503), « last seen »
    waits for the next request."""
    user = create_user("dominique")
    browser = browser_client("dominique")
    before = _make_touch_due(user)
    blocker = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=0)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        assert browser.get("/account").status_code == 200
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()
    assert _last_seen(user) == before
    assert browser.get("/account").status_code == 200
    assert _last_seen(user) > before
