"""File names as people give them, made safe to show and to offer back on download.

A file name is only ever a label: files are stored under random keys (platform/storage.py).  Still,
the name goes back to browsers in ``Content-Disposition`` and to other people's disks, so it is
cleaned: no folders (``../../etc/passwd`` is ``passwd``), no control or invisible formatting
characters (NUL, right-to-left overrides that disguise an extension), no characters Windows
forbids, no reserved Windows device names (``CON``, ``NUL``, ``COM1``…), a bounded length that
keeps the extension.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask_babel import format_decimal
from flask_babel import gettext as _

MAX_NAME_LENGTH = 150
MAX_EXTENSION_LENGTH = 16
WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{n}" for n in range(10)}
    | {f"lpt{n}" for n in range(10)}
    | {"com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³", "conin$", "conout$"}
)
FORBIDDEN = re.compile(r'[<>:"|?*;]')
#: Unicode categories dropped: controls, invisible formatting (bidi overrides…), surrogates,
#: private use, unassigned.
DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def clean_filename(raw: str | None) -> str:
    """A safe display and download name for ``raw`` ("" when nothing usable is left)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]  # browsers on Windows may send a full path
    name = "".join(ch for ch in name if unicodedata.category(ch) not in DROPPED_CATEGORIES)
    name = FORBIDDEN.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    stem, extension = split_extension(name)
    if stem.split(".")[0].strip().lower() in WINDOWS_RESERVED:
        stem = f"_{stem}"
    if len(extension) > MAX_EXTENSION_LENGTH:
        stem, extension = name, ""
    room = MAX_NAME_LENGTH - (len(extension) + 1 if extension else 0)
    stem = stem[:room].rstrip(" .")
    return f"{stem}.{extension}" if extension else stem


def split_extension(name: str) -> tuple[str, str]:
    """``("rapport.final", "pdf")`` for ``rapport.final.pdf``; no extension: ``(name, "")``."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not extension:
        return name, ""
    return stem, extension


def extension_of(name: str) -> str:
    return split_extension(name)[1].lower()


def title_from_filename(name: str) -> str:
    """A default title: the name without its extension, underscores as spaces."""
    stem = split_extension(name)[0]
    return " ".join(stem.replace("_", " ").split())


def content_disposition(disposition: str, name: str) -> str:
    """``attachment; filename="…"; filename*=UTF-8''…`` (RFC 6266 with an RFC 5987 name).

    The plain ``filename`` is an ASCII fallback for old clients; ``filename*`` carries the real
    name, percent-encoded, which every current browser prefers.
    """
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"[^A-Za-z0-9 ._()\-]", "_", fallback).strip() or "document"
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def human_size(size: int) -> str:
    """``"820 octets"``, ``"12 Ko"``, ``"1,5 Mo"`` in the person's language."""
    if size < 1024:
        return _("%(num)s octets", num=size) if size != 1 else _("1 octet")
    if size < 1024 * 1024:
        return _("%(num)s Ko", num=format_decimal(round(size / 1024, 1), "#,##0.#"))
    return _("%(num)s Mo", num=format_decimal(round(size / (1024 * 1024), 1), "#,##0.#"))
