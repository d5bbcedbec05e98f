"""Day one of a real installation, in a real browser (Debian's chromium through Playwright),
from a fresh instance without the demo: the setup link printed on the console → the first
administrator and organisation → a second organisation and a public community → a partner signs
up proposing their organisation and accepting the charter → the administrator validates it → the
partner joins the community and posts.  Every page visited has no axe-core violation at all,
whatever its impact (the suite's ``axe_violations`` only fails on serious and critical ones).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.communities.organisations.models import Organisation
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from tests.conftest import browser_sign_in

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "une phrase assez longue"
PARTNER_PASSWORD = "le réseau des médiateurs"


def every_axe_violation(page) -> list[str]:
    """Every axe-core violation on the current page, whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        f"{[node['target'] for node in violation['nodes']][:3]}"
        for violation in Axe().run(page).response["violations"]
    ]


def accessible(page) -> None:
    page.wait_for_load_state()
    assert page.locator("h1").count() == 1, page.url
    assert every_axe_violation(page) == [], page.url


def setup_link(app) -> str:
    """What ``flask maillage setup-link`` prints (``serve`` prints the same at start)."""
    result = app.test_cli_runner().invoke(args=["maillage", "setup-link"])
    assert result.exit_code == 0, result.output
    return re.search(r"/setup/\S+", result.output).group(0)


def sign_out(page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state()


def test_day_one_from_a_fresh_instance(fresh_install, app, page, live_server):
    page.goto(live_server + "/")
    assert page.get_by_role("heading", name="Installation en cours").is_visible()
    accessible(page)
    page.get_by_role("link", name="Mentions légales").click()  # readable before setup
    assert page.get_by_role("heading", name="Mentions légales").is_visible()
    accessible(page)

    set_up(page, live_server + setup_link(app))
    create_second_organisation(page)
    create_public_community(page, live_server)
    sign_out(page)

    partner_signs_up(page, live_server)
    proposed = db.session.scalar(
        select(Organisation).where(Organisation.name == "Collectif Médiation numérique")
    )
    assert proposed.is_pending
    assert proposed.siret is None

    browser_sign_in(page, live_server, "alix", ADMIN_PASSWORD)
    validate_proposed_organisation(page, live_server)
    sign_out(page)

    browser_sign_in(page, live_server, "ines", PARTNER_PASSWORD)
    join_and_post(page, live_server)
    db.session.expire_all()
    ines = db.session.scalar(select(User).where(User.username == "ines"))
    assert ines.organisation.name == "Collectif Médiation numérique"
    assert not ines.organisation.is_pending


def set_up(page, link: str) -> None:
    page.goto(link)
    accessible(page)
    page.get_by_label("Nom de l'organisation").fill("Région Occitanie")
    page.get_by_label("Type d'organisation").select_option("local_authority")
    page.get_by_label("Identifiant de l'administrateur").fill("alix")
    page.get_by_label("Nom affiché").fill("Alix Martin")
    page.get_by_label("Adresse e-mail").fill("alix@laregion.fr")
    page.get_by_label("Mot de passe", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Terminer l'installation").click()
    page.wait_for_url("**/admin/premiers-pas")
    assert page.get_by_role("heading", name="Premiers pas").is_visible()
    accessible(page)


def create_second_organisation(page) -> None:
    page.get_by_role("link", name="Créer les organisations").click()
    accessible(page)
    page.get_by_role("link", name="Créer une organisation").click()
    accessible(page)
    page.get_by_label("Nom", exact=True).fill("Département de l'Hérault")
    page.get_by_label("Type", exact=True).select_option("local_authority")
    page.get_by_role("button", name="Créer l'organisation").click()
    page.wait_for_load_state()
    assert page.get_by_text("L'organisation « Département de l'Hérault » est créée.").is_visible()
    accessible(page)


def create_public_community(page, live_server: str) -> None:
    page.goto(live_server + "/communities/new")
    accessible(page)
    page.get_by_label("Nom de la communauté").fill("Inclusion numérique en Occitanie")
    page.get_by_label("Publique").check()
    page.get_by_label("Adhésion libre").check()
    page.get_by_role("button", name="Créer la communauté").click()
    page.wait_for_url("**/c/**")
    assert page.get_by_role("heading", name="Inclusion numérique en Occitanie").is_visible()
    accessible(page)


def partner_signs_up(page, live_server: str) -> None:
    page.goto(live_server + "/")
    page.get_by_role("banner").get_by_role("link", name="Créer un compte").click()
    accessible(page)
    page.get_by_label("Identifiant", exact=True).fill("ines")
    page.get_by_label("Nom affiché").fill("Inès Morel")
    page.get_by_label("Adresse e-mail professionnelle").fill("ines@mediation.example.org")
    page.get_by_label("Nom de votre organisation").fill("Collectif Médiation numérique")
    page.locator("fieldset.organisation-proposal").get_by_label(
        "Type d'organisation"
    ).select_option("association")
    page.get_by_label("Mot de passe", exact=True).fill(PARTNER_PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PARTNER_PASSWORD)
    page.get_by_label("J'accepte la charte d'utilisation").check()
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/signup/sent**")
    accessible(page)


def validate_proposed_organisation(page, live_server: str) -> None:
    page.goto(live_server + "/admin")
    accessible(page)
    page.get_by_role("link", name="Organisations", exact=True).click()
    accessible(page)
    page.get_by_role("link", name="1 organisation à valider").click()
    accessible(page)
    page.get_by_role("link", name="Collectif Médiation numérique").click()
    accessible(page)
    page.get_by_role("button", name="Valider l'organisation").click()
    page.wait_for_load_state()
    validated = "L'organisation « Collectif Médiation numérique » est validée."
    assert page.get_by_text(validated).is_visible()
    accessible(page)


def join_and_post(page, live_server: str) -> None:
    page.goto(live_server + "/communities")
    accessible(page)
    page.get_by_role("link", name="Inclusion numérique en Occitanie").first.click()
    accessible(page)
    page.get_by_role("button", name="Rejoindre la communauté").click()
    page.get_by_role("heading", name="Publier dans la communauté").wait_for()
    accessible(page)
    page.get_by_label("Titre").fill("Bonjour le réseau")
    page.get_by_label("Texte").fill("Je coordonne les médiateurs de **l'Hérault**.")
    page.get_by_role("button", name="Publier").click()
    page.wait_for_load_state()
    page.get_by_role("heading", name="Bonjour le réseau").first.wait_for()
    accessible(page)
