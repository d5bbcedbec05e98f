"""SQLite allows one writer: a write that finds the database locked past the busy timeout
(SQLITE_BUSY_TIMEOUT) is retried once when nothing was committed yet, then answered with a 503
« La base de données est occupée » (it was a 500).  The lock is real: a second connection on the
same file holds a write transaction (BEGIN IMMEDIATE)."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from sqlalchemy import event, text

from maillage.auth.tokens.operations import create_token
from maillage.communities.organisations.models import Organisation
from maillage.communities.posts.models import Post
from maillage.platform.extensions import db
from tests.conftest import TEST_DATABASE_URL, login
from tests.platform.errors.conftest import form_token

pytestmark = pytest.mark.skipif(
    TEST_DATABASE_URL.startswith("postgresql"), reason="SQLite's single writer only"
)
BUSY = "La base de données est occupée, réessayez dans un instant."


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SQLITE_BUSY_TIMEOUT": 0}  # fail at once: no waiting in tests


class Blocker:
    """A second connection to the database file that can hold the write lock."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=0)

    def hold(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")


@pytest.fixture
def blocker(app):
    held = Blocker(db.engine.url.database)
    yield held
    held.release()
    held.connection.close()


@contextlib.contextmanager
def busy_errors(release_after: int | None = None, blocker: Blocker | None = None):
    """Record the "database is locked" errors the app's engine meets; release the lock after
    ``release_after`` of them (the lock holder finishing its work)."""
    seen: list[str] = []

    def record(context):
        original = context.original_exception
        if isinstance(original, sqlite3.OperationalError) and original.sqlite_errorcode & 0xFF == 5:
            seen.append(str(original))
            if release_after is not None and len(seen) == release_after:
                blocker.release()

    event.listen(db.engine, "handle_error", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "handle_error", record)


@pytest.fixture
def member(create_user, create_community):
    person = create_user("dominique")
    create_community("Achats responsables", slug="achats", members=[person])
    return person


def posts() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(db.select(Post.title)))


def send_post(client, token: str, title: str = "Après l'attente"):
    return client.post("/c/achats/posts", data={"csrf_token": token, "title": title, "body": ""})


def test_the_busy_timeout_comes_from_the_setting(app):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 0


def test_a_write_that_meets_a_lock_once_is_retried(client, member, blocker):
    login(client, member)
    token = form_token(client, "/c/achats/posts/new")
    blocker.hold()
    with busy_errors(release_after=1, blocker=blocker) as seen:
        response = send_post(client, token)
    assert len(seen) == 1
    assert response.status_code == 302
    assert posts() == ["Après l'attente"]  # once


def test_a_lock_that_lasts_is_a_clear_503(client, member, blocker):
    login(client, member)
    token = form_token(client, "/c/achats/posts/new")
    blocker.hold()
    with busy_errors() as seen:
        response = send_post(client, token)
    assert len(seen) == 2  # the write and its one retry
    assert response.status_code == 503
    assert BUSY in response.text
    assert response.headers["Retry-After"] == "1"
    blocker.release()
    assert posts() == []
    assert send_post(client, token).status_code == 302  # the session was rolled back


def test_the_api_gets_json(client, member, blocker):
    _token, secret = create_token(member, "Tests")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/communities", headers=headers).status_code == 200  # last use
    blocker.hold()
    response = client.post(
        "/api/v1/communities/achats/posts", json={"title": "Par l'API"}, headers=headers
    )
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1  # (the rate limiter may say later)
    assert response.get_json()["error"]["message"] == BUSY
    assert posts() == []
    with busy_errors(release_after=1, blocker=blocker):
        response = client.post(
            "/api/v1/communities/achats/posts", json={"title": "Par l'API"}, headers=headers
        )
    assert response.status_code == 201
    assert posts() == ["Par l'API"]


def test_a_request_that_already_committed_is_not_run_again(app, client, blocker):
    """Running it again would write its first part twice: straight to the 503."""
    from maillage.communities.organisations.operations import create_organisation

    runs: list[int] = []

    @app.route("/two-commits")
    def two_commits():
        runs.append(1)
        create_organisation("Première", "state_service")
        db.session.commit()
        blocker.hold()  # someone else starts writing between our two commits
        create_organisation("Seconde", "state_service")
        db.session.commit()
        return "done"

    response = client.get("/two-commits")
    assert response.status_code == 503
    assert runs == [1]
    blocker.release()
    db.session.rollback()
    names = set(db.session.scalars(db.select(Organisation.name)))
    assert "Première" in names
    assert "Seconde" not in names


def test_a_request_that_acted_outside_the_database_is_not_run_again(app, client, blocker):
    """An OIDC callback that redeemed its single-use code at the provider: a second run would
    be refused there (« Connexion refusée ») instead of the clear 503."""
    from maillage.communities.organisations.operations import create_organisation
    from maillage.platform.db import done_beyond_database

    runs: list[int] = []

    @app.route("/redeemed")
    def redeemed():
        runs.append(1)
        done_beyond_database()
        blocker.hold()
        create_organisation("Après l'échange", "state_service")
        db.session.commit()
        return "done"

    response = client.get("/redeemed")
    assert response.status_code == 503
    assert BUSY in response.text
    assert runs == [1]
