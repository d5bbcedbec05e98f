"""The backup archive: one tar file, its members listed with their SHA-256 in ``manifest.json``.

Layout::

    database/maillage.sqlite     SQLite: a copy made by the online backup API
    database/maillage.pgdump     PostgreSQL: ``pg_dump --format=custom`` of the instance's schema
    files/<ab>/<key>             the file store (documents, logos, training files, exports…)
    config/config.py             instance/config.py, secrets removed unless --with-secrets
    config/environment.env       the MAILLAGE_* environment of the backup, same rule
    config/secret_key            instance/secret_key, only with --with-secrets
    manifest.json                written last: format, schema revision, database kind, dates,
                                 and the size and SHA-256 of every other member

The file is created readable by its owner only (0600): even without the configuration's secrets
it holds the database, hence password hashes and the federation actors' private keys.  It is
written under a temporary name and renamed once complete, so a half-written archive never has
the final name.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

FORMAT = "maillage-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024

#: The only member names a restore accepts (anything else means a forged or foreign archive).
MEMBER_RE = re.compile(
    r"database/maillage\.(sqlite|pgdump)"
    r"|files/[0-9a-f]{2}/[0-9a-f]{32}"
    r"|config/(config\.py|environment\.env|secret_key)"
)


class ArchiveError(Exception):
    """The archive cannot be restored: unreadable, incomplete, altered or of another format."""


class _HashingReader(io.RawIOBase):
    """Reads a stream while computing its SHA-256 (the tar writer pulls the bytes)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        self.digest.update(data)
        self.size += len(data)
        buffer[: len(data)] = data
        return len(data)


@dataclass
class ArchiveWriter:
    """Writes members one by one, then the manifest; ``close`` gives the archive its name."""

    path: Path
    checksums: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.partial = self.path.with_name(f".{self.path.name}.part")
        descriptor = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file = os.fdopen(descriptor, "wb")
        self._tar = tarfile.open(  # noqa: SIM115 - closed by close() or abort()
            fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT
        )

    def add_file(self, name: str, source: Path) -> None:
        with source.open("rb") as stream:
            self.add_stream(name, stream, source.stat().st_size)

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add_stream(name, io.BytesIO(data), len(data))

    def add_stream(self, name: str, stream: BinaryIO, size: int) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, 0
        reader = _HashingReader(stream)
        self._tar.addfile(info, io.BufferedReader(reader, CHUNK))
        if reader.size != size:  # the file changed while being read: never a silent mismatch
            raise ArchiveError(f"{name}: {reader.size} bytes read, {size} expected")
        self.checksums[name] = {"sha256": reader.digest.hexdigest(), "size": size}

    def close(self, manifest: dict) -> None:
        """Write the manifest, flush to disk and rename the archive to its final name."""
        data = json.dumps({**manifest, "members": self.checksums}, indent=2, sort_keys=True)
        info = tarfile.TarInfo(MANIFEST)
        encoded = data.encode()
        info.size, info.mode, info.mtime = len(encoded), 0o600, 0
        self._tar.addfile(info, io.BytesIO(encoded))
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        self._tar.close()
        self._file.close()
        self.partial.unlink(missing_ok=True)


# -- reading -----------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict:
    """The manifest of the archive at ``path``, checked for format and completeness."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.getmember(MANIFEST)
            manifest = json.loads(tar.extractfile(member).read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise ArchiveError(f"archive illisible ou incomplète ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("ce fichier n'est pas une sauvegarde de Maillage")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(
            f"format de sauvegarde {manifest.get('format_version')!r} inconnu de cette version"
            f" de Maillage (elle lit le format {FORMAT_VERSION})"
        )
    members, database = manifest.get("members"), manifest.get("database")
    if (
        not isinstance(members, dict)
        or not all(MEMBER_RE.fullmatch(name) for name in members)
        or not isinstance(database, dict)
        or database.get("member") not in members
        or not isinstance(manifest.get("created_at"), str)
    ):
        raise ArchiveError("le manifeste de l'archive est invalide")
    return manifest


def extract_verified(path: Path, manifest: dict, place) -> None:
    """Extract every member through ``place(name) -> Path`` (its destination), checking each
    one's size and SHA-256 against the manifest; raise :class:`ArchiveError` at the first
    difference, at a member the manifest does not list, or at one missing."""
    expected = manifest["members"]
    seen: set[str] = set()
    try:
        with tarfile.open(path, mode="r:") as tar:
            for member in _data_members(tar, expected):
                _extract_one(tar, member, expected[member.name], place(member.name))
                seen.add(member.name)
    except (OSError, tarfile.TarError) as exc:
        raise ArchiveError(f"archive illisible ({exc})") from exc
    missing = sorted(set(expected) - seen)
    if missing:
        raise ArchiveError(f"archive incomplète : {len(missing)} fichiers manquent ({missing[0]}…)")


def _data_members(tar: tarfile.TarFile, expected: dict) -> Iterator[tarfile.TarInfo]:
    for member in tar:
        if member.name == MANIFEST:
            continue
        if member.name not in expected or not member.isfile():
            raise ArchiveError(f"l'archive contient « {member.name} », absent du manifeste")
        yield member


def _extract_one(tar: tarfile.TarFile, member: tarfile.TarInfo, expected: dict, target: Path):
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with tar.extractfile(member) as stream, os.fdopen(descriptor, "wb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
        raise ArchiveError(
            f"« {member.name} » ne correspond pas à sa somme de contrôle : archive altérée ou"
            " abîmée, rien n'a été restauré"
        )
