"""Previews of a document version, made so that no file can harm the person looking at it.

- Images: a thumbnail re-encoded on the server with Pillow (PNG when the image has transparency,
  JPEG otherwise), oriented by its EXIF tag and stripped of every metadata.  The image's declared
  size is read from its header first: past ``DOCUMENT_PREVIEW_MAX_PIXELS`` (a decompression bomb
  like a PNG declaring 100,000 × 100,000 pixels, or just a huge scan) nothing is decoded and no
  preview is offered.  Only the PNG, JPEG, GIF and WebP decoders are allowed.
- PDF: the browser's own PDF viewer, in an ``<iframe>`` of the preview route, which serves the
  original ``inline`` with its exact type (the content starts with ``%PDF-``: checked on upload),
  ``nosniff``, a CSP ``sandbox; default-src 'none'`` (the file gets an opaque origin: nothing in
  it can reach the site's cookies or pages) and framing allowed to our own pages only.  No PDF is
  parsed on the server (no poppler here, and a PDF renderer on the server is a large attack
  surface).  Chromium (156, tested in tests/communities/test_documents_browser.py) renders
  PDFs under that CSP; older Chromium releases refused PDFs in sandboxed frames, and a browser
  that refuses shows nothing in the frame: the page always offers the download link.
  ``DOCUMENT_PDF_PREVIEW = False`` turns the inline PDF preview off (download only).
- Text, CSV, Markdown: the first ``DOCUMENT_TEXT_PREVIEW_BYTES`` decoded as UTF-8 and shown
  escaped in a ``<pre>`` (Markdown as its source: nothing is rendered).
"""

from __future__ import annotations

import codecs
import io
import warnings
from dataclasses import dataclass

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from maillage.communities.documents.filetypes import TYPES
from maillage.platform.storage import Storage

THUMBNAIL_SIZE = (960, 960)
DEFAULT_MAX_PIXELS = 30_000_000
DEFAULT_TEXT_PREVIEW_BYTES = 64 * 1024
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}

# Stored on the version (``preview_status``).
READY, NONE, TOO_LARGE, UNREADABLE = "ready", "none", "too_large", "unreadable"


@dataclass(frozen=True)
class Thumbnail:
    status: str
    data: bytes = b""
    mime: str = ""
    width: int = 0
    height: int = 0


def max_pixels() -> int:
    return int(current_app.config.get("DOCUMENT_PREVIEW_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def make_thumbnail(storage: Storage, key: str, type_key: str) -> Thumbnail:
    """A re-encoded thumbnail of the image stored under ``key``, or why there is none."""
    pillow_format = PILLOW_FORMATS.get(type_key)
    if pillow_format is None:
        return Thumbnail(NONE)
    with warnings.catch_warnings():
        # Pillow warns (then errors) past its own pixel limit: both mean "do not decode".
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with storage.open(key) as stream, Image.open(stream, formats=[pillow_format]) as image:
                width, height = image.size
                if width * height > max_pixels():
                    return Thumbnail(TOO_LARGE, width=width, height=height)
                return _encode(image, width, height)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return Thumbnail(TOO_LARGE)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
            return Thumbnail(UNREADABLE)
        except Exception:  # a crafted file must never break an upload
            current_app.logger.warning("could not make a thumbnail of %s", key, exc_info=True)
            return Thumbnail(UNREADABLE)


def _encode(image: Image.Image, width: int, height: int) -> Thumbnail:
    image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a reduced scale (no-op elsewhere)
    image.seek(0)  # first frame of an animation
    image = ImageOps.exif_transpose(image)
    transparent = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if transparent else "RGB")
    image.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    if transparent:
        image.save(out, "PNG", optimize=True)
        mime = "image/png"
    else:
        image.save(out, "JPEG", quality=85, optimize=True)
        mime = "image/jpeg"
    return Thumbnail(READY, out.getvalue(), mime, width, height)


@dataclass(frozen=True)
class TextPreview:
    text: str
    truncated: bool


def text_preview(storage: Storage, key: str, size: int) -> TextPreview:
    """The beginning of a text file (never a character cut in half)."""
    limit = int(current_app.config.get("DOCUMENT_TEXT_PREVIEW_BYTES", DEFAULT_TEXT_PREVIEW_BYTES))
    data = storage.read_head(key, limit)
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=False)
    return TextPreview(text.removeprefix("\ufeff"), truncated=size > limit)


def preview_kind(type_key: str) -> str:
    """``image``, ``pdf``, ``text`` or ``""`` (no preview) for a type, as configured."""
    kind = TYPES[type_key].preview if type_key in TYPES else ""
    if kind == "pdf" and not current_app.config.get("DOCUMENT_PDF_PREVIEW", True):
        return ""
    return kind
