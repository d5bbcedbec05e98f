"""The wiki in a real browser (Debian's chromium through Playwright, CSRF enforced): writing and
editing with plain forms, a conflict resolved by hand, accessibility (axe-core) and phones."""

from __future__ import annotations

import pytest

from maillage.communities.wiki.operations import save_page
from maillage.platform.extensions import db
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser

BODY = (
    "## Avant\n\n- Écrire la raison d'être\n- Trouver des pionniers\n\n"
    "| Rythme | Action |\n|---|---|\n| Semaine | Une question |"
)


@pytest.fixture
def wiki(create_user, create_community):
    owner = create_user("sophie", display_name="Sophie Martin")
    member = create_user("camille", display_name="Camille Laurent")
    other = create_user("ines", display_name="Inès Moreau")
    community = create_community(
        "Club des animateurs", slug="club", owner=owner, members=[member, other]
    )
    return community, {"sophie": owner, "camille": member, "ines": other}


def test_write_a_page_edit_it_and_resolve_a_conflict(page, live_server, wiki):
    community, people = wiki
    browser_sign_in(page, live_server, "camille")
    page.goto(f"{live_server}/c/club/wiki")
    page.get_by_role("link", name="Nouvelle page").click()
    page.get_by_label("Titre").fill("Lancer une communauté")
    page.get_by_label("Contenu").fill(BODY)
    page.get_by_role("button", name="Créer la page").click()
    page.get_by_role("heading", level=1, name="Lancer une communauté").wait_for()
    assert page.get_by_role("cell", name="Une question").count() == 1

    page.get_by_role("link", name="Modifier la page").click()
    editor = page.get_by_label("Contenu")
    editor.fill(editor.input_value().replace("raison d'être", "raison d'être en deux phrases"))
    # Meanwhile Inès saves another line of the same version.
    from maillage.communities.wiki.queries import page_by_slug

    db.session.expire_all()
    saved = page_by_slug(community, "lancer-une-communaute")
    save_page(
        saved,
        people["ines"],
        saved.title,
        saved.body_source.replace("pionniers", "pionniers (5 à 10)"),
        base_revision=1,
    )
    db.session.commit()

    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("heading", level=1, name="Conflit de modification").wait_for()
    assert page.get_by_role("alert").first.is_visible()
    assert axe_violations(page) == []
    merged = page.get_by_label("Contenu").input_value()
    assert "raison d'être en deux phrases" in merged
    assert "pionniers (5 à 10)" in merged
    page.get_by_role("button", name="Enregistrer par-dessus la version 2").click()
    page.get_by_text("La page est enregistrée (version 3).").wait_for()
    assert page.get_by_text("Trouver des pionniers (5 à 10)").count() == 1


def test_wiki_pages_have_no_serious_accessibility_violation(page, live_server, wiki):
    community, people = wiki
    from maillage.communities.wiki.operations import create_page

    top = create_page(community, people["camille"], "Guide", BODY, is_faq=True)
    create_page(community, people["camille"], "Sous-page", "Texte", parent=top)
    db.session.commit()
    save_page(top, people["ines"], "Guide", BODY + "\n\nAjout.", base_revision=1)
    db.session.commit()
    browser_sign_in(page, live_server, "sophie")
    for path in (
        "/c/club/wiki",
        "/c/club/wiki/guide",
        "/c/club/wiki/sous-page",
        "/c/club/wiki/new",
        "/c/club/wiki/guide/edit",
        "/c/club/wiki/guide/history",
        "/c/club/wiki/guide/diff?from=1&to=2",
        "/c/club/wiki/guide/revisions/1",
        "/c/club/wiki/guide/move",
        "/c/club/wiki/guide/delete",
    ):
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1, path
        assert axe_violations(page) == [], path


def test_wiki_pages_fit_a_phone_screen(phone, live_server, wiki):
    community, people = wiki
    from maillage.communities.wiki.operations import create_page

    top = create_page(community, people["camille"], "Guide", BODY + "\n\n" + "mot " * 200)
    db.session.commit()
    save_page(top, people["ines"], "Guide", BODY + "\n\n" + "texte " * 200, base_revision=1)
    db.session.commit()
    browser_sign_in(phone, live_server, "camille")
    for path in (
        "/c/club/wiki",
        "/c/club/wiki/guide",
        "/c/club/wiki/guide/history",
        "/c/club/wiki/guide/diff",
        "/c/club/wiki/guide/edit",
        "/c/club/wiki/guide/revisions/1",
        "/c/club/wiki/guide/move",
    ):
        phone.goto(live_server + path)
        # On a phone the layout viewport grows with the content: compare with the screen.
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= phone.viewport_size["width"], path
