"""The file types documents accept, and how their type is read from their content.

The type of a file is what its bytes say, never only its name or what the browser declares: a
small sniffer reads the signature of each accepted format (magic bytes), opens Office files only
far enough to read their small type entry (with size caps: never a full decompression, so zip
bombs stay inert) and checks that text is UTF-8 without control characters.  The extension must
then agree with the content.  SVG is refused: it is XML that can carry scripts.
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class FileType:
    key: str
    mime: str
    #: how a sentence names it: "un document PDF"
    label: object
    extensions: tuple[str, ...]
    #: what browsers may declare for it (besides generic types)
    declared: frozenset[str]
    #: "image" (server-side thumbnail), "pdf" (browser viewer), "text" (escaped), "" (none)
    preview: str = ""

    @property
    def is_text(self) -> bool:
        return self.mime.startswith("text/")

    @property
    def content_type(self) -> str:
        return f"{self.mime}; charset=utf-8" if self.is_text else self.mime


def _type(key, mime, label, extensions, declared=(), preview="") -> FileType:
    return FileType(key, mime, label, tuple(extensions), frozenset({mime, *declared}), preview)


OOXML = "application/vnd.openxmlformats-officedocument"
ODF = "application/vnd.oasis.opendocument"
ZIPS = ("application/zip", "application/x-zip-compressed")

TYPES: dict[str, FileType] = {
    t.key: t
    for t in (
        _type(
            "pdf", "application/pdf", _l("un document PDF"), ["pdf"], ["application/x-pdf"], "pdf"
        ),
        _type("png", "image/png", _l("une image PNG"), ["png"], ["image/x-png"], "image"),
        _type(
            "jpeg",
            "image/jpeg",
            _l("une image JPEG"),
            ["jpg", "jpeg"],
            ["image/pjpeg", "image/jpg"],
            "image",
        ),
        _type("gif", "image/gif", _l("une image GIF"), ["gif"], (), "image"),
        _type("webp", "image/webp", _l("une image WebP"), ["webp"], (), "image"),
        _type("odt", f"{ODF}.text", _l("un texte OpenDocument (.odt)"), ["odt"], ZIPS),
        _type("ods", f"{ODF}.spreadsheet", _l("un classeur OpenDocument (.ods)"), ["ods"], ZIPS),
        _type(
            "odp", f"{ODF}.presentation", _l("une présentation OpenDocument (.odp)"), ["odp"], ZIPS
        ),
        _type(
            "docx",
            f"{OOXML}.wordprocessingml.document",
            _l("un document Word (.docx)"),
            ["docx"],
            ZIPS,
        ),
        _type(
            "xlsx", f"{OOXML}.spreadsheetml.sheet", _l("un classeur Excel (.xlsx)"), ["xlsx"], ZIPS
        ),
        _type(
            "pptx",
            f"{OOXML}.presentationml.presentation",
            _l("une présentation PowerPoint (.pptx)"),
            ["pptx"],
            ZIPS,
        ),
        _type("txt", "text/plain", _l("un fichier texte"), ["txt"], (), "text"),
        _type(
            "csv",
            "text/csv",
            _l("un fichier CSV"),
            ["csv"],
            [
                "text/plain",
                "application/csv",
                "text/x-csv",
                "text/comma-separated-values",
                "application/vnd.ms-excel",  # what Windows declares for .csv when Excel is there
            ],
            "text",
        ),
        _type(
            "md",
            "text/markdown",
            _l("un fichier Markdown"),
            ["md", "markdown"],
            ["text/plain", "text/x-markdown"],
            "text",
        ),
    )
}
DEFAULT_ALLOWED = tuple(TYPES)
TEXT_KEYS = frozenset(key for key, file_type in TYPES.items() if file_type.is_text)
BY_EXTENSION = {ext: file_type for file_type in TYPES.values() for ext in file_type.extensions}
#: Declared types that say nothing (accepted for any content).
GENERIC_DECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
#: Extensions refused with their own message.
SCRIPTABLE_IMAGES = frozenset({"svg", "svgz"})

# What the sniffer may answer besides a key of TYPES.
TEXT, SVG, MACROS, ZIP, ZIP_TOO_COMPLEX, EMPTY, UNKNOWN = (
    "text",
    "svg",
    "macros",
    "zip",
    "zip-too-complex",
    "empty",
    "unknown",
)
DETECTED_LABELS = {
    TEXT: _l("du texte"),
    SVG: _l("une image SVG"),
    MACROS: _l("un document Office avec macros"),
    ZIP: _l("une archive ZIP"),
    ZIP_TOO_COMPLEX: _l("une archive ZIP"),
    UNKNOWN: _l("un fichier d'un type non reconnu"),
}


def label_of(detected: str):
    return TYPES[detected].label if detected in TYPES else DETECTED_LABELS.get(detected, "")


# -- sniffing ----------------------------------------------------------------------------------

MAX_ZIP_ENTRIES = 5000
MAX_ZIP_DIRECTORY = 4 * 1024 * 1024
MAX_ODF_MIMETYPE = 100
MAX_CONTENT_TYPES = 256 * 1024
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

OOXML_MAIN = {
    f"{OOXML}.wordprocessingml.document.main+xml": "docx",
    f"{OOXML}.spreadsheetml.sheet.main+xml": "xlsx",
    f"{OOXML}.presentationml.presentation.main+xml": "pptx",
}
OOXML_MACROS = (
    "application/vnd.ms-word.document.macroenabled",
    "application/vnd.ms-excel.sheet.macroenabled",
    "application/vnd.ms-powerpoint.presentation.macroenabled",
    "application/vnd.ms-office.vbaproject",
)
ODF_TYPES = {TYPES[key].mime: key for key in ("odt", "ods", "odp")}


MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def sniff(path: Path, head: bytes) -> str:
    """The type of the file at ``path`` (whose first bytes are ``head``): a key of ``TYPES``,
    or ``TEXT`` (valid UTF-8 text, its kind depends on the extension), ``SVG``, ``MACROS``,
    ``ZIP``, ``ZIP_TOO_COMPLEX``, ``EMPTY`` or ``UNKNOWN``."""
    if not head:
        return EMPTY
    detected = next((key for magic, key in MAGIC if head.startswith(magic)), None)
    if detected is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        detected = "webp"
    if detected is None and head.startswith(b"PK\x03\x04"):
        detected = _sniff_zip(path)
    if detected is None and _is_utf8_text(path):
        detected = SVG if _looks_like_svg(head) else TEXT
    return detected or UNKNOWN


def _is_utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(64 * 1024):
                if TEXT_CONTROL.search(decoder.decode(chunk)):
                    return False
            return not TEXT_CONTROL.search(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        return False


def _looks_like_svg(head: bytes) -> bool:
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n").lower()
    return text.startswith("<") and "<svg" in text


def _sniff_zip(path: Path) -> str:
    """An Office document (ODF or OOXML) by its type entry, read with size caps."""
    with path.open("rb") as stream:
        directory = _zip_directory(stream)
        if directory != ZIP:
            return directory
        try:
            with zipfile.ZipFile(stream) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    mimetype = _read_capped(archive, "mimetype", MAX_ODF_MIMETYPE)
                    return ODF_TYPES.get((mimetype or b"").decode("ascii", "replace"), ZIP)
                if "[Content_Types].xml" in names:
                    types = _read_capped(archive, "[Content_Types].xml", MAX_CONTENT_TYPES)
                    return _ooxml_kind(types or b"", names)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error):
            return UNKNOWN
        except (RuntimeError, NotImplementedError, ValueError):
            return UNKNOWN  # encrypted entries, unsupported compression methods
    return ZIP


def _zip_directory(stream) -> str:
    """Read the end-of-central-directory record before anything else: ``UNKNOWN`` when there
    is none, ``ZIP_TOO_COMPLEX`` past a few thousand entries, a large directory or ZIP64;
    ``ZIP`` when the archive may be opened."""
    stream.seek(0, 2)
    size = stream.tell()
    tail_size = min(size, 22 + 65535)
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    stream.seek(0)
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or len(tail) - position < 22:
        return UNKNOWN
    _disk, _start, _here, entries, directory_size, _offset = struct.unpack(
        "<HHHHII", tail[position + 4 : position + 20]
    )
    if entries == 0:
        return UNKNOWN
    if entries > MAX_ZIP_ENTRIES or directory_size > MAX_ZIP_DIRECTORY:
        return ZIP_TOO_COMPLEX
    return ZIP


def _read_capped(archive: zipfile.ZipFile, name: str, cap: int) -> bytes | None:
    info = archive.getinfo(name)
    if info.file_size > cap:
        return None
    with archive.open(info) as member:
        data = member.read(cap + 1)  # the declared size may lie: never read past the cap
    return data if len(data) <= cap else None


def _ooxml_kind(content_types: bytes, names: set[str]) -> str:
    declared = {
        raw.decode("ascii", "replace").lower()
        for raw in re.findall(rb'ContentType\s*=\s*"([^"]{1,200})"', content_types)
    }
    if any(value.startswith(OOXML_MACROS) for value in declared) or any(
        name.lower().endswith("vbaproject.bin") for name in names
    ):
        return MACROS
    for main, key in OOXML_MAIN.items():
        if main in declared:
            return key
    return ZIP


def compatible(detected: str, expected: FileType) -> bool:
    """Does content detected as ``detected`` fit a file named for ``expected``?"""
    return detected == expected.key or (detected == TEXT and expected.key in TEXT_KEYS)


def declared_agrees(declared: str | None, expected: FileType) -> bool:
    """Whether the type the browser declared is generic or one ``expected`` goes by."""
    value = (declared or "").split(";")[0].strip().lower()
    return value in GENERIC_DECLARED or value in expected.declared
