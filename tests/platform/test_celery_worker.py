"""A real Celery worker process, on the embedded SQLite broker or on Redis, drains the outbox."""

import os
import subprocess
import sys
import time

import pytest

from maillage.platform import mail
from maillage.platform.extensions import db
from tests.conftest import TEST_BROKER_URL


@pytest.fixture
def broker_url(tmp_path):
    return TEST_BROKER_URL or f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"


@pytest.fixture
def app_config(app_config, broker_url):
    return {**app_config, "CELERY_ALWAYS_EAGER": False, "CELERY_BROKER_URL": broker_url}


@pytest.fixture
def worker(app, broker_url, tmp_path):
    env = dict(
        os.environ,
        MAILLAGE_INSTANCE_PATH=str(tmp_path / "worker-instance"),
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        CELERY_BROKER_URL=broker_url,
        MAILLAGE_MAIL_FOLDER=app.config["MAIL_FOLDER"],
        MAILLAGE_SEARCH_INDEX_PATH=app.config["SEARCH_INDEX_PATH"],
        MAILLAGE_LOG_LEVEL="WARNING",
        MAILLAGE_PASSWORD_HASH_TIME_COST="1",
        MAILLAGE_PASSWORD_HASH_MEMORY_COST="1024",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "maillage.platform.worker:celery",
            "worker",
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output)


def test_worker_delivers_mail_queued_by_a_commit(app, worker, outbox_mail):
    mail.send("agent@example.gouv.fr", "Par le vrai broker", "Texte")
    db.session.commit()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not outbox_mail():
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.3)
    assert [m["Subject"] for m in outbox_mail()] == ["Par le vrai broker"]
