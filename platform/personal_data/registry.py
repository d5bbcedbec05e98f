"""Where personal data lives: every model holding a person's data says how to export it and how to
erase or anonymise it.

Each feature package declares its models in a ``personal_data`` module (imported by the app
factory like ``models`` and ``rules``) with :func:`holds_personal_data`.  The export archive
(``maillage.platform.personal_data``) walks :data:`HOLDERS` for the JSON and the files; account
deletion (``maillage.platform.account_deletion``) walks it to erase.  A test fails when a mapped
model with a foreign key to ``users`` is not registered (:func:`unregistered_models`), so a new
table of personal data cannot be forgotten by either.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


class Erasure(enum.StrEnum):
    """What deletion does with what the person wrote in communities."""

    #: Contributions stay where communities need them, signed « Ancien membre ».
    KEEP_CONTENT = "keep_content"
    #: The person chose to delete their contributions too.
    DELETE_CONTENT = "delete_content"


#: ``export(user) -> list[dict]``: JSON-serialisable rows about the person.
Exporter = Callable[[object], list[dict]]
#: ``erase(user, erasure) -> None``: deletes or anonymises the person's rows (no commit).
Eraser = Callable[[object, Erasure], None]
#: ``files(user) -> iterable of (name in the archive, storage key)``: files the person uploaded.
FileLister = Callable[[object], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Holder:
    """How one model's personal data is exported and erased."""

    model: type
    section: str
    export: Exporter
    erase: Eraser
    files: FileLister | None = None
    #: Foreign-key columns to ``users`` that are deliberately not the person's data (e.g.
    #: ``decided_by_id`` on someone else's request); documented, not silently skipped.
    other_people_columns: tuple[str, ...] = field(default=())


#: model -> Holder, in registration order (the archive's sections follow it).
HOLDERS: dict[type, Holder] = {}


def holds_personal_data(
    model: type,
    *,
    section: str,
    export: Exporter,
    erase: Eraser,
    files: FileLister | None = None,
    other_people_columns: Iterable[str] = (),
) -> None:
    """Register ``model``: its rows appear in the archive under ``section`` (a file name without
    extension, e.g. ``"posts"``) and are handled by ``erase`` when the account is deleted."""
    HOLDERS[model] = Holder(model, section, export, erase, files, tuple(other_people_columns))


def unregistered_models() -> list[tuple[str, str]]:
    """``(table, column)`` pairs of mapped models referencing ``users.id`` with no holder."""
    from maillage.platform.extensions import db

    registered = {holder.model.__table__.name for holder in HOLDERS.values()}
    missing = []
    for table in db.metadata.sorted_tables:
        if table.name in registered or table.name.startswith("kombu_"):
            continue
        for column in table.columns:
            if any(fk.column.table.name == "users" for fk in column.foreign_keys):
                missing.append((table.name, column.name))
    return missing
