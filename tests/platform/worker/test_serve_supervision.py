"""``flask maillage serve`` (what ``make run`` starts) restarts a worker that died."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from maillage.platform import mail
from maillage.platform.extensions import db
from maillage.platform.health.supervisor import WorkerSupervisor

from .conftest import free_port, wait_for, worker_environment


@pytest.fixture
def app_config(app_config, tmp_path):
    """The embedded default broker (kombu's SQLite transport), shared with the serve process."""
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    return {**app_config, "CELERY_ALWAYS_EAGER": False, "CELERY_BROKER_URL": broker}


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def serve(app, tmp_path):
    port = free_port()
    env = dict(os.environ, **worker_environment(app, tmp_path / "serve"))
    env.update(FLASK_APP="maillage.platform.wsgi", MAILLAGE_LOG_LEVEL="INFO")
    log_path = tmp_path / "serve.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "maillage", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.base_url = f"http://127.0.0.1:{port}"
    process.pid_file = tmp_path / "serve" / "instance" / "worker.pid"
    process.log = lambda: log_path.read_text(errors="replace")
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    print(process.log()[-5000:])


def worker_pid(serve) -> int | None:
    try:
        return int(serve.pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return None


def test_serve_restarts_a_worker_that_died(app, serve, heartbeats, outbox_mail):
    first = wait_for(lambda: worker_pid(serve), 60, "serve to start its worker")
    wait_for(lambda: heartbeats()[0], 60, "the worker's first heartbeat")
    os.kill(first, signal.SIGKILL)  # the out-of-memory killer, a crash inside Celery…

    second = wait_for(lambda: (worker_pid(serve) or first) != first and worker_pid(serve), 60)
    assert running(second)
    assert not running(first)
    mail.send("agent@example.gouv.fr", "Après le redémarrage", "Texte")
    db.session.commit()  # queued through the broker: only a live worker sends it
    wait_for(outbox_mail, 60, "the restarted worker to send the e-mail")
    assert [message["Subject"] for message in outbox_mail()] == ["Après le redémarrage"]
    health = requests.get(f"{serve.base_url}/health", timeout=10)
    assert health.json()["worker"]["status"] == "ok", health.text
    assert "restarting in 1 s" in serve.log()

    serve.send_signal(signal.SIGINT)  # Ctrl-C stops the web server and its worker
    serve.wait(timeout=30)
    assert not running(second)
    assert not serve.pid_file.exists()


def test_the_pause_before_a_restart_doubles_while_the_worker_keeps_dying():
    supervisor = WorkerSupervisor(["true"], first_delay=1, max_delay=8, stable_after=3600)
    supervisor._started_at = time.monotonic()
    assert [supervisor._next_delay() for _ in range(5)] == [1, 2, 4, 8, 8]
    supervisor._started_at -= 7200  # it had stayed up for a while: start over
    assert supervisor._next_delay() == 1


def test_a_worker_that_keeps_exiting_is_started_again_until_stopped(tmp_path):
    exits = tmp_path / "exits"
    command = [sys.executable, "-c", f"open({str(exits)!r}, 'a').write('x'); raise SystemExit(3)"]
    supervisor = WorkerSupervisor(command, first_delay=0.01, max_delay=0.05)
    supervisor.start()
    try:
        wait_for(lambda: supervisor.restarts >= 3, 30, "three restarts")
    finally:
        supervisor.stop()
    count = len(exits.read_text())
    assert count >= 3
    time.sleep(0.2)
    assert len(exits.read_text()) == count  # stopped: no more restarts


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_serve_terminated_takes_its_worker_along(serve, signum):
    """``kill`` or a closed terminal ends serve as Ctrl-C does: its worker (in a session of its
    own) does not outlive it."""
    worker = wait_for(lambda: worker_pid(serve), 60, "serve to start its worker")
    serve.send_signal(signum)
    serve.wait(timeout=30)
    wait_for(lambda: not running(worker), 30, "the worker to stop with serve")
    assert not serve.pid_file.exists()
