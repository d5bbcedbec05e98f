"""Documents over HTTP: the member's journey (folders, upload, versions, restore, download,
previews), who may do what, secret and private communities, the module switched off, listings
with a bounded number of queries, search, signals and the demo."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest
from PIL import Image
from sqlalchemy import func, select

from maillage.communities import signals
from maillage.communities.community.operations import set_modules, update_settings
from maillage.communities.documents.models import Document, DocumentFolder, DocumentVersion
from maillage.communities.documents.operations import (
    add_version,
    create_folder,
    upload_document,
)
from maillage.communities.documents.uploads import Upload
from maillage.platform.extensions import db
from maillage.platform.search.backend import PUBLIC, community_audience, get_backend
from maillage.platform.storage import get_storage
from tests.communities.test_documents_support import (
    csrf,
    fetch,
    image,
    new_version,
    pdf,
    upload,
)


def count(model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def only(model):
    return db.session.scalars(select(model)).one()


@pytest.fixture
def people(create_user):
    return {
        name: create_user(name)
        for name in ("olga", "marc", "mona", "gaston", "oscar", "fanny", "nina")
    }


@pytest.fixture
def public(create_community, people):
    return create_community(
        "Achats publics",
        slug="achats",
        owner=people["olga"],
        members=[
            people["marc"],
            people["nina"],
            (people["mona"], "moderator"),
            (people["gaston"], "guest"),
            (people["fanny"], "facilitator"),
        ],
    )


def add_document(community, author, name="note.txt", data=b"Bonjour", **kwargs):
    document = upload_document(community, author, Upload(name, io.BytesIO(data)), **kwargs)
    db.session.commit()
    return document


# -- the journey -------------------------------------------------------------------------------


def test_member_files_a_document_in_a_folder_then_versions_and_restores_it(
    client, login_as, people, public
):
    login_as(people["marc"])
    token = csrf(client)
    page = client.get("/c/achats/documents").get_data(as_text=True)
    assert "<h1>Documents de « Achats publics »</h1>" in page
    assert "Aucun document pour l'instant." in page
    assert 'href="/c/achats/documents/deposer"' in page

    created = client.post(
        "/c/achats/documents/dossiers/nouveau",
        data={"csrf_token": token, "name": " Comptes  rendus "},
    )
    folder = only(DocumentFolder)
    assert created.status_code == 303
    assert created.headers["Location"] == f"/c/achats/documents/dossiers/{folder.id}"
    assert folder.name == "Comptes rendus"

    form = client.get(f"/c/achats/documents/deposer?dossier={folder.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    assert f'<option selected value="{folder.id}">Comptes rendus</option>' in form
    assert "Taille maximale : 25 Mo" in form

    sent = upload(
        client,
        "achats",
        "CR réunion de mars.pdf",
        pdf("Compte rendu de mars"),
        "application/pdf",
        token=token,
        folder=str(folder.id),
        description="Relevé de décisions.",
    )
    document = only(Document)
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/c/achats/documents/{document.id}"
    assert document.title == "CR réunion de mars"
    assert document.folder_id == folder.id
    assert document.uploader_id == people["marc"].id
    assert document.ap_id == f"https://maillage.test/c/achats/documents/{document.id}"
    assert document.local is True
    first = document.current_version
    assert (first.number, first.file_name, first.mime_type) == (
        1,
        "CR réunion de mars.pdf",
        "application/pdf",
    )
    assert first.size == len(pdf("Compte rendu de mars"))
    assert get_storage().exists(first.storage_key)

    shown = client.get(f"/c/achats/documents/{document.id}").get_data(as_text=True)
    assert "<h1>CR réunion de mars</h1>" in shown
    assert "Le document « CR réunion de mars » est déposé." in shown
    assert "Relevé de décisions." in shown
    assert (
        f'<iframe class="document-pdf" src="/c/achats/documents/{document.id}/versions/1/apercu"'
        in shown
    )
    assert first.sha256 in shown

    revised = new_version(
        client, "achats", document.id, "cr-mars-v2.pdf", pdf("Version corrigée"), "Coquilles", token
    )
    assert revised.status_code == 303
    db.session.expire_all()
    assert document.current_version.number == 2
    assert document.current_version.comment == "Coquilles"
    assert document.version_count == 2

    confirm = client.get(f"/c/achats/documents/{document.id}/versions/1/restaurer")
    assert "Restaurer la version 1 ?" in confirm.get_data(as_text=True)
    restored = client.post(
        f"/c/achats/documents/{document.id}/versions/1/restaurer", data={"csrf_token": token}
    )
    assert restored.status_code == 303
    db.session.expire_all()
    versions = db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.number)).all()
    assert [v.number for v in versions] == [1, 2, 3]
    assert versions[2].restored_from == 1
    assert versions[2].sha256 == versions[0].sha256
    assert versions[2].storage_key != versions[0].storage_key  # a copy: each version owns its file
    assert document.current_version_id == versions[2].id
    history = client.get(f"/c/achats/documents/{document.id}").get_data(as_text=True)
    assert "La version 1 est restaurée : elle devient la version 3." in history
    assert "Restauration de la version 1." in history
    assert history.count('class="version-item"') == 3

    old = fetch(client, f"/c/achats/documents/{document.id}/versions/2/telecharger")
    assert old.status_code == 200
    assert old.data == pdf("Version corrigée")


def test_downloads_are_attachments_with_safe_headers(client, login_as, people, public):
    document = add_document(public, people["marc"], "Budget été 2026.csv", b"a;b\n1;2\n")
    response = fetch(client, f"/c/achats/documents/{document.id}/versions/1/telecharger")
    assert response.status_code == 200
    assert response.data == b"a;b\n1;2\n"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Budget ete 2026.csv"; ')
    assert disposition.endswith("filename*=UTF-8''" + quote("Budget été 2026.csv"))
    etag = response.headers["ETag"]
    again = fetch(
        client,
        f"/c/achats/documents/{document.id}/versions/1/telecharger",
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304


def test_previews_image_thumbnail_without_metadata_text_escaped(client, people, public):
    exif = Image.Exif()
    exif[0x010F] = "Appareil secret"  # Make
    exif[0x0132] = "2026:01:01 10:00:00"
    photo = add_document(
        public, people["marc"], "photo.jpg", image("JPEG", (2000, 1500), exif=exif.tobytes())
    )
    version = photo.current_version
    assert version.preview_status == "ready"
    shown = client.get(f"/c/achats/documents/{photo.id}").get_data(as_text=True)
    assert f'src="/c/achats/documents/{photo.id}/versions/1/apercu"' in shown
    thumb = fetch(client, f"/c/achats/documents/{photo.id}/versions/1/apercu")
    assert thumb.status_code == 200
    assert thumb.headers["Content-Type"] == "image/jpeg"
    assert thumb.headers["Content-Disposition"].startswith("inline; ")
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    assert b"Appareil secret" not in thumb.data
    with Image.open(io.BytesIO(thumb.data)) as decoded:
        assert max(decoded.size) <= 960
        assert not decoded.getexif()
    assert b"Appareil secret" in get_storage().read_head(version.storage_key, 100_000)

    note = add_document(
        public, people["marc"], "lisez-moi.md", b"# Titre\n<script>alert(1)</script>\n"
    )
    shown = client.get(f"/c/achats/documents/{note.id}").get_data(as_text=True)
    assert "<pre># Titre\n&lt;script&gt;alert(1)&lt;/script&gt;\n</pre>" in shown
    assert "<script>alert(1)</script>" not in shown
    assert fetch(client, f"/c/achats/documents/{note.id}/versions/1/apercu").status_code == 404


def test_pdf_preview_is_inline_and_framable_only_by_our_pages(client, people, public):
    document = add_document(public, people["marc"], "rapport.pdf", pdf())
    response = fetch(client, f"/c/achats/documents/{document.id}/versions/1/apercu")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('inline; filename="rapport.pdf"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox; default-src 'none'; frame-ancestors 'self'")
    assert response.data == pdf()


def test_pdf_preview_can_be_switched_off(client, app, people, public):
    app.config["DOCUMENT_PDF_PREVIEW"] = False
    document = add_document(public, people["marc"], "rapport.pdf", pdf())
    shown = client.get(f"/c/achats/documents/{document.id}").get_data(as_text=True)
    assert "<iframe" not in shown
    assert "Pas d’aperçu pour ce type de fichier" in shown
    assert fetch(client, f"/c/achats/documents/{document.id}/versions/1/apercu").status_code == 404


def test_long_text_preview_shows_the_beginning(client, people, public, app):
    app.config["DOCUMENT_TEXT_PREVIEW_BYTES"] = 1000
    document = add_document(public, people["marc"], "long.txt", ("é" * 2000).encode())
    shown = client.get(f"/c/achats/documents/{document.id}").get_data(as_text=True)
    assert "é" * 500 in shown
    assert "é" * 501 not in shown
    assert "Seul le début du fichier est affiché" in shown


# -- folders -----------------------------------------------------------------------------------


def test_folders_nest_rename_refuse_duplicates_and_delete_only_when_empty(
    client, login_as, people, public
):
    login_as(people["marc"])
    token = csrf(client)
    client.post(
        "/c/achats/documents/dossiers/nouveau", data={"csrf_token": token, "name": "Guides"}
    )
    guides = only(DocumentFolder)
    client.post(
        f"/c/achats/documents/dossiers/nouveau?parent={guides.id}",
        data={"csrf_token": token, "name": "Marchés"},
    )
    markets = db.session.scalar(select(DocumentFolder).where(DocumentFolder.name == "Marchés"))
    assert markets.parent_id == guides.id

    duplicate = client.post(
        "/c/achats/documents/dossiers/nouveau", data={"csrf_token": token, "name": "guides"}
    )
    assert duplicate.status_code == 400
    assert "Un dossier « guides » existe déjà à cet endroit." in duplicate.get_data(as_text=True)
    empty = client.post(
        "/c/achats/documents/dossiers/nouveau", data={"csrf_token": token, "name": "   "}
    )
    assert empty.status_code == 400
    assert "Le nom du dossier est obligatoire." in empty.get_data(as_text=True)
    assert 'aria-invalid="true"' in empty.get_data(as_text=True)
    assert count(DocumentFolder) == 2

    page = client.get(f"/c/achats/documents/dossiers/{markets.id}").get_data(as_text=True)
    assert "<h1>Marchés</h1>" in page
    crumbs = re.search(r'<nav class="breadcrumb".*?</nav>', page, re.S).group(0)
    assert 'href="/c/achats/documents">Documents</a>' in crumbs
    assert f'href="/c/achats/documents/dossiers/{guides.id}">Guides</a>' in crumbs
    assert '<li aria-current="page">Marchés</li>' in crumbs

    renamed = client.post(
        f"/c/achats/documents/dossiers/{markets.id}/renommer",
        data={"csrf_token": token, "name": "Marchés publics"},
    )
    assert renamed.status_code == 303
    db.session.expire_all()
    assert markets.name == "Marchés publics"

    refused = client.post(
        f"/c/achats/documents/dossiers/{guides.id}/supprimer",
        data={"confirmed": "1", "csrf_token": token},
    )
    assert refused.status_code == 409
    assert "Le dossier « Guides » n&#39;est pas vide" in refused.get_data(as_text=True)
    client.post(
        f"/c/achats/documents/dossiers/{markets.id}/supprimer",
        data={"confirmed": "1", "csrf_token": token},
    )
    deleted = client.post(
        f"/c/achats/documents/dossiers/{guides.id}/supprimer",
        data={"confirmed": "1", "csrf_token": token},
    )
    assert deleted.status_code == 303
    assert deleted.headers["Location"] == "/c/achats/documents"
    assert count(DocumentFolder) == 0


def test_moving_a_document_to_another_folder(client, login_as, people, public):
    archive = create_folder(public, people["marc"], "Archives")
    db.session.commit()
    document = add_document(public, people["marc"])
    login_as(people["marc"])
    token = csrf(client)
    edit = client.get(f"/c/achats/documents/{document.id}/modifier").get_data(as_text=True)
    assert f'<option value="{archive.id}">Archives</option>' in edit
    moved = client.post(
        f"/c/achats/documents/{document.id}/modifier",
        data={
            "csrf_token": token,
            "title": "Note déplacée",
            "description": "",
            "folder": str(archive.id),
        },
    )
    assert moved.status_code == 303
    db.session.expire_all()
    assert (document.title, document.folder_id) == ("Note déplacée", archive.id)
    folder_page = client.get(f"/c/achats/documents/dossiers/{archive.id}").get_data(as_text=True)
    assert "Note déplacée" in folder_page
    root = client.get("/c/achats/documents").get_data(as_text=True)
    assert "Note déplacée" not in root
    assert "(1 document)" in root

    bad = client.post(
        f"/c/achats/documents/{document.id}/modifier",
        data={"csrf_token": token, "title": "X", "folder": "999999"},
    )
    assert bad.status_code == 400
    db.session.expire_all()
    assert document.folder_id == archive.id


def test_folders_of_another_community_are_not_reachable(
    client, login_as, people, public, create_community
):
    other = create_community("Autre", slug="autre", owner=people["marc"])
    elsewhere = create_folder(other, people["marc"], "Ailleurs")
    db.session.commit()
    login_as(people["marc"])
    assert client.get(f"/c/achats/documents/dossiers/{elsewhere.id}").status_code == 404
    sent = upload(client, "achats", "a.txt", b"x", folder=str(elsewhere.id))
    assert sent.status_code == 400
    assert count(Document) == 0


# -- permissions -------------------------------------------------------------------------------


def test_who_may_do_what(client, login_as, people, public):
    document = add_document(public, people["marc"])
    path = f"/c/achats/documents/{document.id}"

    login_as(people["gaston"])  # a guest reads but never writes
    token = csrf(client)
    assert fetch(client, path).status_code == 200
    assert fetch(client, f"{path}/versions/1/telecharger").status_code == 200
    assert "Déposer un document" not in client.get("/c/achats/documents").get_data(as_text=True)
    assert client.get("/c/achats/documents/deposer").status_code == 403
    assert upload(client, "achats", "a.txt", b"x", token=token).status_code == 403
    assert new_version(client, "achats", document.id, "b.txt", b"y", token=token).status_code == 403
    assert (
        client.post(f"{path}/supprimer", data={"confirmed": "1", "csrf_token": token}).status_code
        == 403
    )

    login_as(people["nina"])  # another member: reads, uploads her own, not others'
    token = csrf(client)
    page = fetch(client, path).get_data(as_text=True)
    assert "Déposer une nouvelle version" not in page
    assert "/supprimer" not in page
    assert client.get(f"{path}/modifier").status_code == 403
    assert (
        client.post(f"{path}/versions/1/restaurer", data={"csrf_token": token}).status_code == 403
    )
    assert (
        client.post(f"{path}/supprimer", data={"confirmed": "1", "csrf_token": token}).status_code
        == 403
    )

    login_as(people["fanny"])  # a facilitator edits and adds versions, may not delete? she may:
    token = csrf(client)
    assert (
        new_version(client, "achats", document.id, "b.txt", b"v2", token=token).status_code == 303
    )

    login_as(people["mona"])  # a moderator deletes
    token = csrf(client)
    page = fetch(client, path).get_data(as_text=True)
    assert "Déposer une nouvelle version" in page
    deleted = client.post(f"{path}/supprimer", data={"confirmed": "1", "csrf_token": token})
    assert deleted.status_code == 303
    assert count(Document) == 0
    assert count(DocumentVersion) == 0

    login_as(None)  # anonymous: read-only, invited to sign in
    page = client.get("/c/achats/documents").get_data(as_text=True)
    assert "Connectez-vous" in page
    assert client.get("/c/achats/documents/deposer").status_code == 302


def test_uploader_deletes_their_own_document_and_its_files(client, login_as, people, public):
    document = add_document(public, people["marc"], "a.png", image())
    keys = [document.current_version.storage_key, document.current_version.preview_key]
    assert all(get_storage().exists(key) for key in keys)
    login_as(people["marc"])
    confirm = client.get(f"/c/achats/documents/{document.id}/supprimer").get_data(as_text=True)
    assert "Supprimer le document « a » ?" in confirm
    client.post(
        f"/c/achats/documents/{document.id}/supprimer",
        data={"confirmed": "1", "csrf_token": csrf(client)},
    )
    assert count(Document) == 0
    assert not any(get_storage().exists(key) for key in keys)


def test_secret_community_documents_are_404_to_outsiders(
    client, login_as, people, create_community
):
    secret = create_community("Cellule", slug="cellule", owner=people["olga"], visibility="secret")
    document = add_document(secret, people["olga"], "plan.pdf", pdf())
    folder = create_folder(secret, people["olga"], "Plans")
    db.session.commit()
    base = f"/c/{secret.slug}/documents"
    paths = [
        base,
        f"{base}/dossiers/{folder.id}",
        f"{base}/deposer",
        f"{base}/{document.id}",
        f"{base}/{document.id}/versions/1/telecharger",
        f"{base}/{document.id}/versions/1/apercu",
        f"{base}/{document.id}/modifier",
    ]
    login_as(people["oscar"])
    for path in paths:
        assert fetch(client, path).status_code == 404, path
    login_as(None)  # anonymous: the forms ask to sign in first, as for any address
    for path in paths:
        expected = 302 if path.endswith(("/deposer", "/modifier")) else 404
        assert fetch(client, path).status_code == expected, path
    assert fetch(client, "/c/inconnue/documents/deposer").status_code == 302
    login_as(people["olga"])
    assert client.get(f"{base}/{document.id}").status_code == 200
    assert fetch(client, f"{base}/{document.id}/versions/1/apercu").status_code == 200


def test_private_community_documents_are_for_members(client, login_as, people, create_community):
    private = create_community(
        "Privée",
        slug="privee",
        owner=people["olga"],
        visibility="private",
        members=[people["marc"]],
    )
    document = add_document(private, people["olga"], "plan.pdf", pdf())
    login_as(people["oscar"])
    listing = client.get("/c/privee/documents")
    assert listing.status_code == 403
    assert "réservés à ses membres" in listing.get_data(as_text=True)
    assert client.get(f"/c/privee/documents/{document.id}").status_code == 404
    assert (
        fetch(client, f"/c/privee/documents/{document.id}/versions/1/telecharger").status_code
        == 404
    )
    login_as(people["marc"])
    assert (
        fetch(client, f"/c/privee/documents/{document.id}/versions/1/telecharger").status_code
        == 200
    )


def test_a_document_is_only_reachable_through_its_own_community(
    client, people, public, create_community
):
    create_community("Autre", slug="autre", owner=people["oscar"])
    document = add_document(public, people["marc"])
    assert client.get(f"/c/autre/documents/{document.id}").status_code == 404
    assert (
        fetch(client, f"/c/autre/documents/{document.id}/versions/1/telecharger").status_code == 404
    )


def test_unknown_ids_are_404(client, login_as, people, public):
    document = add_document(public, people["marc"])
    login_as(people["marc"])
    for path in (
        "/c/achats/documents/999999",
        "/c/achats/documents/dossiers/999999",
        f"/c/achats/documents/{document.id}/versions/7/telecharger",
        f"/c/achats/documents/{document.id}/versions/7/apercu",
        f"/c/achats/documents/{document.id}/versions/7/restaurer",
        "/c/inconnue/documents",
    ):
        response = fetch(client, path)
        assert response.status_code == 404, path
        assert "La page demandée n'existe pas" in response.get_data(as_text=True)


def test_module_switched_off_is_404_everywhere(client, login_as, people, public):
    document = add_document(public, people["marc"])
    set_modules(public, people["olga"], ["posts"])
    db.session.commit()
    login_as(people["marc"])
    for path in (
        "/c/achats/documents",
        "/c/achats/documents/deposer",
        f"/c/achats/documents/{document.id}",
        f"/c/achats/documents/{document.id}/versions/1/telecharger",
    ):
        assert fetch(client, path).status_code == 404, path
    assert upload(client, "achats", "a.txt", b"x").status_code == 404
    assert count(Document) == 1
    community_page = client.get("/c/achats").get_data(as_text=True)
    assert "/c/achats/documents" not in community_page


# -- listing -----------------------------------------------------------------------------------


def test_folder_page_is_paginated_with_a_bounded_number_of_queries(
    client, app, login_as, people, public, count_queries
):
    app.config["DOCUMENTS_PAGE_SIZE"] = 5
    for number in range(12):
        author = people["marc"] if number % 2 else people["nina"]
        add_document(public, author, f"note-{number:02d}.txt", f"Note {number}".encode())
    for name in ("Guides", "Archives"):
        create_folder(public, people["marc"], name)
    db.session.commit()
    login_as(people["nina"])
    client.get("/c/achats/documents")  # today's visits are recorded once (analytics)

    with count_queries() as queries:
        first = client.get("/c/achats/documents")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert html.count('class="document-item"') == 5
    assert "note-00" in html
    assert "note-04" in html
    assert "note-05" not in html
    assert "Page 1 sur 3" in html
    assert 'href="/c/achats/documents?page=2"' in html
    assert html.index("Archives") < html.index("Guides")

    with count_queries() as more:
        last = client.get("/c/achats/documents?page=3").get_data(as_text=True)
    assert last.count('class="document-item"') == 2
    assert len(more) == len(queries) <= 8


def test_document_page_queries_do_not_grow_with_its_history(
    client, login_as, people, public, count_queries
):
    document = add_document(public, people["marc"], "suivi.csv", b"a;b\n")
    login_as(people["marc"])
    path = f"/c/achats/documents/{document.id}"
    client.get(path)  # today's visits are recorded once (analytics)
    with count_queries() as short:
        assert client.get(path).status_code == 200
    for number in range(6):
        author = people["marc"] if number % 2 else people["mona"]
        add_version(document, author, Upload("suivi.csv", io.BytesIO(b"a;b\n%d\n" % number)))
        db.session.commit()
    with count_queries() as long:
        page = client.get(path).get_data(as_text=True)
    assert page.count('class="version-item"') == 7
    assert len(long) == len(short) <= 11  # with the reading recorded for analytics


# -- search, signals ---------------------------------------------------------------------------


def test_documents_are_found_by_title_file_name_and_text_content(
    client, login_as, people, public, create_community
):
    document = add_document(
        public,
        people["marc"],
        "procedure-astreinte.txt",
        "Le numéro d'astreinte hivernale change chaque semaine.".encode(),
        title="Procédure",
        description="Pour les agents de permanence.",
    )
    page = client.get("/search", query_string={"q": "hivernale"}).get_data(as_text=True)
    assert f'href="/c/achats/documents/{document.id}"' in page
    hits = {(hit.kind, hit.object_id) for hit in get_backend().search("astreinte", {PUBLIC}).hits}
    assert ("document", document.id) in hits

    secret = create_community("Cellule", slug="cellule", owner=people["olga"], visibility="secret")
    hidden = add_document(secret, people["olga"], "plan-crue.txt", b"Plan de crue confidentiel")
    assert ("document", hidden.id) not in {
        (h.kind, h.object_id) for h in get_backend().search("crue", {PUBLIC}).hits
    }
    assert ("document", hidden.id) in {
        (h.kind, h.object_id)
        for h in get_backend().search("crue", {community_audience(secret.id)}).hits
    }
    login_as(people["oscar"])
    assert "plan-crue" not in client.get("/search?q=crue").get_data(as_text=True)

    login_as(people["marc"])
    document_id = document.id
    client.post(
        f"/c/achats/documents/{document_id}/supprimer",
        data={"confirmed": "1", "csrf_token": csrf(client)},
    )
    assert ("document", document_id) not in {
        (h.kind, h.object_id) for h in get_backend().search("hivernale", {PUBLIC}).hits
    }


def test_a_community_made_private_takes_its_documents_out_of_public_search(people, public):
    document = add_document(public, people["marc"], "budget.txt", b"Budget participatif")
    assert ("document", document.id) in {
        (h.kind, h.object_id) for h in get_backend().search("participatif", {PUBLIC}).hits
    }
    update_settings(public, people["olga"], public.name, "", "private", "open", [])
    db.session.commit()
    assert ("document", document.id) not in {
        (h.kind, h.object_id) for h in get_backend().search("participatif", {PUBLIC}).hits
    }
    members = {community_audience(public.id)}
    assert ("document", document.id) in {
        (h.kind, h.object_id) for h in get_backend().search("participatif", members).hits
    }


def test_signals_and_notification_for_a_new_document(client, login_as, people, public):
    created, updated, notified = [], [], []

    def on_created(sender, **kwargs):
        created.append((sender, kwargs))

    def on_updated(sender, **kwargs):
        updated.append(sender)

    def on_notify(sender, **kwargs):
        notified.append((sender, kwargs))

    signals.content_created.connect(on_created)
    signals.content_updated.connect(on_updated)
    signals.notification_requested.connect(on_notify)
    try:
        login_as(people["marc"])
        upload(client, "achats", "ordre-du-jour.md", b"# Ordre du jour")
        document = only(Document)
        new_version(client, "achats", document.id, "ordre-du-jour.md", b"# v2")
    finally:
        signals.content_created.disconnect(on_created)
        signals.content_updated.disconnect(on_updated)
        signals.notification_requested.disconnect(on_notify)
    assert [(type(s).__name__, k["community"].id, k["actor"].id) for s, k in created] == [
        ("Document", public.id, people["marc"].id)
    ]
    assert [type(sender).__name__ for sender in updated] == ["Document"]
    ((_sender, kwargs),) = [item for item in notified if isinstance(item[0], Document)]
    assert kwargs["reason"] == "new_content"
    assert kwargs["url"] == f"/c/achats/documents/{document.id}"
    assert kwargs["title"] == "ordre-du-jour"
    assert kwargs["recipients"] is None
    assert kwargs["actor"].id == people["marc"].id


# -- demo --------------------------------------------------------------------------------------


def test_demo_documents(app, client):
    from maillage.communities.demo import load_demo

    load_demo()
    calendar = db.session.scalar(select(Document).where(Document.title.like("Calendrier%")))
    assert calendar.version_count == 2
    assert count(DocumentFolder) >= 3
    assert {v.type_key for v in db.session.scalars(select(DocumentVersion))} >= {
        "md",
        "csv",
        "png",
        "pdf",
    }
    for version in db.session.scalars(select(DocumentVersion)):
        assert get_storage().exists(version.storage_key)
    png = db.session.scalar(select(DocumentVersion).where(DocumentVersion.type_key == "png"))
    assert png.preview_status == "ready"
    page = client.get(f"/c/acheteurs-publics/documents/{calendar.id}").get_data(as_text=True)
    assert "Ajout de la réunion de bilan du 3 décembre" in page
    assert "2026-12-03;Bilan de l&#39;année" in page
