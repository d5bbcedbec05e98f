"""Real servers for the worker tests: a Redis server the tests stop and start, an SMTP server
that records (and can hold) what it receives, and Celery worker processes the tests can kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from maillage.platform.cli import WORKER_OPTIONS
from maillage.platform.extensions import db

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 60, message: str = "", interval: float = 0.2):
    """Poll ``predicate`` until it is true (returns its value); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"still waiting after {timeout} s: {message or predicate}")


# -- Redis ------------------------------------------------------------------------------------


class RedisServer:
    """A redis-server on a free loopback port, without persistence, stopped and started at will
    (always on the same port, as a restarted production Redis)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not os.access(REDIS_SERVER, os.X_OK):
            pytest.fail("redis-server is missing: scripts/install-system-packages.sh installs it")
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for(lambda: self.command(b"PING") == b"+PONG", 20, "redis-server to answer")

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)
            self.process.wait(timeout=20)

    def command(self, *words: bytes) -> bytes | None:
        """One inline command, its first reply line (None while the server is down)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b" ".join(words) + b"\r\n")
                return sock.recv(1024).split(b"\r\n")[0]
        except OSError:
            return None


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_broker(redis_server):
    """The module's Redis, running and empty (a previous test may have stopped it)."""
    if redis_server.process.poll() is not None:
        redis_server.start()
    redis_server.command(b"FLUSHALL")
    return redis_server


# -- SMTP ---------------------------------------------------------------------------------------


class RecordingHandler:
    """An aiosmtpd handler that keeps the Message-ID of each message it accepts.

    ``hold("rcpt", n)`` keeps the n-th transaction waiting at RCPT (the message is not accepted
    yet); ``hold("data", n)`` accepts the n-th message (it counts as received, as a real server
    has queued it once the final dot is read) and keeps its reply waiting.  ``holding`` is set
    while a reply is held; ``release()`` lets it go.
    """

    def __init__(self):
        self.received: list[str] = []
        self.transactions = 0
        self.delay = 0.0
        self._hold: tuple[str, int] | None = None
        self.holding = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()

    def hold(self, step: str, number: int) -> None:
        self._hold, self._released = (step, number), threading.Event()
        self.holding.clear()

    def release(self) -> None:
        self._hold = None
        self._released.set()

    async def _maybe_hold(self, step: str, number: int) -> None:
        if self._hold == (step, number):
            self.holding.set()
            while not self._released.is_set():
                await asyncio.sleep(0.05)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            self.transactions += 1
            number = self.transactions
        await self._maybe_hold("rcpt", number)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message_id = message_from_bytes(envelope.content)["Message-ID"]
        with self._lock:
            self.received.append(message_id)
            number = len(self.received)
        await self._maybe_hold("data", number)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    handler.release()
    controller.stop()


# -- worker processes ---------------------------------------------------------------------------


class WorkerProcess:
    """``celery worker`` for the test's app (same database, broker and mail settings), in its
    own process group so that a kill takes its pool processes (and beat) with it."""

    def __init__(self, app, folder: Path, *, beat: bool, pool: str, settings: dict[str, str]):
        self.log_path = folder / "worker.log"
        command = [sys.executable, "-m", "celery", "-A", "maillage.platform.worker:celery"]
        command += ["worker", "--pool", pool, "--concurrency", "1", "--loglevel", "INFO"]
        command += WORKER_OPTIONS  # as `flask maillage serve` and the systemd unit run it
        if beat:
            command += ["--beat", "--schedule", str(folder / "celerybeat-schedule")]
        env = dict(os.environ, **worker_environment(app, folder), **settings)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as the out-of-memory killer or a power cut would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        self.kill()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def worker_environment(app, folder: Path) -> dict[str, str]:
    config = app.config
    return {
        "MAILLAGE_INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "CELERY_BROKER_URL": config["CELERY_BROKER_URL"],
        "MAILLAGE_SECRET_KEY": config["SECRET_KEY"],
        "MAILLAGE_MAIL_FOLDER": config["MAIL_FOLDER"],
        "MAILLAGE_MAIL_SERVER": config["MAIL_SERVER"],
        "MAILLAGE_MAIL_PORT": str(config["MAIL_PORT"]),
        "MAILLAGE_SEARCH_INDEX_PATH": config["SEARCH_INDEX_PATH"],
        "MAILLAGE_OUTBOX_LEASE_SECONDS": str(config["OUTBOX_LEASE_SECONDS"]),
        "MAILLAGE_LOG_LEVEL": "WARNING",
        "MAILLAGE_LOG_FORMAT": "text",
        "MAILLAGE_PASSWORD_HASH_TIME_COST": "1",
        "MAILLAGE_PASSWORD_HASH_MEMORY_COST": "1024",
    }


@pytest.fixture
def start_worker(app, tmp_path):
    """``start_worker(beat=False, pool="solo", **settings)``: a worker process, stopped (and its
    log printed) at the end of the test."""
    workers: list[WorkerProcess] = []

    def start(*, beat: bool = False, pool: str = "solo", **settings: str) -> WorkerProcess:
        folder = tmp_path / f"worker-{len(workers) + 1}"
        folder.mkdir()
        worker = WorkerProcess(app, folder, beat=beat, pool=pool, settings=settings)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
        print(f"--- {worker.log_path}\n{worker.output()[-5000:]}")


@pytest.fixture
def heartbeats():
    """``heartbeats()``: (how many rows, the newest) in the worker_heartbeats table."""
    from maillage.platform.health.models import WorkerHeartbeat

    def read():
        db.session.rollback()  # see what the worker committed since
        return db.session.execute(select(func.count(), func.max(WorkerHeartbeat.seen_at))).one()

    return read
