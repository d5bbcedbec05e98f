"""A database or broker that stops answering: a readable 503 page that needs no database, with
Retry-After, JSON on the API, and an app that recovers when the database comes back.

The database is cut off for real: PostgreSQL through a TCP proxy the test closes, SQLite by
removing the folder of the database file."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import text

from maillage.platform.extensions import db
from tests.conftest import login

RETRY_AFTER = 17  # a value of our own, so the header visibly comes from OUTAGE_RETRY_AFTER


@pytest.fixture
def world(create_user, create_community):
    """Data made before the second app exists (on SQLite it works on a copy)."""
    member = create_user("agnes")
    community = create_community("Achats responsables", slug="achats", members=[member])
    return {"member": member, "community": community}


def assert_outage_page(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    body = response.get_data(as_text=True)
    assert "Service momentanément indisponible" in body
    assert "Internal Server Error" not in body
    assert 'lang="fr"' in body
    assert "<h1" in body
    assert "<main" in body


def test_pages_answer_503_while_the_database_is_unreachable(world, cuttable):
    instance = cuttable(OUTAGE_RETRY_AFTER=RETRY_AFTER)
    client = instance.app.test_client()
    assert client.get("/c/achats").status_code == 200  # connections pooled, then lost
    instance.cut()
    assert_outage_page(client.get("/c/achats"))  # a pooled connection that died
    assert_outage_page(client.get("/"))  # a new connection refused
    instance.restore()
    assert client.get("/c/achats").status_code == 200  # nothing left in a failed state


def test_a_signed_in_person_gets_the_page_too(world, cuttable):
    """The old handler looked the current user up again, failed and left Flask's bare 500."""
    instance = cuttable(OUTAGE_RETRY_AFTER=RETRY_AFTER)
    client = instance.app.test_client()
    login(client, world["member"])
    assert client.get("/c/achats").status_code == 200
    instance.cut()
    assert_outage_page(client.get("/c/achats"))
    assert_outage_page(client.get("/account/profile"))
    instance.restore()
    assert "Agnes" in client.get("/c/achats").text


def test_a_form_sent_during_the_outage_gets_the_page(world, cuttable):
    from tests.platform.errors.conftest import form_token

    instance = cuttable(OUTAGE_RETRY_AFTER=RETRY_AFTER)
    client = instance.app.test_client()
    login(client, world["member"])
    token = form_token(client, "/c/achats/posts/new")
    instance.cut()
    response = client.post(
        "/c/achats/posts", data={"csrf_token": token, "title": "Perdu ?", "body": "Texte"}
    )
    assert_outage_page(response)
    assert "vérifiez" in response.text  # the person is told to check it was not recorded


def test_the_api_answers_json(world, cuttable):
    instance = cuttable(OUTAGE_RETRY_AFTER=RETRY_AFTER)
    client = instance.app.test_client()
    assert client.get("/api/v1/communities").status_code == 200
    instance.cut()
    response = client.get("/api/v1/communities")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    error = response.get_json()["error"]
    assert error["status"] == 503
    assert error["title"] == "Service indisponible"
    assert "base de données" in error["message"]


def test_a_pool_that_times_out_is_an_outage(world, cuttable):
    """Every connection taken (one here, held by the test): the request waits, then gets a 503."""
    instance = cuttable(
        OUTAGE_RETRY_AFTER=RETRY_AFTER,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2},
    )
    client = instance.app.test_client()
    with instance.app.app_context():
        held = db.engine.connect()
    try:
        assert_outage_page(client.get("/c/achats"))
    finally:
        held.close()
    assert client.get("/c/achats").status_code == 200


def test_the_error_page_rolls_back_before_rendering(app, client, create_user):
    """A failed statement leaves PostgreSQL's transaction aborted: a 500 page that reads the
    current user without rolling back failed in turn (Flask's bare "Internal Server Error")."""
    login(client, create_user("brigitte"))

    @app.route("/bad-statement")
    def bad_statement():
        db.session.execute(text("SELECT * FROM no_such_table"))

    response = client.get("/bad-statement")
    assert response.status_code == 500
    assert "Erreur interne" in response.text
    assert "Brigitte" in response.text  # the full page, signed in, after the rollback


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_broker_outage_while_queueing_work_is_a_503(world, cuttable):
    """Most work goes through the outbox and survives a broker outage; a request that must
    queue work itself, with the broker down, gets the outage page rather than a 500."""
    from maillage.platform.outbox.tasks import process_outbox

    instance = cuttable(
        OUTAGE_RETRY_AFTER=RETRY_AFTER,
        CELERY_ALWAYS_EAGER=False,
        CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0",
    )

    @instance.app.route("/queue-now")
    def queue_now():
        process_outbox.delay()
        return "queued"

    response = instance.app.test_client().get("/queue-now")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert "file de traitement" in response.text
