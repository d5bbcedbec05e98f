"""Bad input on uploads: every refusal is a clear French message (400, or 413 for an oversized
request) and leaves nothing behind — no row, no stored file, no temporary file — even when the
database transaction fails after the file was stored."""

from __future__ import annotations

import io
import os
import time
import zipfile
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from maillage.communities import signals
from maillage.communities.documents.filenames import clean_filename, content_disposition
from maillage.communities.documents.models import Document, DocumentVersion
from maillage.communities.documents.operations import delete_document, upload_document
from maillage.communities.documents.uploads import Upload
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.storage import LocalStorage, UnknownKey, get_storage
from tests.communities.test_documents_support import (
    csrf,
    fetch,
    image,
    lying_zip_docx,
    odf,
    ooxml,
    pdf,
    png_declaring,
    upload,
    zip_bomb_docx,
)


@pytest.fixture
def member(create_user):
    return create_user("marc")


@pytest.fixture
def community(create_community, member):
    return create_community("Achats publics", slug="achats", members=[member])


@pytest.fixture
def signed_in(client, login_as, member, community):
    login_as(member)
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def stored_files(app) -> list[Path]:
    root = Path(app.instance_path) / "files"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def assert_nothing_stored(app) -> None:
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    assert db.session.scalar(select(func.count()).select_from(DocumentVersion)) == 0
    assert stored_files(app) == []


def refused(client, name, data, content_type=None, status=400, **fields) -> str:
    response = upload(client, "achats", name, data, content_type, **fields)
    assert response.status_code == status, text(response)
    page = text(response)
    assert 'role="alert"' in page
    return page


# -- content against extension -----------------------------------------------------------------


def test_a_png_named_pdf_is_refused(app, signed_in):
    page = refused(signed_in, "rapport.pdf", image())
    assert (
        "Le contenu de « rapport.pdf » ne correspond pas à son extension : "
        "c'est une image PNG, pas un document PDF." in page
    )
    assert_nothing_stored(app)


def test_a_type_declared_by_the_browser_that_contradicts_the_content_is_refused(app, signed_in):
    page = refused(signed_in, "rapport.pdf", pdf(), "image/png")
    assert (
        "Le type annoncé pour « rapport.pdf » (image/png) ne correspond pas à son contenu "
        "(un document PDF)." in page
    )
    assert_nothing_stored(app)
    # Generic declarations and the aliases browsers really send are fine.
    assert (
        upload(signed_in, "achats", "a.pdf", pdf(), "application/octet-stream").status_code == 303
    )
    assert (
        upload(signed_in, "achats", "b.csv", b"a;b\n", "application/vnd.ms-excel").status_code
        == 303
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("dessin.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        (
            "dessin.txt",
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        ),
        ("dessin.svgz", b"\x1f\x8b\x08\x00"),
    ],
)
def test_svg_is_refused_whatever_its_name(app, signed_in, name, data):
    page = refused(signed_in, name, data)
    assert "Les images SVG ne sont pas acceptées : elles peuvent contenir des scripts." in page
    assert_nothing_stored(app)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("vide.pdf", b"", "Le fichier « vide.pdf » est vide."),
        ("programme.exe", b"MZ\x90\x00", "Les fichiers « .exe » ne sont pas acceptés."),
        ("page.html", b"<html><script>", "Les fichiers « .html » ne sont pas acceptés."),
        ("sans-extension", b"abc", "Le nom du fichier « sans-extension » n'a pas d'extension."),
        ("faux.pdf", b"%PD" + b"x" * 100, "c'est du texte, pas un document PDF."),
        ("faux.png", b"\x89PNX" + bytes(range(256)), "« faux.png » n'est pas une image PNG valide"),
        ("notes.txt", "Café crème".encode("latin-1"), "n'est pas un fichier texte en UTF-8"),
        ("binaire.txt", b"abc\x00def", "n'est pas un fichier texte en UTF-8"),
        ("export.csv", b"a;b\x1b[31m\n", "n'est pas un fichier texte en UTF-8"),
        ("photo.jpg", image("GIF"), "c'est une image GIF, pas une image JPEG."),
        ("texte.odt", ooxml("docx"), "c'est un document Word (.docx), pas un texte OpenDocument"),
        ("tableau.xlsx", odf("spreadsheet"), "c'est un classeur OpenDocument (.ods), pas un"),
        ("vrai.docx", b"PK\x03\x04" + b"\x00" * 200, "n'est pas un document Word (.docx) valide"),
    ],
)
def test_bad_files_get_a_clear_message_and_nothing_is_kept(app, signed_in, name, data, message):
    page = refused(signed_in, name, data)
    assert message in page
    assert_nothing_stored(app)


