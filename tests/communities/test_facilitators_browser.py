"""Facilitator tools in a real browser (Debian's chromium through Playwright, CSRF enforced): the
console, member filters, bulk invitations, settings, joining with a charter, reporting and
hiding content, sanctions, the audit log and analytics; axe-core on every page, on a desktop
and on a 375 px phone screen."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.communities.moderation import operations as moderation
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser

SLUG = "acheteurs"
ONE_DAY = dt.timedelta(days=1)
PHONE = {"width": 375, "height": 740}
CONSOLE_PAGES = (
    "/c/acheteurs/console",
    "/c/acheteurs/members",
    "/c/acheteurs/members?role=member",
    "/c/acheteurs/requests",
    "/c/acheteurs/invitations",
    "/c/acheteurs/invite",
    "/c/acheteurs/invite/bulk",
    "/c/acheteurs/settings",
    "/c/acheteurs/announcements",
    "/c/acheteurs/scheduled",
    "/c/acheteurs/summaries",
    "/c/acheteurs/moderation",
    "/c/acheteurs/moderation/sanctions",
    "/c/acheteurs/audit",
    "/c/acheteurs/analytics",
)
# On a phone, axe-core runs again where the layout changes what it checks (tables scrolling in
# their own region, charts, filters); every page is checked for horizontal scrolling.
PHONE_AXE = {
    "/c/acheteurs/members",
    "/c/acheteurs/invitations",
    "/c/acheteurs/moderation/sanctions",
    "/c/acheteurs/audit",
    "/c/acheteurs/analytics",
}


@pytest.fixture
def world(create_user, create_organisation, create_community, create_post):
    town = create_organisation("Mairie de Villeneuve", "local_authority")
    olga = create_user("olga", display_name="Olga Propriétaire")
    fanny = create_user("fanny", display_name="Fanny Animatrice")
    mona = create_user("mona", display_name="Mona Modératrice")
    marc = create_user("marc", display_name="Marc Membre", organisation=town)
    rita = create_user("rita", display_name="Rita Vigilante", organisation=town)
    create_user("nina", display_name="Nina Nouvelle")
    community = create_community(
        "Réseau des acheteurs publics",
        owner=olga,
        slug=SLUG,
        members=[(fanny, "facilitator"), (mona, "moderator"), marc, rita],
    )
    post = create_post(community, marc, "Offre spéciale", "Achetez chez nous !")
    create_post(community, olga, "Réunion du réseau", "Ordre du jour.")
    moderation.mute(olga, community, marc, "Messages répétés hors sujet.", utcnow() + ONE_DAY)
    db.session.commit()
    return {"community": community, "post": post}


def start(page, live_server, username: str) -> None:
    """Fail fast (the default wait is 30 s) and sign in."""
    page.set_default_timeout(5000)
    browser_sign_in(page, live_server, username)


def visit(page, url: str, phone: bool = False, axe: bool = True) -> None:
    """Open ``url``: one h1, no serious axe-core violation, and no horizontal scroll on a phone."""
    page.goto(url)
    path = url.split("/", 3)[-1]
    assert page.locator("h1").count() == 1, path
    if axe:
        assert axe_violations(page) == [], path
    if phone:
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path


def test_facilitator_uses_the_console(browser, page, live_server, world):
    start(page, live_server, "fanny")
    page.goto(f"{live_server}/c/{SLUG}/console")
    console_nav = page.get_by_role("navigation", name="Console d'animation")
    assert (
        console_nav.get_by_role("link", name="Console d'animation").get_attribute("aria-current")
        == "page"
    )

    # members, filtered by role
    console_nav.get_by_role("link", name="Membres et rôles").click()
    page.get_by_label("Rôle", exact=True).select_option("moderator")
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_role("status").get_by_text("1 membre correspond").wait_for()
    assert page.get_by_role("row", name="Mona Modératrice").count() == 1
    assert axe_violations(page) == []
    current = page.get_by_role("navigation", name="Console d'animation").get_by_role(
        "link", name="Membres et rôles"
    )
    assert current.get_attribute("aria-current") == "page"

    # bulk invitations: a per-line report
    page.goto(f"{live_server}/c/{SLUG}/invite/bulk")
    page.get_by_label("Adresses e-mail, une par ligne").fill(
        "lea@example.gouv.fr\npas-une-adresse\nmarc@example.gouv.fr\nlea@example.gouv.fr"
    )
    page.get_by_role("button", name="Envoyer les invitations").click()
    report = page.get_by_role("table", name="Résultat ligne par ligne")
    report.wait_for()
    assert report.get_by_role("row").count() == 5
    assert page.get_by_role("status").get_by_text("1 invitation envoyée.").is_visible()
    assert axe_violations(page) == []

    # settings: welcome message and charter
    page.goto(f"{live_server}/c/{SLUG}/settings")
    page.get_by_label("Message de bienvenue (Markdown)").fill("Bienvenue **parmi nous** !")
    page.get_by_label("Charte de la communauté (Markdown)").fill("Soyons *bienveillants*.")
    page.get_by_role("button", name="Enregistrer les paramètres").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/c/{SLUG}/settings")
    assert page.get_by_label("Charte de la communauté (Markdown)").input_value() == (
        "Soyons *bienveillants*."
    )

    # a settings form in error: a summary that links to the field
    page.get_by_label("Nom de la communauté").fill("")
    page.get_by_role("button", name="Enregistrer les paramètres").click()
    summary = page.get_by_role("alert")
    summary.wait_for()
    summary.get_by_role("link", name="Nom de la communauté").click()
    assert page.evaluate("document.activeElement.id") == "name"
    assert page.get_by_label("Nom de la communauté").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []

    # analytics: SVG charts named by their title and description, their numbers as tables
    page.goto(f"{live_server}/c/{SLUG}/analytics")
    charts = page.locator("svg[role=img]")
    assert charts.count() == 4
    for index in range(charts.count()):
        chart = charts.nth(index)
        for attribute in ("aria-labelledby", "aria-describedby"):
            ident = chart.get_attribute(attribute)
            assert chart.locator(f"[id='{ident}']").count() == 1, attribute
        assert chart.locator("title").first.text_content().strip()
        assert chart.locator("desc").first.text_content().strip()
    page.get_by_text("Données du graphique", exact=False).first.click()
    table = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Période"))
    assert table.first.is_visible()
    assert axe_violations(page) == []

    checked_above = {"members?role", "invite/bulk", "settings", "analytics"}
    for path in CONSOLE_PAGES:
        visit(page, live_server + path, axe=not any(part in path for part in checked_above))

    phone = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    start(small, live_server, "fanny")
    for path in CONSOLE_PAGES:
        visit(small, live_server + path, phone=True, axe=path in PHONE_AXE)
    phone.close()


def test_sanctions_form_and_audit_log(page, live_server, world):
    start(page, live_server, "fanny")
    page.goto(f"{live_server}/c/{SLUG}/moderation/sanctions")
    page.get_by_role("button", name="Appliquer la sanction").click()
    summary = page.get_by_role("alert")
    summary.wait_for()
    summary.get_by_role("link", name="Identifiant de la personne").click()
    assert page.evaluate("document.activeElement.id") == "username"
    assert page.get_by_label("Identifiant de la personne").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []

    page.get_by_label("Identifiant de la personne").fill("rita")
    page.get_by_label("Sanction", exact=True).select_option("mute")
    page.get_by_label("Durée").select_option("7")
    page.get_by_label("Raison (montrée à la personne)").fill("Relances trop fréquentes.")
    page.get_by_role("button", name="Appliquer la sanction").click()
    history = page.get_by_role(
        "table", name="Sanctions de la communauté, les plus récentes d'abord"
    )
    history.get_by_role("row", name="Rita Vigilante").wait_for()
    assert axe_violations(page) == []

    page.goto(f"{live_server}/c/{SLUG}/audit")
    log = page.get_by_role("table", name="Actions enregistrées, les plus récentes d'abord")
    assert log.get_by_text("Relances trop fréquentes.").is_visible()
    assert axe_violations(page) == []


def test_member_joins_accepting_the_charter(page, live_server, world):
    community = world["community"]
    community.charter = "Soyons *bienveillants*."
    community.welcome_message = "Bienvenue !"
    db.session.commit()
    start(page, live_server, "nina")
    page.goto(f"{live_server}/c/{SLUG}")
    assert page.get_by_role("heading", name="Charte de la communauté").is_visible()
    assert axe_violations(page) == []
    accept = page.get_by_label("J'accepte la charte de la communauté")
    page.get_by_role("button", name="Rejoindre la communauté").click()
    # the box is required: the browser asks for it before sending anything
    assert accept.evaluate("box => box.validity.valueMissing") is True
    accept.check()
    page.get_by_role("button", name="Rejoindre la communauté").click()
    page.get_by_role("button", name="Quitter la communauté").wait_for()


def test_report_hide_with_a_reason_and_the_author_sees_it(browser, page, live_server, world):
    post = world["post"]
    start(page, live_server, "rita")
    page.goto(f"{live_server}/post/{post.id}")
    page.get_by_role("link", name="Signaler la publication").click()
    page.get_by_role("heading", level=1, name="Signaler un contenu").wait_for()
    page.get_by_role("button", name="Envoyer le signalement").click()
    page.get_by_role("alert").wait_for()
    assert axe_violations(page) == []
    page.get_by_role("group", name="Motif").get_by_label("Spam ou publicité").check()
    page.get_by_label("Précisions pour les modérateurs", exact=False).fill("Publicité.")
    page.get_by_role("button", name="Envoyer le signalement").click()
    page.wait_for_load_state()

    moderator = browser.new_context(locale="fr-FR")
    mona = moderator.new_page()
    start(mona, live_server, "mona")
    visit(mona, f"{live_server}/c/{SLUG}/moderation")
    item = mona.locator(f"#item-post-{post.id}")
    assert item.get_by_text("Publicité.").is_visible()
    item.get_by_role("link", name="Masquer", exact=False).click()
    mona.get_by_role("heading", level=1, name="Masquer ce contenu").wait_for()
    assert axe_violations(mona) == []
    mona.get_by_label("Raison (montrée à l'auteur)").fill("Démarchage commercial interdit.")
    mona.get_by_role("button", name="Masquer ce contenu").click()
    mona.wait_for_load_state()
    moderator.close()

    author = browser.new_context(locale="fr-FR")
    marc = author.new_page()
    start(marc, live_server, "marc")
    visit(marc, f"{live_server}/post/{post.id}")
    notice = marc.get_by_role("note")
    assert "Démarchage commercial interdit." in notice.inner_text()
    author.close()
