"""Back up an instance into one archive, and restore an archive on an empty instance.

**Consistency.**  The database dump is one snapshot (see :mod:`.database`).  Stored files are
immutable (a change stores a new key, see platform/storage.py), so the file store is copied
around the snapshot: every file present before it, then the files that appeared while it was
taken.  A file the snapshot references is thus in the archive unless it was deleted in between
(a deletion committed after the snapshot — the next backup has the database agreeing).  Files
the snapshot does not reference yet only cost space.

**Restore** checks everything before changing anything: the manifest, the schema revision (an
archive from a newer schema is refused), that the instance is empty (no account, organisation
nor community; no stored file), and every member's size and SHA-256 while extracting to a
staging folder.  Then the database is replaced, migrated forward when the archive is older, the
files moved into place, pending work settled (:mod:`.pending`) and the search index rebuilt.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from maillage.platform.backup import configuration, database, pending
from maillage.platform.backup.archive import (
    FORMAT,
    FORMAT_VERSION,
    ArchiveError,
    ArchiveWriter,
    extract_verified,
    read_manifest,
)
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.storage import UnknownKey, get_storage


class BackupError(Exception):
    """A backup or a restore refused or failed; the message says why, in French."""


# -- backup ------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int
    files: int
    manifest: dict


def backup(output: str | os.PathLike | None = None, with_secrets: bool = False) -> BackupResult:
    """Write the archive (to ``output``, a file or a folder; by default ``BACKUP_PATH``)."""
    path = archive_path(output)
    staging = _staging_folder(path.parent)
    try:
        writer = ArchiveWriter(path)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"impossible d'écrire l'archive {path} ({exc})") from exc
    try:
        copied = _add_files(writer, set())
        created_at = utcnow()
        dump, dump_file = database.dump(staging)
        writer.add_file(dump.member, dump_file)
        dump_file.unlink()
        copied = _add_files(writer, copied)
        _add_configuration(writer, with_secrets, created_at)
        manifest = _manifest(created_at, dump, with_secrets, len(copied))
        writer.close(manifest)
    except (database.DatabaseError, OSError) as exc:
        writer.abort()
        raise BackupError(str(exc)) from exc
    except BaseException:
        writer.abort()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupResult(path, path.stat().st_size, len(copied), manifest)


def _staging_folder(parent: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=".backup-", dir=parent))
    except OSError as exc:
        raise BackupError(f"impossible d'écrire dans {parent} ({exc})") from exc


def archive_path(output: str | os.PathLike | None) -> Path:
    """The archive's file: ``output`` itself, or a new name in ``output`` (a folder) or in
    ``BACKUP_PATH`` (created, owner only)."""
    if output is not None and not Path(output).is_dir():
        path = Path(output).resolve()
        if not path.parent.is_dir():
            raise BackupError(f"le dossier {path.parent} n'existe pas")
        return path
    folder = Path(output or current_app.config["BACKUP_PATH"]).resolve()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"impossible de créer le dossier {folder} ({exc})") from exc
    slug = re.sub(r"[^a-z0-9]+", "-", current_app.config["INSTANCE_NAME"].lower()).strip("-")
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return folder / f"{slug or 'maillage'}-{stamp}.tar"


def _add_files(writer: ArchiveWriter, already: set[str]) -> set[str]:
    """Add the stored files not in ``already``; returns every key copied so far."""
    storage = get_storage()
    copied = set(already)
    for key in storage.keys():  # noqa: SIM118 - LocalStorage.keys() walks the folder
        if key in copied:
            continue
        try:
            writer.add_file(f"files/{key[:2]}/{key}", storage.local_path(key))
        except (UnknownKey, FileNotFoundError):
            continue  # deleted meanwhile: not referenced by the snapshot taken after
        copied.add(key)
    return copied


def _add_configuration(writer: ArchiveWriter, with_secrets: bool, created_at) -> None:
    instance = Path(current_app.instance_path)
    config_file = instance / "config.py"
    if config_file.is_file():
        if with_secrets:
            writer.add_file("config/config.py", config_file)
        else:
            header = (
                f"instance/config.py de « {current_app.config['INSTANCE_NAME']} », sauvegardé"
                f" le {created_at:%Y-%m-%d %H:%M} UTC.\nLes secrets en ont été retirés :"
                " redéfinissez-les avant de démarrer l'instance avec ce fichier."
            )
            text = configuration.sanitized_config_py(config_file, header)
            writer.add_bytes("config/config.py", text.encode())
    environment = configuration.environment_file(with_secrets)
    writer.add_bytes("config/environment.env", environment.encode())
    key_file = instance / configuration.SECRET_KEY_FILE
    if with_secrets and key_file.is_file():
        writer.add_file("config/secret_key", key_file)


def _manifest(created_at: dt.datetime, dump: database.Dump, with_secrets: bool, files: int):
    from maillage.platform.outbox.models import OutboxItem

    pending_work = dict(
        db.session.execute(
            select(OutboxItem.kind, func.count())
            .where(OutboxItem.status == pending.PENDING)
            .group_by(OutboxItem.kind)
        ).all()
    )
    db.session.rollback()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created_at.isoformat(timespec="seconds"),
        "instance_name": current_app.config["INSTANCE_NAME"],
        "base_url": current_app.config["BASE_URL"],
        "maillage_version": _version(),
        "database": dump.as_manifest(),
        "with_secrets": with_secrets,
        "stored_files": files,
        "pending_outbox": pending_work,
    }


def _version() -> str:
    try:
        return importlib.metadata.version("maillage")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# -- restore -----------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict
    migrated_from: str | None
    indexed: int
    settled: dict[str, int]
    notes: list[str] = field(default_factory=list)


def restore(archive: str | os.PathLike) -> RestoreResult:
    """Restore ``archive`` on this instance, which must be empty."""
    path = Path(archive).resolve()
    try:
        manifest = read_manifest(path)
        database.check_restorable(manifest["database"])
    except (ArchiveError, database.DatabaseError) as exc:
        raise BackupError(str(exc)) from exc
    files_root = _empty_files_root()
    staging = files_root.parent / f".restore-{secrets.token_hex(8)}"
    staging.mkdir(mode=0o700)
    try:
        return _restore_staged(path, manifest, files_root, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _empty_files_root() -> Path:
    storage = get_storage()
    if next(storage.keys(), None) is not None:
        raise BackupError(
            f"le dossier des fichiers ({storage.root}) n'est pas vide : une restauration ne"
            " remplace jamais des fichiers existants."
        )
    storage.root.parent.mkdir(parents=True, exist_ok=True)
    return storage.root


def _restore_staged(path: Path, manifest: dict, files_root: Path, staging: Path):
    try:
        extract_verified(path, manifest, lambda name: staging / name)
    except ArchiveError as exc:
        raise BackupError(str(exc)) from exc
    source = manifest["database"]
    try:
        database.restore(staging / source["member"], source)
    except database.DatabaseError as exc:
        raise BackupError(str(exc)) from exc
    try:
        return _finish_restore(path, manifest, files_root, staging)
    except Exception as exc:
        db.session.rollback()
        raise BackupError(
            f"restauration interrompue après la copie de la base de données ({exc}). L'instance"
            " n'est plus vide : corrigez la cause, videz la base et le dossier des fichiers,"
            " puis recommencez."
        ) from exc


def _finish_restore(path: Path, manifest: dict, files_root: Path, staging: Path):
    migrated_from = _migrate_forward(manifest["database"]["alembic_revision"])
    _move_files(staging / "files", files_root)
    settled = pending.settle(manifest["created_at"])
    _record(path, manifest, migrated_from, settled)
    db.session.commit()
    from maillage.platform.search.indexing import reindex_all

    indexed = reindex_all()
    notes = _restore_configuration(staging / "config", manifest)
    return RestoreResult(manifest, migrated_from, indexed, settled, notes)


def _migrate_forward(revision: str) -> str | None:
    """Upgrade an archive of an older schema to this version's; returns the old revision."""
    if revision == database.head_revision():
        return None
    from flask_migrate import upgrade

    upgrade()
    db.engine.dispose()
    return revision


