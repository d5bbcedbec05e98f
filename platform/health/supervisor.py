"""Keep a worker process running: what ``flask maillage serve`` does for its Celery worker.

In production systemd does this job (deploy/maillage-worker.service, ``Restart=always``); on a
development machine ``make run`` has no service manager, so ``serve`` supervises its child: when
the worker exits, for whatever reason (a crash inside Celery, the out-of-memory killer, a
``kill``), it is started again after a pause that doubles while it keeps dying young (1 s, 2 s,
4 s… up to a minute) and starts over once it has stayed up for a minute.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


class WorkerSupervisor:
    """Run ``command`` as a child process in its own process group; restart it when it exits.

    The group matters: Celery's worker forks pool processes (and beat, with ``--beat``); when
    the worker itself is killed they would outlive it, so the whole group is cleaned up before a
    new worker starts.  ``pid_file`` (optional) always names the current worker's process.
    """

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str] | None = None,
        *,
        pid_file: str | os.PathLike | None = None,
        first_delay: float = 1.0,
        max_delay: float = 60.0,
        stable_after: float = 60.0,
    ):
        self.command = list(command)
        self.env = env
        self.pid_file = Path(pid_file) if pid_file else None
        self.first_delay, self.max_delay, self.stable_after = first_delay, max_delay, stable_after
        self.delay = first_delay
        self.restarts = 0
        self.process: subprocess.Popen | None = None
        self._started_at = 0.0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            self._spawn()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the worker (SIGTERM: Celery's warm shutdown, then SIGKILL) and stop watching."""
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is not None and process.poll() is None:
            self._signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(process, signal.SIGKILL)
                process.wait()
        if process is not None:
            self._signal_group(process, signal.SIGKILL)  # pool processes left behind
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)

    def _spawn(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command, no shell
            self.command, env=self.env, start_new_session=True
        )
        self._started_at = time.monotonic()
        if self.pid_file is not None:
            self.pid_file.write_text(f"{self.process.pid}\n")
        log.info("worker started (pid %s)", self.process.pid)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self.process
            code = process.wait()
            self._signal_group(process, signal.SIGKILL)
            if self._stopping.is_set():
                return
            delay = self._next_delay()
            log.warning(
                "worker (pid %s) exited (code %s); restarting in %.0f s", process.pid, code, delay
            )
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()
                self.restarts += 1

    def _next_delay(self) -> float:
        if time.monotonic() - self._started_at >= self.stable_after:
            self.delay = self.first_delay
        delay = self.delay
        self.delay = min(self.delay * 2, self.max_delay)
        return delay

    @staticmethod
    def _signal_group(process: subprocess.Popen, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
