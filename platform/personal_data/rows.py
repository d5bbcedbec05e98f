"""What the ``personal_data`` modules share: rows read by chunks and made JSON-able.

An exporter may be called for a person with 10,000 comments: :func:`export_rows` reads them by
keyset pages of :data:`CHUNK` rows (a bounded number of queries, never one per row) from a
statement of plain columns, so no ORM object is built or lazily loaded per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import Select, delete, update
from sqlalchemy.engine import Row

from maillage.platform.extensions import db

CHUNK = 1000


def jsonable(value):
    """ISO 8601 for dates and times; other values as they are."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def as_dict(row: Row) -> dict:
    return {name: jsonable(value) for name, value in row._mapping.items()}


def chunked(statement: Select, key) -> Iterator[Row]:
    """The rows of ``statement`` by ``key`` order, :data:`CHUNK` at a time.

    ``key`` is a unique integer column and must be the statement's first column.
    """
    last = None
    while True:
        page = statement if last is None else statement.where(key > last)
        rows = db.session.execute(page.order_by(key).limit(CHUNK)).all()
        yield from rows
        if len(rows) < CHUNK:
            return
        last = rows[-1][0]


def export_rows(statement: Select, key) -> list[dict]:
    """:func:`chunked` rows as JSON-able dicts (the column labels are the keys)."""
    return [as_dict(row) for row in chunked(statement, key)]


def delete_rows(model, *criteria) -> None:
    db.session.execute(delete(model).where(*criteria).execution_options(synchronize_session=False))


def set_null(model, column, *criteria) -> None:
    """Drop a link to the person (a nullable column) on the rows matching ``criteria``."""
    db.session.execute(
        update(model)
        .where(*criteria)
        .values({column.key: None})
        .execution_options(synchronize_session=False)
    )
