"""Receiving a file: stage it, check its name, size and content, or refuse it with a clear message.

Nothing is kept from a refused file: the staged copy is removed before the error is raised.  An
accepted file stays staged until an operation stores it (platform/storage.py), which ties it to
the database transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l

from maillage.communities.documents.filenames import clean_filename, extension_of, human_size
from maillage.communities.documents.filetypes import (
    BY_EXTENSION,
    DEFAULT_ALLOWED,
    EMPTY,
    MACROS,
    SCRIPTABLE_IMAGES,
    SVG,
    TYPES,
    UNKNOWN,
    ZIP,
    ZIP_TOO_COMPLEX,
    FileType,
    compatible,
    declared_agrees,
    label_of,
    sniff,
)
from maillage.platform.errors import OperationError
from maillage.platform.storage import FileTooLarge, StagedFile, get_storage

DEFAULT_MAX_SIZE = 25 * 1024 * 1024


@dataclass
class Upload:
    """A file as a person sent it: what they named it, its bytes, the type their browser declared
    (only checked for agreement, never trusted)."""

    filename: str | None
    stream: BinaryIO
    declared_type: str | None = None


@dataclass
class CheckedFile:
    staged: StagedFile
    name: str
    file_type: FileType

    def discard(self) -> None:
        self.staged.discard()


def max_size() -> int:
    return int(current_app.config.get("DOCUMENT_MAX_SIZE", DEFAULT_MAX_SIZE))


def allowed_types() -> list[FileType]:
    keys = current_app.config.get("DOCUMENT_ALLOWED_TYPES", DEFAULT_ALLOWED)
    return [TYPES[key] for key in keys if key in TYPES]


def accepted_extensions() -> str:
    """``.pdf, .png, .jpg…`` for messages and the file input's ``accept``."""
    return ", ".join(f".{ext}" for file_type in allowed_types() for ext in file_type.extensions)


def receive(upload: Upload) -> CheckedFile:
    """Stage and check ``upload``; raises OperationError (nothing kept) when it is refused."""
    name = clean_filename(upload.filename)
    if not name:
        raise OperationError(_l("Choisissez un fichier à envoyer."))
    expected = _expected_type(name)
    try:
        staged = get_storage().stage(upload.stream, max_size())
    except FileTooLarge as exc:
        raise OperationError(
            _l("Le fichier « %(name)s » dépasse la taille maximale de %(limit)s."),
            name=name,
            limit=human_size(exc.limit),
        ) from exc
    try:
        _check_content(staged, name, expected, upload.declared_type)
    except BaseException:
        staged.discard()
        raise
    return CheckedFile(staged, name, expected)


def _expected_type(name: str) -> FileType:
    extension = extension_of(name)
    if extension in SCRIPTABLE_IMAGES:
        raise OperationError(SVG_REFUSED)
    if not extension:
        raise OperationError(
            _l("Le nom du fichier « %(name)s » n'a pas d'extension. Formats acceptés : %(list)s."),
            name=name,
            list=accepted_extensions(),
        )
    expected = BY_EXTENSION.get(extension)
    if expected is None or expected not in allowed_types():
        raise OperationError(
            _l("Les fichiers « .%(ext)s » ne sont pas acceptés. Formats acceptés : %(list)s."),
            ext=extension,
            list=accepted_extensions(),
        )
    return expected


SVG_REFUSED = _l(
    "Les images SVG ne sont pas acceptées : elles peuvent contenir des scripts. "
    "Enregistrez l'image au format PNG et envoyez-la à nouveau."
)


def _check_content(staged: StagedFile, name: str, expected: FileType, declared: str | None):
    detected = sniff(staged.path, staged.head)
    if detected == EMPTY:
        raise OperationError(_l("Le fichier « %(name)s » est vide."), name=name)
    if detected == SVG:
        raise OperationError(SVG_REFUSED)
    if detected == MACROS:
        raise OperationError(
            _l(
                "« %(name)s » contient des macros, qui ne sont pas acceptées. Enregistrez-le "
                "sans macros (.docx, .xlsx ou .pptx) et envoyez-le à nouveau."
            ),
            name=name,
        )
    if detected == ZIP_TOO_COMPLEX:
        raise OperationError(
            _l("« %(name)s » contient trop de fichiers pour être vérifié."), name=name
        )
    if not compatible(detected, expected):
        _refuse_mismatch(detected, name, expected)
    if not declared_agrees(declared, expected):
        raise OperationError(
            _l(
                "Le type annoncé pour « %(name)s » (%(declared)s) ne correspond pas à son "
                "contenu (%(detected)s)."
            ),
            name=name,
            declared=(declared or "").split(";")[0].strip()[:100],
            detected=expected.label,
        )


def _refuse_mismatch(detected: str, name: str, expected: FileType):
    if detected in (UNKNOWN, ZIP) or (detected not in TYPES and expected.is_text):
        if expected.is_text:
            raise OperationError(
                _l(
                    "« %(name)s » n'est pas un fichier texte en UTF-8 : réenregistrez-le avec "
                    "l'encodage UTF-8 et envoyez-le à nouveau."
                ),
                name=name,
            )
        raise OperationError(
            _l("Le contenu de « %(name)s » n'est pas %(expected)s valide."),
            name=name,
            expected=expected.label,
        )
    raise OperationError(
        _l(
            "Le contenu de « %(name)s » ne correspond pas à son extension : "
            "c'est %(detected)s, pas %(expected)s."
        ),
        name=name,
        detected=label_of(detected),
        expected=expected.label,
    )
