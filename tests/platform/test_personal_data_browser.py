"""*Mes données* in a real browser: from *Mon compte*, ask for the archive, find the notice in the
bell's page and download the ZIP; the pages pass axe (RGAA / WCAG 2.1 AA)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


def test_asking_for_and_downloading_the_archive(page, live_server, create_user, create_community):
    olga = create_user("olga", display_name="Olga Martin", email="olga@example.gouv.fr")
    create_community("Achats publics", owner=olga)
    browser_sign_in(page, live_server, "olga")
    page.goto(live_server + "/account")
    page.get_by_role("link", name="Mes données", exact=True).click()
    assert page.locator("h1").inner_text() == "Mes données"
    assert axe_violations(page) == []

    page.get_by_role("button", name="Demander une archive de mes données").click()
    page.wait_for_load_state()
    assert page.get_by_text("Votre demande est enregistrée").count() == 1
    assert page.get_by_role("table").count() == 1
    assert axe_violations(page) == []

    page.goto(live_server + "/notifications")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Votre archive de données personnelles est prête").click()
    archive = zipfile.ZipFile(io.BytesIO(download_info.value.path().read_bytes()))
    assert json.loads(archive.read("profile.json"))["email"] == "olga@example.gouv.fr"
    assert [m["community"] for m in json.loads(archive.read("memberships.json"))] == [
        "achats-publics"
    ]
