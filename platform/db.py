"""Column types and helpers shared by every model."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from typing import TypeVar

from flask import g, has_request_context, request
from sqlalchemy import DateTime, TypeDecorator, event
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
T = TypeVar("T")


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so user input matches literally (use with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: The largest value of the databases' INTEGER columns (every id): PostgreSQL refuses a larger
#: one even in a comparison (an error, not "no row").
MAX_DATABASE_INTEGER = 2**31 - 1


def id_from_text(text: str) -> int | None:
    """The id a URL segment names, or None when no row can have it (not digits, too large).
    Routes get this from their ``<int:…>`` converter; code that parses a path itself uses this."""
    if not text.isdecimal() or len(text.lstrip("0")) > len(str(MAX_DATABASE_INTEGER)):
        return None
    value = int(text)
    return value if value <= MAX_DATABASE_INTEGER else None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive UTC
    and given their UTC zone back on the way out.  Naive datetimes are refused on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _connection_record) -> None:
    """Make the embedded SQLite database safe for a web server and a worker side by side.

    Foreign keys are enforced (SQLite ignores them by default), WAL lets readers run while the
    other process writes, and a busy timeout waits for a lock instead of failing at once.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def use_busy_timeout(engine: Engine, seconds: float) -> None:
    """Give ``engine``'s SQLite connections the configured busy timeout (SQLITE_BUSY_TIMEOUT).

    Listeners on one engine run after the class-wide :func:`_sqlite_pragmas`, so this value wins
    over its default for the app's own engine (other engines, such as the embedded broker's,
    keep the default)."""
    if engine.dialect.name != "sqlite":
        return
    milliseconds = max(0, int(seconds * 1000))

    @event.listens_for(engine, "connect")
    def _busy_timeout(dbapi_connection, _connection_record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
        cursor.close()


# -- how a database failed -----------------------------------------------------------------------

#: SQLite result codes (the primary code, low byte of the extended one).
SQLITE_BUSY_CODES = {5, 6}  # SQLITE_BUSY ("database is locked"), SQLITE_LOCKED
#: The database file cannot be used: read-only (8), I/O error (10), corrupt (11), disk full (13),
#: cannot open (14), locking protocol (15), not a database (26).
SQLITE_OUTAGE_CODES = {8, 10, 11, 13, 14, 15, 26}


def database_failure(error: BaseException) -> str | None:
    """``"busy"`` when SQLite stayed locked past its busy timeout, ``"outage"`` when the database
    cannot be reached or used (connection refused or lost, pool exhausted, database file gone),
    else None (a bug, bad data: a plain 500).

    SQLite reports syntax errors and missing tables as OperationalError too, so SQLite errors are
    classified by their result code; any other driver's OperationalError (PostgreSQL: connection
    failures, server shutdown, too many clients…) means the server is not serving us."""
    if isinstance(error, (sqlalchemy_exc.TimeoutError, sqlalchemy_exc.DisconnectionError)):
        return "outage"
    if not isinstance(error, sqlalchemy_exc.DBAPIError):
        return None
    if isinstance(error.orig, sqlite3.Error):
        code = (getattr(error.orig, "sqlite_errorcode", 0) or 0) & 0xFF
        if code in SQLITE_BUSY_CODES:
            return "busy"
        return "outage" if code in SQLITE_OUTAGE_CODES else None
    if error.connection_invalidated or isinstance(
        error, (sqlalchemy_exc.OperationalError, sqlalchemy_exc.InterfaceError)
    ):
        return "outage"
    return None


# -- retrying a request's write once when SQLite is busy -------------------------------------------


@event.listens_for(Session, "after_commit")
def _count_commits(_session: Session) -> None:
    """Count the commits of the current request (a savepoint's release counts too: erring on
    the side of not retrying)."""
    if has_request_context():
        g.database_commits = g.get("database_commits", 0) + 1


def _rewind_uploads() -> None:
    for upload in request.files.values():
        upload.stream.seek(0)


def done_beyond_database() -> None:
    """Say that this request did something a second run cannot repeat outside the database
    (an OIDC code redeemed at the provider: a code is single-use), so a busy SQLite answers
    503 rather than running the step again.  Without a request, nothing to say."""
    if has_request_context():
        g.done_beyond_database = True


def retry_once_if_busy(run: Callable[[], T]) -> T:
    """``run()``, run a second time if SQLite stayed locked (busy) and nothing was committed yet.

    SQLite allows one writer at a time: a write waits up to the busy timeout, then fails with
    "database is locked" — usually because another process (the worker, a CLI command) held a
    long write.  Running the same step again is safe only while it has changed nothing for good:

    - the transaction that failed is rolled back, so the database is as before the attempt;
    - no commit happened during the attempt (counted per request by ``_count_commits``): once a
      commit went through, running the step again could write twice, so it is not retried;
    - side effects beyond the database follow the commit in this code base (e-mails, federation
      and index updates go through the outbox table, live events are published after commit),
      so an attempt that committed nothing sent nothing;
    - the request's form, JSON and uploads are read again from what Werkzeug already parsed
      (uploaded files are rewound).

    The second failure is left to the error handler (503, « La base de données est occupée »).
    Only for SQLite: PostgreSQL locks rows and waits without this failure mode.
    """
    commits_before = g.get("database_commits", 0)
    try:
        return run()
    except sqlalchemy_exc.OperationalError as error:
        if (
            database_failure(error) != "busy"
            or g.get("database_commits", 0) != commits_before
            or g.get("done_beyond_database")
        ):
            raise
        log.warning("SQLite busy on %s %s: retrying once", request.method, request.path)
    from maillage.platform.extensions import db

    db.session.rollback()
    _rewind_uploads()
    return run()
