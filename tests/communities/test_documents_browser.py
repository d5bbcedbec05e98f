"""Documents in a real browser (Debian's chromium, CSRF enforced): the whole journey on a phone
with JavaScript switched off, the error summary, and accessibility of every page (axe-core)."""

from __future__ import annotations

import io

import pytest

from maillage.communities.documents.operations import create_folder, upload_document
from maillage.communities.documents.uploads import Upload
from maillage.platform.extensions import db
from tests.communities.test_documents_support import image, pdf
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config, tmp_path):
    # The live server has its own instance folder: both apps share one file store.
    return {**app_config, "FILES_PATH": str(tmp_path / "files")}


@pytest.fixture
def network(create_user, create_community):
    owner = create_user("camille", display_name="Camille Laurent")
    member = create_user("thomas", display_name="Thomas Girard")
    community = create_community(
        "Réseau des acheteurs", slug="acheteurs", owner=owner, members=[member]
    )
    guides = create_folder(community, owner, "Guides")
    documents = {
        "text": upload_document(
            community,
            owner,
            Upload("guide.md", io.BytesIO("# Guide\n\nLes **seuils** à connaître.".encode())),
            folder=guides,
            description="Pour bien débuter.",
        ),
        "image": upload_document(community, owner, Upload("schema.png", io.BytesIO(image()))),
        "pdf": upload_document(community, owner, Upload("modele.pdf", io.BytesIO(pdf()))),
    }
    db.session.commit()
    return community, guides, documents


@pytest.fixture
def no_script_phone(browser):
    context = browser.new_context(
        locale="fr-FR",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
    )
    yield context.new_page()
    context.close()


def test_upload_and_version_on_a_phone_without_javascript(no_script_phone, live_server, network):
    page = no_script_phone
    browser_sign_in(page, live_server, "thomas")
    page.goto(f"{live_server}/c/acheteurs/documents")
    page.get_by_role("link", name="Guides").click()
    page.get_by_role("link", name="Déposer un document").click()

    page.get_by_role("button", name="Déposer").click()  # nothing chosen: the error summary
    summary = page.locator(".error-summary[role=alert]")
    assert "Choisissez un fichier à envoyer." in summary.inner_text()
    assert page.get_by_label("Fichier").get_attribute("aria-invalid") == "true"
    assert page.title().startswith("Erreur")

    page.get_by_label("Fichier").set_input_files(
        files=[{"name": "rapport.pdf", "mimeType": "application/pdf", "buffer": image()}]
    )
    page.get_by_role("button", name="Déposer").click()
    assert "c'est une image PNG, pas un document PDF." in summary.inner_text()

    page.get_by_label("Fichier").set_input_files(
        files=[{"name": "compte-rendu.txt", "mimeType": "text/plain", "buffer": "Relevé".encode()}]
    )
    page.get_by_label("Titre (facultatif)").fill("Compte rendu de réunion")
    page.get_by_role("button", name="Déposer").click()
    assert page.locator("h1").inner_text() == "Compte rendu de réunion"
    assert page.get_by_role("region", name="Contenu du fichier « compte-rendu.txt »").is_visible()
    assert "Guides" in page.locator("nav.breadcrumb").inner_text()

    page.get_by_role("link", name="Déposer une nouvelle version").click()
    page.get_by_label("Nouveau fichier").set_input_files(
        files=[{"name": "compte-rendu.txt", "mimeType": "text/plain", "buffer": b"Releve v2"}]
    )
    page.get_by_label("Ce qui change (facultatif)").fill("Orthographe")
    page.get_by_role("button", name="Déposer la nouvelle version").click()
    assert "La version 2 est en ligne." in page.locator(".flashes").inner_text()
    assert page.locator(".version-item").count() == 2
    page.wait_for_load_state("load")  # style sheets applied
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing overflows the phone's screen


def test_document_pages_have_no_serious_accessibility_violation(phone, live_server, network):
    _community, guides, documents = network
    browser_sign_in(phone, live_server, "camille")
    paths = [
        "/c/acheteurs/documents",
        f"/c/acheteurs/documents/dossiers/{guides.id}",
        "/c/acheteurs/documents/deposer",
        "/c/acheteurs/documents/dossiers/nouveau",
        *(f"/c/acheteurs/documents/{document.id}" for document in documents.values()),
        f"/c/acheteurs/documents/{documents['text'].id}/modifier",
        f"/c/acheteurs/documents/{documents['text'].id}/supprimer",
    ]
    for path in paths:
        phone.goto(live_server + path)
        assert phone.locator("h1").count() == 1, path
        assert axe_violations(phone) == [], path
    image_page = f"{live_server}/c/acheteurs/documents/{documents['image'].id}"
    phone.goto(image_page)
    thumbnail = phone.get_by_role("img", name="Aperçu de l’image « schema »")
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0")


def test_pdf_preview_renders_in_the_browser_viewer_despite_the_sandbox(page, live_server, network):
    _community, _guides, documents = network
    browser_sign_in(page, live_server, "thomas")
    page.goto(f"{live_server}/c/acheteurs/documents/{documents['pdf'].id}")
    page.locator("iframe.document-pdf").scroll_into_view_if_needed()
    for _ in range(50):  # the viewer is an extension frame inside the preview frame
        if any(frame.url.startswith("chrome-extension://") for frame in page.frames):
            break
        page.wait_for_timeout(200)
    assert any(frame.url.startswith("chrome-extension://") for frame in page.frames)
    assert "chrome-error://" not in " ".join(frame.url for frame in page.frames)
