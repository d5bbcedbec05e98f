"""Small valid (and invalid) files for the documents tests, built in code, and request helpers."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

from PIL import Image

from maillage.communities.documents.demo import minimal_pdf

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def fetch(client, path: str, **kwargs):
    """GET a file: the response is read and closed (send_file keeps the file open until then)."""
    response = client.get(path, **kwargs)
    response.get_data()
    response.close()
    return response


def upload(client, slug, name, data, content_type=None, token=None, **fields):
    """POST a file to the upload form of community ``slug``."""
    file = (io.BytesIO(data), name, content_type) if content_type else (io.BytesIO(data), name)
    response = client.post(
        f"/c/{slug}/documents/deposer",
        data={"csrf_token": token or csrf(client), "file": file, "folder": "", **fields},
        content_type="multipart/form-data",
    )
    return closed_request(response)


def closed_request(response):
    """Close the request body the test client built (spooled to a temporary file past 500 KB)."""
    response.request.environ["wsgi.input"].close()
    return response


def new_version(client, slug, document_id, name, data, comment="", token=None):
    response = client.post(
        f"/c/{slug}/documents/{document_id}/versions/nouvelle",
        data={
            "csrf_token": token or csrf(client),
            "file": (io.BytesIO(data), name),
            "comment": comment,
        },
        content_type="multipart/form-data",
    )
    return closed_request(response)


def pdf(text: str = "Compte rendu") -> bytes:
    return minimal_pdf([text])


def image(fmt: str = "PNG", size=(40, 30), color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


OOXML_MAIN = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}


def ooxml(kind: str = "docx", main_type: str | None = None, extra: dict | None = None) -> bytes:
    part, suffix = OOXML_MAIN[kind]
    content_type = main_type or f"application/vnd.openxmlformats-officedocument.{suffix}"
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr(part, "<document/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def odf(kind: str = "text") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), f"application/vnd.oasis.opendocument.{kind}"
        )  # stored, first, as ODF requires
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def zip_bomb_docx(uncompressed: int = 50 * 1024 * 1024) -> bytes:
    """A .docx whose type entry inflates to ``uncompressed`` bytes (about 50 KB on disk)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("[Content_Types].xml", "w", force_zip64=False) as entry,
    ):
        block = b" " * (1024 * 1024)
        for _ in range(uncompressed // len(block)):
            entry.write(block)
    return out.getvalue()


def lying_zip_docx() -> bytes:
    """A .docx whose type entry declares 100 bytes but inflates to 10 MB."""
    data = bytearray(zip_bomb_docx(10 * 1024 * 1024))
    # Patch the uncompressed size in the local header and the central directory.
    real = struct.pack("<I", 10 * 1024 * 1024)
    for marker in (b"PK\x03\x04", b"PK\x01\x02"):
        start = data.find(marker)
        offset = start + (22 if marker == b"PK\x03\x04" else 24)
        assert data[offset : offset + 4] == real
        data[offset : offset + 4] = struct.pack("<I", 100)
    return bytes(data)
