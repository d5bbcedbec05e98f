"""The database part of a backup: a consistent dump, and its restoration into an empty database.

- SQLite: the online backup API copies the database page by page inside one read transaction,
  so the copy is the database at one instant while the web server and the worker keep writing;
- PostgreSQL: ``pg_dump --format=custom`` of the instance's schema (one repeatable-read
  snapshot); ``pg_restore`` brings it back in a single transaction.  The ``pg_dump`` and
  ``pg_restore`` found on PATH must be of the server's major version (or newer).

A dump restores on the same kind of database only (SQLite to SQLite, PostgreSQL to PostgreSQL).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text

from maillage.platform.extensions import db

#: Tables whose rows make an instance non-empty: every piece of content hangs from one of them.
CONTENT_ROOTS = {
    "users": ("compte", "comptes"),
    "organisations": ("organisation", "organisations"),
    "communities": ("communauté", "communautés"),
}
#: Tables of kombu's SQLAlchemy broker, when it shares the database: messages, not data.
BROKER_TABLES = "kombu_*"


class DatabaseError(Exception):
    """The database cannot be dumped or restored; the message says why, in French."""


@dataclass(frozen=True)
class Dump:
    """What the manifest says of the database dump."""

    kind: str
    member: str
    revision: str | None
    schema: str | None = None

    def as_manifest(self) -> dict:
        return {
            "kind": self.kind,
            "member": self.member,
            "alembic_revision": self.revision,
            "schema": self.schema,
        }


def database_kind() -> str:
    return db.engine.dialect.name


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migration_scripts() -> ScriptDirectory:
    from maillage.platform.app import MIGRATIONS_DIR

    return ScriptDirectory(str(MIGRATIONS_DIR))


def is_known_revision(revision: str | None) -> bool:
    """Whether this version of Maillage knows ``revision`` (an archive from a newer version's
    schema names a revision it has not)."""
    if revision is None:
        return False
    try:
        return migration_scripts().get_revision(revision) is not None
    except CommandError:
        return False


def head_revision() -> str:
    return migration_scripts().get_current_head()


# -- dumping -----------------------------------------------------------------------------------


def dump(folder: Path) -> tuple[Dump, Path]:
    """Dump the database into ``folder``; returns its description and the file."""
    kind, revision = database_kind(), current_revision()
    if kind == "sqlite":
        path = folder / "maillage.sqlite"
        _dump_sqlite(path)
        return Dump(kind, f"database/{path.name}", revision), path
    if kind == "postgresql":
        path = folder / "maillage.pgdump"
        schema = _dump_postgresql(path)
        return Dump(kind, f"database/{path.name}", revision, schema), path
    raise DatabaseError(f"base de données {kind!r} non prise en charge")


def _dump_sqlite(path: Path) -> None:
    raw = db.engine.raw_connection()
    copy = sqlite3.connect(path)
    try:
        raw.driver_connection.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        copy.close()
        raw.close()


def _dump_postgresql(path: Path) -> str:
    schema = current_schema()
    _run(
        "pg_dump",
        "--format=custom",
        f"--schema={schema}",
        f"--exclude-table={schema}.{BROKER_TABLES}",
        "--no-owner",
        "--no-privileges",
        f"--file={path}",
    )
    return schema


def current_schema() -> str | None:
    with db.engine.connect() as connection:
        return connection.scalar(text("SELECT current_schema()"))


def _run(program: str, *args: str, with_database: bool = True) -> str:
    """Run a PostgreSQL client program on the app's database (password through the
    environment, never on the command line); returns its standard output."""
    binary = shutil.which(program)
    if binary is None:
        raise DatabaseError(
            f"{program} est introuvable : installez le client PostgreSQL de la même version"
            " majeure que le serveur (paquet postgresql-client) et vérifiez le PATH."
        )
    url = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string()
    command = [binary, *args, *([f"--dbname={conninfo}"] if with_database else [])]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DatabaseError(f"{program} a échoué : {result.stderr.strip()[-2000:]}")
    return result.stdout


# -- restoring ---------------------------------------------------------------------------------


def content_counts() -> dict[str, int]:
    """Rows of the content roots (``users``, ``organisations``, ``communities``) that exist."""
    tables = set(inspect(db.engine).get_table_names())
    counts = {}
    with db.engine.connect() as connection:
        for table in CONTENT_ROOTS:
            if table in tables:
                counts[table] = connection.scalar(text(f'SELECT count(*) FROM "{table}"'))  # noqa: S608
    return {table: count for table, count in counts.items() if count}


def check_restorable(manifest_database: dict) -> None:
    """Refuse, before anything changes, what cannot be restored here."""
    kind = manifest_database.get("kind")
    if kind != database_kind():
        raise DatabaseError(
            f"l'archive contient une base {kind}, cette instance utilise {database_kind()} :"
            " la restauration d'une sorte de base vers l'autre n'est pas prise en charge."
        )
    revision = manifest_database.get("alembic_revision")
    if not is_known_revision(revision):
        raise DatabaseError(
            f"l'archive vient d'un schéma plus récent (révision {revision!r}) que cette version"
            " de Maillage : mettez Maillage à jour, puis restaurez."
        )
    if kind == "postgresql":
        _check_postgresql_target(manifest_database.get("schema"))
    non_empty = content_counts()
    if non_empty:
        found = ", ".join(
            f"{count} {CONTENT_ROOTS[table][count > 1]}" for table, count in non_empty.items()
        )
        raise DatabaseError(
            f"la base de données cible n'est pas vide ({found}) : une restauration ne remplace"
            " jamais des données existantes. Restaurez dans une base neuve et vide."
        )


def _check_postgresql_target(source_schema: str | None) -> None:
    target = current_schema()
    if target is None:
        raise DatabaseError(
            "le schéma PostgreSQL de la base cible n'existe pas (voir search_path dans"
            " DATABASE_URL) : créez-le, puis restaurez."
        )
    if not source_schema:
        raise DatabaseError("le manifeste ne dit pas de quel schéma PostgreSQL vient l'archive")
    if source_schema != target:
        with db.engine.connect() as connection:
            exists = _schema_exists(connection, source_schema)
        if exists:
            raise DatabaseError(
                f"l'archive vient du schéma « {source_schema} », qui existe déjà dans la base"
                f" cible (dont le schéma courant est « {target} ») : restaurez dans une base où"
                f" il n'existe pas, ou dont le schéma courant s'appelle « {source_schema} »."
            )


def restore(dump_file: Path, manifest_database: dict) -> None:
    """Replace the (empty) database with the dump."""
    db.session.remove()
    db.engine.dispose()
    if manifest_database["kind"] == "sqlite":
        _restore_sqlite(dump_file)
    else:
        _restore_postgresql(dump_file, manifest_database["schema"])
    db.engine.dispose()


def _restore_sqlite(dump_file: Path) -> None:
    source = sqlite3.connect(dump_file)
    raw = db.engine.raw_connection()
    try:
        source.backup(raw.driver_connection)
    except sqlite3.Error as exc:
        raise DatabaseError(f"la copie SQLite a échoué : {exc}") from exc
    finally:
        raw.close()
        source.close()


#: ``pg_restore --list`` lines that create the schema itself (or comment on it).
_SCHEMA_ENTRY = re.compile(r"^\d+; \d+ \d+ (SCHEMA|COMMENT) - (SCHEMA )?")


def _restore_postgresql(dump_file: Path, source_schema: str) -> None:
    """Restore into the current schema.  The dump's objects are qualified by the schema they
    came from: into a schema of the same name they go as they are; into another one, the
    source schema is created, filled, and renamed (it must not exist in this database)."""
    target = current_schema()
    with db.engine.begin() as connection:
        _drop_schema_objects(connection, target)
    keep_schema = source_schema != target
    listing = dump_file.with_suffix(".list")
    entries = _run("pg_restore", "--list", str(dump_file), with_database=False).splitlines()
    listing.write_text(
        "\n".join(line for line in entries if keep_schema or not _SCHEMA_ENTRY.match(line))
    )
    _run(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--use-list={listing}",
        str(dump_file),
    )
    if keep_schema:
        _rename_schema(source_schema, target)


def _schema_exists(connection, schema: str) -> bool:
    return bool(
        connection.scalar(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
        )
    )


def _rename_schema(source: str, target: str) -> None:
    try:
        with db.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{target}"'))
            connection.execute(text(f'ALTER SCHEMA "{source}" RENAME TO "{target}"'))
    except Exception:
        with db.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{source}" CASCADE'))
        raise


#: pg_class kinds dropped before a restore, and how.
_DROPPED_KINDS = {
    "r": "TABLE",
    "p": "TABLE",
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "S": "SEQUENCE",
}


def _drop_schema_objects(connection, schema: str) -> None:
    """Remove what an empty instance's schema holds (tables migrated but without content,
    broker tables…) so that the dump can create its own.  Only ever called once
    :func:`check_restorable` found no content."""
    rows = connection.execute(
        text(
            "SELECT c.relname, c.relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
        ),
        {"schema": schema},
    ).all()
    for name, kind in rows:
        connection.execute(
            text(f'DROP {_DROPPED_KINDS[kind]} IF EXISTS "{schema}"."{name}" CASCADE')
        )
    types = connection.scalars(
        text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = :schema AND t.typtype IN ('e', 'd')"
        ),
        {"schema": schema},
    ).all()
    for name in types:
        connection.execute(text(f'DROP TYPE IF EXISTS "{schema}"."{name}" CASCADE'))
