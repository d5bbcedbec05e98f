"""Fixtures for the error-path tests: a TCP proxy that can cut the database off for real, an app
wired through it, and small helpers for forms behind CSRF."""

from __future__ import annotations

import contextlib
import re
import socket
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import make_url

from maillage.platform.app import create_app
from maillage.platform.extensions import db
from tests.conftest import IsolatedClient


def form_token(client, path: str = "/") -> str:
    """The CSRF token of a page (the session keeps one token for every form)."""
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a real server until :meth:`cut`, which closes the listening
    socket and every open connection: clients then meet a refused connection, as when the
    database server is down.  :meth:`restore` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            self._close(listener)
        with self._lock:
            opened, self._sockets = self._sockets, set()
        for sock in opened:
            self._close(sock)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with self._lock:
                known = sock in self._sockets
                self._sockets.discard(sock)
            if known:
                self._close(sock)


class Cuttable:
    """A second app on the test database that the test can cut off from it and reconnect.

    PostgreSQL: the app reaches the server through a :class:`TcpProxy`.  SQLite: the app uses a
    copy of the database in a folder of its own, which :meth:`cut` moves away (and
    :meth:`restore` puts back, with what the app wrote before the cut: a session record)."""

    def __init__(self, app_config: dict, database_url: str, folder: Path, overrides: dict):
        self.folder = folder
        url = make_url(database_url)
        if url.get_backend_name() == "postgresql":
            self.proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
            uri = url.set(host="127.0.0.1", port=self.proxy.port)
            uri = uri.render_as_string(hide_password=False)
        else:
            self.proxy = None
            self.source = Path(url.database)
            self.copy = folder / "data" / "db.sqlite"
            self.aside = folder / "data-cut-off"
            self._copy_database()
            uri = f"sqlite:///{self.copy}"
        config = {**app_config, "SQLALCHEMY_DATABASE_URI": uri, **overrides}
        self.app = create_app(config, instance_path=folder / "instance")
        self.app.test_client_class = IsolatedClient

    def _copy_database(self) -> None:
        self.copy.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.source) as source, sqlite3.connect(self.copy) as target:
            source.backup(target)
        source.close()
        target.close()

    def cut(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
        else:
            with self.app.app_context():
                db.engine.dispose()  # open files would still reach the moved database
            self.copy.parent.rename(self.aside)

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
        else:
            self.aside.rename(self.copy.parent)

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()
        if self.proxy is not None:
            self.proxy.cut()


@pytest.fixture
def cuttable(app, app_config, database_url, tmp_path):
    """``cuttable(**overrides)``: a second app on the same data that ``.cut()`` disconnects.

    Data is made through the ``app`` fixture (which empties the database afterwards); on SQLite,
    make it before calling the factory (the second app works on a copy)."""
    made: list[Cuttable] = []

    def make(**overrides) -> Cuttable:
        made.append(Cuttable(app_config, database_url, tmp_path / f"cut{len(made)}", overrides))
        return made[-1]

    yield make
    for each in made:
        each.close()