def test_office_documents_with_macros_are_refused(app, signed_in):
    macro_type = "application/vnd.ms-word.document.macroEnabled.main+xml"
    page = refused(signed_in, "lettre.docx", ooxml("docx", main_type=macro_type))
    assert "« lettre.docx » contient des macros, qui ne sont pas acceptées." in page
    page = refused(
        signed_in, "calcul.xlsx", ooxml("xlsx", extra={"xl/vbaProject.bin": b"\x00" * 10})
    )
    assert "contient des macros" in page
    assert_nothing_stored(app)


def test_zip_bombs_are_never_inflated(app, signed_in, monkeypatch):
    bomb, liar = zip_bomb_docx(), lying_zip_docx()
    assert len(bomb) < 200_000  # 50 MB once inflated
    inflated = []
    original_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = original_read(self, n)
        inflated.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    page = refused(signed_in, "bombe.docx", bomb)
    assert "n'est pas un document Word (.docx) valide" in page
    assert sum(inflated) == 0  # its declared size is over the cap: not even opened
    page = refused(signed_in, "menteur.docx", liar)
    assert "n'est pas un document Word (.docx) valide" in page
    assert sum(inflated) <= 256 * 1024 + 1  # read up to the cap, never the 10 MB
    assert_nothing_stored(app)


@pytest.mark.parametrize(
    ("name", "data", "type_key", "mime"),
    [
        ("compte-rendu.docx", ooxml("docx"), "docx", "wordprocessingml.document"),
        ("budget.xlsx", ooxml("xlsx"), "xlsx", "spreadsheetml.sheet"),
        ("support.pptx", ooxml("pptx"), "pptx", "presentationml.presentation"),
        ("note.odt", odf("text"), "odt", "opendocument.text"),
        ("tableau.ods", odf("spreadsheet"), "ods", "opendocument.spreadsheet"),
        ("diapos.odp", odf("presentation"), "odp", "opendocument.presentation"),
        ("photo.JPEG", image("JPEG"), "jpeg", "image/jpeg"),
        ("anim.gif", image("GIF"), "gif", "image/gif"),
        ("img.webp", image("WEBP"), "webp", "image/webp"),
        ("lisez-moi.markdown", "\ufeff# Été\n".encode(), "md", "text/markdown"),
    ],
)
def test_every_accepted_type_is_recognised(app, signed_in, name, data, type_key, mime):
    response = upload(signed_in, "achats", name, data)
    assert response.status_code == 303, text(response)
    version = db.session.scalars(select(DocumentVersion)).one()
    assert version.type_key == type_key
    assert mime in version.mime_type


def test_allowed_types_are_configurable(app, signed_in):
    app.config["DOCUMENT_ALLOWED_TYPES"] = ["pdf"]
    page = refused(signed_in, "photo.png", image())
    assert "Les fichiers « .png » ne sont pas acceptés. Formats acceptés : .pdf." in page
    assert_nothing_stored(app)


# -- names -------------------------------------------------------------------------------------


