"""A request step retried on a busy SQLite starts again from the browser session it found: a
value it had taken out (an OpenID Connect ``state``) is there again, a message it had flashed is
not flashed twice, and when the retry fails too the 503 leaves the session as it was.  The lock
is real: a second connection on the database file holds a write transaction (BEGIN IMMEDIATE).

Regression (security review): the retry ran on the session the first attempt had changed — the
callback's ``state`` was gone (« Ce retour de connexion n'est plus valable » instead of the 503)
and the first attempt's messages were flashed again.
"""

from __future__ import annotations

import pytest
from flask import flash, get_flashed_messages, redirect, session
from sqlalchemy import select

from maillage.communities.organisations.models import Organisation
from maillage.communities.organisations.operations import create_organisation
from maillage.platform.extensions import db
from tests.conftest import TEST_DATABASE_URL
from tests.platform.errors.test_sqlite_busy import BUSY, Blocker, busy_errors

pytestmark = pytest.mark.skipif(
    TEST_DATABASE_URL.startswith("postgresql"), reason="SQLite's single writer only"
)
GONE = "Ce retour de connexion n'est plus valable"
SAVED = "Organisation enregistrée."


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SQLITE_BUSY_TIMEOUT": 0}  # fail at once: no waiting in tests


@pytest.fixture
def blocker(app):
    held = Blocker(db.engine.url.database)
    yield held
    held.release()
    held.connection.close()


@pytest.fixture
def routes(app):
    """A sign-in-like round trip: ``/start`` keeps a one-time ``state`` in the session; the
    callback takes it out, flashes, then writes (where the lock is met) and commits."""
    runs: list[int] = []

    @app.get("/test/start")
    def start():
        session["state"] = "abc123"
        return "started"

    @app.get("/test/callback")
    def callback():
        runs.append(1)
        if session.pop("state", None) != "abc123":
            return GONE, 400
        flash(SAVED, "success")
        create_organisation("Après l'attente", "state_service")
        db.session.commit()
        return redirect("/test/messages")

    @app.get("/test/flash-then-write")
    def flash_then_write():
        runs.append(1)
        flash(SAVED, "success")
        create_organisation("Après l'attente", "state_service")
        db.session.commit()
        return redirect("/test/messages")

    @app.get("/test/messages")
    def messages():
        return " | ".join(get_flashed_messages()) or "(aucun message)"

    return runs


def _organisations() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(Organisation.name).where(Organisation.name.like("Apr%"))))


def test_the_retry_finds_the_state_and_flashes_once(client, routes, blocker):
    client.get("/test/start")
    blocker.hold()
    with busy_errors(release_after=1, blocker=blocker) as seen:
        response = client.get("/test/callback")
    assert len(seen) == 1
    assert routes == [1, 1]  # run twice: the second run found the state again
    assert response.status_code == 302, response.text
    assert _organisations() == ["Après l'attente"]
    assert client.get("/test/messages").text == SAVED  # once, not twice


def test_a_message_flashed_before_the_lock_is_shown_once(client, routes, blocker):
    blocker.hold()
    with busy_errors(release_after=1, blocker=blocker):
        response = client.get("/test/flash-then-write")
    assert routes == [1, 1]
    assert response.status_code == 302, response.text
    assert client.get("/test/messages").text == SAVED


def test_a_lock_that_lasts_is_a_503_and_the_session_is_kept(client, routes, blocker):
    client.get("/test/start")
    blocker.hold()
    with busy_errors() as seen:
        response = client.get("/test/callback")
    assert len(seen) == 2
    assert response.status_code == 503
    assert BUSY in response.text
    assert GONE not in response.text
    blocker.release()
    assert _organisations() == []
    assert client.get("/test/messages").text == "(aucun message)"  # nothing half-flashed
    response = client.get("/test/callback")  # the person tries again: the state is still there
    assert response.status_code == 302, response.text
    assert _organisations() == ["Après l'attente"]
    assert client.get("/test/messages").text == SAVED