def _move_files(source: Path, files_root: Path) -> None:
    if not source.is_dir():
        return
    files_root.mkdir(parents=True, exist_ok=True)
    for folder in sorted(source.iterdir()):
        target = files_root / folder.name
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        os.replace(folder, target)


def _record(path: Path, manifest: dict, migrated_from: str | None, settled: dict) -> None:
    from maillage.platform.audit.operations import record

    record(
        None,
        "backup.restored",
        archive=path.name,
        archive_created_at=manifest["created_at"],
        instance_name=manifest.get("instance_name"),
        migrated_from=migrated_from,
        **{f"{name}_count": count for name, count in settled.items()},
    )


def _restore_configuration(folder: Path, manifest: dict) -> list[str]:
    """Put the archived configuration beside the instance's own, never in its place (it names
    the old database and paths); install the archived secret key, if any."""
    notes = []
    instance = Path(current_app.instance_path)
    if manifest.get("base_url") and manifest["base_url"] != current_app.config["BASE_URL"]:
        notes.append(
            f"Attention : l'archive vient de {manifest['base_url']}, cette instance est configurée"
            f" pour {current_app.config['BASE_URL']}. Les identifiants ActivityPub enregistrés"
            " portent l'ancienne adresse : gardez la même MAILLAGE_BASE_URL."
        )
    restored = instance / "restored-config"
    for name in ("config.py", "environment.env"):
        if (folder / name).is_file():
            restored.mkdir(mode=0o700, exist_ok=True)
            os.replace(folder / name, restored / name)
            notes.append(f"Configuration sauvegardée copiée dans {restored / name} : à relire.")
    if (folder / "secret_key").is_file():
        os.replace(folder / "secret_key", instance / configuration.SECRET_KEY_FILE)
        notes.append(
            "Clé secrète de l'archive installée dans instance/secret_key (utilisée si aucune"
            " MAILLAGE_SECRET_KEY n'est configurée) : redémarrez le serveur et le worker."
        )
    return notes