def test_path_traversal_names_are_only_labels(app, signed_in):
    response = upload(signed_in, "achats", "../../etc/passwd.txt", b"root:x:0:0")
    assert response.status_code == 303
    response = upload(signed_in, "achats", "..\\..\\Windows\\win.ini.txt", b"[fonts]")
    assert response.status_code == 303
    names = set(db.session.scalars(select(DocumentVersion.file_name)))
    assert "passwd.txt" in names
    assert not any("/" in name or "\\" in name or ".." in name for name in names)
    root = Path(app.instance_path) / "files"
    for path in stored_files(app):
        assert path.resolve().is_relative_to(root.resolve())
        assert path.name not in names
    assert not (Path(app.instance_path).parent / "etc").exists()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\marc\\Bureau\\note.txt", "note.txt"),
        ("rapport\x00.pdf.txt", "rapport.pdf.txt"),
        ("ligne\r\nsuivante.txt", "lignesuivante.txt"),
        ("facture\u202efdp.txt", "facturefdp.txt"),  # a right-to-left override hides the type
        ('a<b>c:d"e|f?g*h;i.txt', "a_b_c_d_e_f_g_h_i.txt"),
        ("CON.txt", "_CON.txt"),
        ("nul.tar.txt", "_nul.tar.txt"),
        ("com1.pdf", "_com1.pdf"),
        ("   .hidden. . ", "hidden"),
        ("Cafe\u0301 crème.md", "Café crème.md"),
        ("..", ""),
        ("", ""),
    ],
)
def test_file_names_are_cleaned(raw, clean):
    assert clean_filename(raw) == clean


def test_very_long_names_keep_their_extension():
    cleaned = clean_filename("é" * 400 + ".pdf")
    assert len(cleaned) == 150
    assert cleaned.endswith("é.pdf")


def test_content_disposition_always_carries_the_real_name():
    header = content_disposition("attachment", 'Été "2026".pdf')
    assert header == (
        "attachment; filename=\"Ete _2026_.pdf\"; filename*=UTF-8''%C3%89t%C3%A9%20%222026%22.pdf"
    )


# -- sizes -------------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_with_the_limit(app, signed_in):
    app.config["DOCUMENT_MAX_SIZE"] = 2048
    page = refused(signed_in, "gros.txt", b"x" * 3000)
    assert "Le fichier « gros.txt » dépasse la taille maximale de 2 Ko." in page
    assert_nothing_stored(app)
    assert upload(signed_in, "achats", "petit.txt", b"x" * 2048).status_code == 303


def test_a_request_far_over_the_limit_is_a_413_with_a_clear_message(app, signed_in):
    app.config["DOCUMENT_MAX_SIZE"] = 2048
    page = refused(signed_in, "enorme.txt", b"x" * 300_000, status=413)
    assert "Le fichier dépasse la taille maximale de 2 Ko." in page
    assert 'enctype="multipart/form-data"' in page
    assert_nothing_stored(app)


def test_uploads_larger_than_the_global_request_limit_are_accepted(app, signed_in):
    data = b"y" * (app.config["MAX_CONTENT_LENGTH"] + 100_000)
    response = upload(signed_in, "achats", "grand.txt", data)
    assert response.status_code == 303
    assert db.session.scalars(select(DocumentVersion)).one().size == len(data)


