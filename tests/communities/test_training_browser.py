"""The training space in a real browser (Debian's chromium through Playwright, CSRF enforced): a
learner reads the lessons and passes the quiz (questions are radio or checkbox groups named by
their legend), gets the certificate; a trainer authors; the ambassadors help page. axe-core on
every page, on a desktop and on a 375 px phone screen."""

from __future__ import annotations

import pytest

from maillage.communities.training import progress
from maillage.platform.extensions import db
from tests.communities.test_training_support import right_answers
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser
pytest_plugins = ("tests.communities.test_training_support",)

PHONE = {"width": 375, "height": 740}


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


def test_learner_reads_lessons_passes_the_quiz_and_gets_the_certificate(
    browser, page, live_server, built, roles
):
    start(page, live_server, "marc")
    page.goto(f"{live_server}/formation")
    page.get_by_role("link", name="Devenir animateur").click()
    page.get_by_role("link", name="Les bases").click()
    page.get_by_role("link", name="Leçon 1").click()
    page.get_by_role("heading", level=1, name="Leçon 1").wait_for()
    assert axe_violations(page) == []
    page.get_by_role("button", name="J'ai terminé cette leçon").click()
    page.get_by_text("Vous avez terminé cette leçon.").wait_for()
    page.get_by_role("navigation", name="Leçons").get_by_role("link", name="Leçon 2").click()
    page.get_by_role("button", name="J'ai terminé cette leçon").click()
    page.get_by_text("Vous avez terminé cette leçon.").wait_for()

    page.goto(f"{live_server}/formation/quiz/{built.quiz.id}")
    single = page.get_by_role("group", name="Capitale ?")
    several = page.get_by_role("group", name="Bonnes pratiques ?")
    assert single.get_by_role("radio").count() == 2
    assert several.get_by_role("checkbox").count() == 3
    assert axe_violations(page) == []
    # a first, wrong attempt
    single.get_by_label("Lyon").check()
    several.get_by_label("Ignorer").check()
    page.get_by_role("button", name="Valider mes réponses").click()
    result = page.get_by_role("status").filter(has_text="Tentative 1")
    result.wait_for()
    assert "il vous reste 1 tentative" in result.inner_text()
    assert axe_violations(page) == []
    # the second one passes
    page.get_by_role("group", name="Capitale ?").get_by_label("Paris").check()
    several = page.get_by_role("group", name="Bonnes pratiques ?")
    several.get_by_label("Accueillir").check()
    several.get_by_label("Relancer").check()
    page.get_by_role("button", name="Valider mes réponses").click()
    page.get_by_role("heading", name="Les bonnes réponses").wait_for()
    assert axe_violations(page) == []

    page.goto(f"{live_server}/formation")
    certificates = page.get_by_role("region", name="Vos certificats")
    certificates.get_by_role("link", name="Devenir animateur").click()
    page.get_by_role("heading", level=1, name="Vérification d'un certificat d'animateur").wait_for()
    assert page.get_by_role("link", name="Télécharger le certificat (PDF)").is_visible()
    certificate_url = page.url

    pages = (
        "/formation",
        f"/formation/parcours/{built.path.id}",
        f"/formation/cours/{built.path.courses[0].id}",
        f"/formation/lecons/{built.lessons[0].id}",
        f"/formation/quiz/{built.quiz.id}",
        "/formation/ressources",
        "/" + certificate_url.split("/", 3)[-1],
        "/aide/ambassadeurs",
    )
    checked_elsewhere = ("/lecons/", "/quiz/", "/aide/")  # above, and in the test below
    for path in pages:
        visit(page, live_server + path, axe=not any(part in path for part in checked_elsewhere))
    phone = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    start(small, live_server, "marc")
    for path in pages:
        visit(small, live_server + path, phone=True, axe=path.startswith("/formation/quiz"))
    phone.close()


def test_trainer_authoring_pages(browser, page, live_server, built, roles):
    start(page, live_server, "tina")
    # a form in error: the summary links to the field
    page.goto(f"{live_server}/formation/parcours/nouveau")
    page.get_by_role("button", name="Enregistrer").click()
    summary = page.get_by_role("alert")
    summary.wait_for()
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "title"
    assert page.get_by_label("Titre du parcours").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []

    module = built.path.courses[0].modules[0]
    page.goto(f"{live_server}/formation/modules/{module.id}/quiz")
    page.get_by_label("Question", exact=True).fill("Combien de membres ?")
    choices = page.get_by_role("group", name="Réponses proposées")
    assert choices.count() == 1
    page.get_by_role("button", name="Ajouter la question").click()
    page.get_by_role("alert").wait_for()
    assert axe_violations(page) == []

    pages = (
        "/formation",
        "/formation/parcours/nouveau",
        f"/formation/parcours/{built.path.id}",
        f"/formation/parcours/{built.path.id}/modifier",
        f"/formation/cours/{built.path.courses[0].id}",
        f"/formation/lecons/{built.lessons[0].id}/modifier",
        f"/formation/modules/{module.id}/quiz",
        "/formation/ressources/nouvelle",
        "/formation/apprenants",
    )
    progress.submit_attempt(built.quiz, roles["member"], right_answers_by_id(built))
    db.session.commit()
    for path in pages:  # the new path form and the quiz editor were checked above, in error
        visit(page, live_server + path, axe=not path.endswith(("/nouveau", "/quiz")))
    phone = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    start(small, live_server, "tina")
    for path in pages:
        visit(small, live_server + path, phone=True, axe=path == "/formation/apprenants")
    phone.close()


def right_answers_by_id(built) -> dict[int, list[int]]:
    return {int(key[1:]): value for key, value in right_answers(built).items()}


def test_ambassadors_help_page(browser, page, live_server, roles, create_user, create_organisation):
    town = create_organisation("Mairie de Villeneuve", "local_authority")
    create_user(
        "amelie", display_name="Amélie Ambassadrice", organisation=town
    ).is_ambassador = True
    db.session.commit()
    start(page, live_server, "marc")
    visit(page, f"{live_server}/aide/ambassadeurs")
    town_section = page.get_by_role("region", name="Mairie de Villeneuve")
    assert town_section.get_by_role("link", name="Amélie Ambassadrice").is_visible()
    admin = browser.new_context(locale="fr-FR")
    ada = admin.new_page()
    start(ada, live_server, "ada")
    visit(ada, f"{live_server}/admin/ambassadeurs?q=marc")
    admin.close()
