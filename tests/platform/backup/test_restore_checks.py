"""What a restore refuses before changing anything (a non-empty instance, an altered or foreign
archive, a newer schema), and what it does with an older one (migrates it forward)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from maillage.platform.backup import database
from maillage.platform.backup.pending import HELD_KINDS, REPLAYED_KINDS
from maillage.platform.extensions import db
from maillage.platform.outbox.operations import HANDLERS
from maillage.platform.storage import get_storage
from tests.platform.backup.conftest import DOCUMENT_BYTES, rewrite_archive, run_cli

OLD_REVISION = "0026_secret_access"


@pytest.fixture
def archive(app, create_user, create_community, tmp_path) -> Path:
    """An archive of a small instance: one community, one document."""
    from maillage.communities.documents.operations import upload_document
    from maillage.communities.documents.uploads import Upload

    owner = create_user("ines")
    community = create_community("Acheteurs publics", owner=owner)
    upload_document(community, owner, Upload("compte-rendu.txt", io.BytesIO(DOCUMENT_BYTES)))
    db.session.commit()
    output = tmp_path / "instance.tar"
    result = run_cli(app, "backup", "--output", str(output))
    assert result.exit_code == 0, result.output
    return output


def _refused(flask_app, archive_path: Path) -> str:
    result = run_cli(flask_app, "restore", str(archive_path))
    assert result.exit_code == 1
    assert "Restauration refusée" in result.output
    return " ".join(result.output.split())


def _untouched(flask_app) -> None:
    """Nothing restored: no table, no stored file, no staging folder left behind."""
    with flask_app.app_context():
        assert inspect(db.engine).get_table_names() == []
        storage = get_storage()
        assert list(storage.keys()) == []
        assert not list(storage.root.parent.glob(".restore-*"))


def test_a_non_empty_instance_is_refused(app, archive):
    message = _refused(app, archive)
    assert (
        "la base de données cible n'est pas vide (1 compte, 1 organisation, 1 communauté)"
        in message
    )
    assert "Restaurez dans une base neuve et vide" in message


def test_an_instance_with_stored_files_is_refused(new_instance, archive):
    target = new_instance("files")
    with target.app_context():
        get_storage().store_bytes(b"un fichier d'avant")
        db.session.commit()
    assert "le dossier des fichiers" in _refused(target, archive)
    with target.app_context():
        assert inspect(db.engine).get_table_names() == []


def test_an_altered_archive_is_refused_and_nothing_restored(new_instance, archive):
    def corrupt(name: str, data: bytes) -> bytes:
        return data.replace(b"seuils", b"SEUILS") if name.startswith("files/") else data

    rewrite_archive(archive, corrupt)
    target = new_instance("altered")
    message = _refused(target, archive)
    assert "ne correspond pas à sa somme de contrôle" in message
    assert "rien n'a été restauré" in message
    _untouched(target)


def test_a_member_the_manifest_does_not_list_is_refused(new_instance, archive):
    with tarfile.open(archive, "a") as tar:
        info = tarfile.TarInfo("files/00/" + "0" * 32)
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    target = new_instance("extra")
    assert "absent du manifeste" in _refused(target, archive)
    _untouched(target)


def _with_manifest(archive_path: Path, **database_changes) -> None:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["database"].update(database_changes)
        return json.dumps(manifest).encode()

    rewrite_archive(archive_path, change)


def test_an_archive_of_a_newer_schema_is_refused(new_instance, archive):
    _with_manifest(archive, alembic_revision="0099_from_the_future")
    target = new_instance("newer")
    message = _refused(target, archive)
    assert "l'archive vient d'un schéma plus récent (révision '0099_from_the_future')" in message
    assert "mettez Maillage à jour" in message
    _untouched(target)


def test_restoring_across_database_kinds_is_refused(app, new_instance, archive):
    other = "postgresql" if database.database_kind() == "sqlite" else "sqlite"
    _with_manifest(archive, kind=other)
    target = new_instance("kind")
    assert "n'est pas prise en charge" in _refused(target, archive)
    _untouched(target)


def test_a_file_that_is_not_an_archive_is_refused(new_instance, tmp_path):
    path = tmp_path / "notes.tar"
    path.write_bytes(b"pas une archive")
    target = new_instance("garbage")
    assert "archive illisible ou incomplète" in _refused(target, path)


def test_an_older_archive_is_migrated_forward(new_instance, tmp_path):
    """An archive of an older version (schema at revision 0026) restores and is upgraded; on
    PostgreSQL, into a database whose schema has another name than the archive's."""
    from flask_migrate import upgrade

    old = new_instance("old")
    with old.app_context():
        upgrade(revision=OLD_REVISION)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO outbox (kind, payload, status, attempts, last_error,"
                    " created_at, available_at) VALUES ('mail.send', '{}', 'pending', 0, '',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        db.engine.dispose()
    output = tmp_path / "old.tar"
    backed_up = run_cli(old, "backup", "--output", str(output))
    assert backed_up.exit_code == 0, backed_up.output
    target = new_instance("upgraded", schema="restored_elsewhere")
    result = run_cli(target, "restore", str(output))
    assert result.exit_code == 0, result.output
    assert f"Schéma mis à jour depuis la révision {OLD_REVISION}" in result.output
    with target.app_context():
        assert database.current_revision() == database.head_revision()
        status = db.session.scalar(text("SELECT status FROM outbox WHERE kind = 'mail.send'"))
        assert status == "held"


def test_every_outbox_kind_has_a_restore_decision(app):
    """A new kind of outbox work must be classified: replayed after a restore, or held."""
    assert set(HANDLERS) <= set(REPLAYED_KINDS) | set(HELD_KINDS)
    assert not set(REPLAYED_KINDS) & set(HELD_KINDS)


def test_without_pg_dump_the_backup_says_what_to_install(app, monkeypatch, tmp_path):
    if database.database_kind() != "postgresql":
        pytest.skip("pg_dump is for PostgreSQL")
    folder = tmp_path / "backups"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    result = run_cli(app, "backup", "--output", str(folder))
    assert result.exit_code == 1
    assert "pg_dump est introuvable : installez le client PostgreSQL" in result.output
    assert list(folder.iterdir()) == []  # no half-written archive, no staging folder