def test_upload_without_csrf_token_is_refused(app, signed_in):
    response = signed_in.post(
        "/c/achats/documents/deposer",
        data={"file": (io.BytesIO(b"x"), "a.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "jeton de sécurité" in text(response)
    assert_nothing_stored(app)


def test_no_file_chosen(app, signed_in):
    response = signed_in.post(
        "/c/achats/documents/deposer",
        data={"csrf_token": csrf(signed_in), "title": "Sans fichier"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = text(response)
    assert "Choisissez un fichier à envoyer." in page
    assert 'aria-invalid="true"' in page
    assert_nothing_stored(app)


# -- images ------------------------------------------------------------------------------------


def test_a_decompression_bomb_is_stored_but_never_previewed(app, signed_in):
    bomb = png_declaring(100_000, 100_000)
    started = time.monotonic()
    response = upload(signed_in, "achats", "bombe.png", bomb)
    assert response.status_code == 303
    assert time.monotonic() - started < 5
    document = db.session.scalars(select(Document)).one()
    version = document.current_version
    assert (version.preview_status, version.preview_key) == ("too_large", None)
    page = text(signed_in.get(f"/c/achats/documents/{document.id}"))
    assert "Aperçu indisponible : l'image est trop grande pour être affichée sans risque." in page
    assert "/apercu" not in page
    preview = fetch(signed_in, f"/c/achats/documents/{document.id}/versions/1/apercu")
    assert preview.status_code == 404
    assert "Aperçu indisponible" in text(preview)
    download = fetch(signed_in, f"/c/achats/documents/{document.id}/versions/1/telecharger")
    assert download.data == bomb


def test_images_over_the_pixel_limit_say_their_size(app, signed_in):
    app.config["DOCUMENT_PREVIEW_MAX_PIXELS"] = 100
    upload(signed_in, "achats", "grande.png", image(size=(20, 30)))
    document = db.session.scalars(select(Document)).one()
    page = text(signed_in.get(f"/c/achats/documents/{document.id}"))
    assert "trop grande pour être affichée sans risque (20 × 30 pixels)" in page


def test_a_damaged_image_is_kept_without_preview(app, signed_in):
    broken = image()[:60]
    assert upload(signed_in, "achats", "abimee.png", broken).status_code == 303
    version = db.session.scalars(select(DocumentVersion)).one()
    assert version.preview_status == "unreadable"
    page = text(signed_in.get(f"/c/achats/documents/{version.document_id}"))
    assert "Aperçu indisponible : l'image n'a pas pu être lue." in page


# -- the database and the disk stay in step ----------------------------------------------------


def test_no_orphan_file_when_the_transaction_fails_after_storing(app, signed_in):
    def fail(sender, **_kwargs):
        if isinstance(sender, Document):
            raise RuntimeError("la base de données est tombée")

    signals.content_created.connect(fail)
    try:
        response = upload(signed_in, "achats", "photo.png", image())
    finally:
        signals.content_created.disconnect(fail)
    assert response.status_code == 500
    assert_nothing_stored(app)


def test_a_rolled_back_upload_leaves_no_file(app, member, community):
    upload_document(community, member, Upload("photo.png", io.BytesIO(image())))
    db.session.flush()
    assert len(stored_files(app)) == 2  # the image and its thumbnail
    db.session.rollback()
    assert stored_files(app) == []


def test_a_refused_operation_keeps_nothing(app, member, community):
    with pytest.raises(OperationError, match=r"Le titre fait 200 caractères au plus\."):
        upload_document(community, member, Upload("a.png", io.BytesIO(image())), title="x" * 201)
    db.session.rollback()
    assert_nothing_stored(app)


def test_files_of_a_deleted_document_go_only_once_the_deletion_commits(app, member, community):
    document = upload_document(community, member, Upload("a.txt", io.BytesIO(b"a")))
    db.session.commit()
    (kept,) = stored_files(app)
    delete_document(document, member)
    db.session.rollback()
    assert kept.exists()
    document = db.session.scalars(select(Document)).one()
    delete_document(document, member)
    assert kept.exists()
    db.session.commit()
    assert not kept.exists()


def test_storage_keys_are_never_paths(app):
    storage = get_storage()
    for key in ("../../etc/passwd", "/etc/passwd", "ab", "A" * 32, "0" * 31 + "/"):
        with pytest.raises(UnknownKey):
            storage.open(key)
        assert not storage.exists(key)


def test_stale_temporary_files_are_swept(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    storage.tmp.mkdir(parents=True)
    old, recent = storage.tmp / "old.part", storage.tmp / "recent.part"
    old.write_bytes(b"x")
    recent.write_bytes(b"y")
    past = time.time() - 3 * 86400
    os.utime(old, (past, past))
    assert storage.sweep_temporary(86400) == 1
    assert not old.exists()
    assert recent.exists()


def test_archives_with_thousands_of_entries_are_not_opened(app, signed_in):
    extra = {f"word/media/image{n}.xml": b"" for n in range(5001)}
    page = refused(signed_in, "immense.docx", ooxml("docx", extra=extra))
    assert "« immense.docx » contient trop de fichiers pour être vérifié." in page
    assert_nothing_stored(app)
