"""File storage: a small interface, filled by a local folder (``instance/files/``) by default.

Files are stored under a random key (32 hexadecimal characters), never under a name a person
chose: the name someone gave a file lives in the database and is never used as a path.

Writing a file follows the database transaction it belongs to, so nothing is half-stored:

1. :meth:`Storage.stage` copies an incoming stream to a temporary file (in the storage's own
   ``tmp/`` folder), computing its size and SHA-256, and stops at a size limit;
2. the caller checks the content (type, name…) and discards the staged file if it refuses it;
3. :meth:`Storage.store` moves the staged file into place under a new key.  If the current
   database transaction does not commit (an error, a rollback, a closed session), the file is
   removed again when the transaction ends;
4. :meth:`Storage.delete_after_commit` removes a file only once the transaction that stopped
   referencing it has committed, so a failed deletion never loses a file still referenced.

A process killed between steps 3 and the commit can leave an unreferenced file behind, and a
crash during step 1 a temporary file: :meth:`Storage.sweep_temporary` removes stale temporary
files; unreferenced files only cost disk space.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from maillage.platform.extensions import db

KEY_RE = re.compile(r"[0-9a-f]{32}")
CHUNK = 64 * 1024
#: ``session.info`` entries: files to remove if the transaction does not commit / once it does.
_NEW_FILES = "maillage.storage.new"
_DOOMED_FILES = "maillage.storage.doomed"


class FileTooLarge(ValueError):
    """The stream is longer than the limit given to :meth:`Storage.stage`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"file larger than {limit} bytes")
        self.limit = limit


class UnknownKey(LookupError):
    """No file is stored under this key (or the key is malformed)."""


@dataclass
class StagedFile:
    """A file received but not stored yet (see :meth:`Storage.store`)."""

    path: Path
    size: int
    sha256: str
    head: bytes = field(repr=False)  # the first bytes, for type detection
    _done: bool = field(default=False, repr=False)

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    def discard(self) -> None:
        """Remove the temporary file (nothing happens once stored or discarded)."""
        if not self._done:
            self._done = True
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(self, *_exc) -> None:
        self.discard()


class Storage:
    """What every storage does.  Keys are opaque strings chosen by the storage."""

    def stage(self, stream: BinaryIO, max_size: int, head_size: int = 8192) -> StagedFile:
        raise NotImplementedError

    def store(self, staged: StagedFile) -> str:
        raise NotImplementedError

    def store_bytes(self, data: bytes) -> str:
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        raise NotImplementedError

    def read_head(self, key: str, size: int) -> bytes:
        with self.open(key) as stream:
            return stream.read(size)

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def local_path(self, key: str) -> Path:
        """A path the web server may send directly (raises UnknownKey when there is none)."""
        raise NotImplementedError

    def delete_after_commit(self, key: str) -> None:
        raise NotImplementedError

    def sweep_temporary(self, older_than_seconds: int = 86400) -> int:
        """Remove temporary files older than this; returns how many."""
        raise NotImplementedError


class LocalStorage(Storage):
    """Files in a folder: ``<root>/<key[:2]>/<key>``; temporary files in ``<root>/tmp/``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()
        self.tmp = self.root / "tmp"

    def path(self, key: str) -> Path:
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            raise UnknownKey(key)
        return self.root / key[:2] / key

    # -- writing -------------------------------------------------------------------------------

    def stage(self, stream: BinaryIO, max_size: int, head_size: int = 8192) -> StagedFile:
        self.tmp.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=self.tmp, suffix=".part")
        path = Path(name)
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            with os.fdopen(descriptor, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_size:
                        raise FileTooLarge(max_size)
                    if len(head) < head_size:
                        head += chunk[: head_size - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return StagedFile(path, size, digest.hexdigest(), head)

    def store(self, staged: StagedFile) -> str:
        if staged._done:
            raise ValueError("this staged file was already stored or discarded")
        key, target = self._new_target()
        os.replace(staged.path, target)
        staged._done = True
        _remove_unless_committed(target)
        return key

    def store_bytes(self, data: bytes) -> str:
        self.tmp.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=self.tmp, suffix=".part")
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
        staged = StagedFile(Path(name), len(data), hashlib.sha256(data).hexdigest(), b"")
        return self.store(staged)

    def copy(self, key: str) -> str:
        """A new key holding the same bytes (removed again if the transaction fails)."""
        source = self.path(key)
        new_key, target = self._new_target()
        partial = target.with_suffix(".part")
        shutil.copyfile(source, partial)
        os.replace(partial, target)
        _remove_unless_committed(target)
        return new_key

    def _new_target(self) -> tuple[str, Path]:
        key = secrets.token_hex(16)
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        return key, target

    def delete_after_commit(self, key: str) -> None:
        db.session.info.setdefault(_DOOMED_FILES, []).append(self.path(key))

    def sweep_temporary(self, older_than_seconds: int = 86400) -> int:
        if not self.tmp.is_dir():
            return 0
        limit, removed = time.time() - older_than_seconds, 0
        for path in self.tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
        return removed

    # -- reading -------------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise UnknownKey(key) from exc

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except UnknownKey:
            return False

    def local_path(self, key: str) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise UnknownKey(key)
        return path

    def keys(self) -> Iterator[str]:
        """Every stored key (for checks and maintenance)."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and folder.name != "tmp":
                for path in sorted(folder.iterdir()):
                    if KEY_RE.fullmatch(path.name):
                        yield path.name


def get_storage() -> Storage:
    """The app's storage (``FILES_PATH``, by default ``<instance>/files``)."""
    app = current_app._get_current_object()
    storage = app.extensions.get("maillage.storage")
    if storage is None:
        root = app.config.get("FILES_PATH") or os.path.join(app.instance_path, "files")
        storage = LocalStorage(root)
        app.extensions["maillage.storage"] = storage
    return storage


# -- following the database transaction --------------------------------------------------------


def _remove_unless_committed(path: Path) -> None:
    db.session.info.setdefault(_NEW_FILES, []).append(path)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction decides
    session.info.pop(_NEW_FILES, None)  # they are referenced now: keep them
    for path in session.info.pop(_DOOMED_FILES, ()):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    # Still listed: the transaction ended without a commit (rollback, error, closed session).
    for path in session.info.pop(_NEW_FILES, ()):
        path.unlink(missing_ok=True)
    session.info.pop(_DOOMED_FILES, None)
