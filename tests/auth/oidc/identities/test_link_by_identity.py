"""Proving an existing account by signing in with another of its identities, against a real
OpenID provider (``confiance``, ``autre``) and a real directory (``annuaire``, slapd).

A pending proof counts only for the sign-in the person started from the proof page, and links
nothing before the person, then signed in, confirms it.  Any other sign-in forgets it: on a
shared computer, a proof the previous person left must not join their identity to the next
person's account, nor may a provider plant one by sending a signed-out browser through its own
sign-in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.auth.providers.base import GROUP_SETTINGS
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.auth.ldap.conftest import (  # noqa: F401 - the directory's fixtures
    PASSWORDS,
    Directory,
    certificates,
    slapd,
    start_slapd,
)
from tests.auth.ldap.conftest import provider_settings as directory_settings
from tests.auth.oidc.identities.conftest import identity_of

PROOF_PAGE = "Un compte existe déjà avec votre adresse"
QUESTION = (
    "Associer l'identité Fournisseur de confiance (vera.fiee@exemple.gouv.fr) à votre compte ?"
)
ZOE = "zoe.lefevre"
LINKED = "L'identité « Fournisseur de confiance » est liée à votre compte."


@pytest.fixture
def provider_settings(provider_settings, slapd):  # noqa: F811 - adds the directory
    ldap = {
        key: value for key, value in directory_settings(slapd).items() if key not in GROUP_SETTINGS
    }
    return {**provider_settings, "annuaire": ldap}


@pytest.fixture
def zoe_key(slapd) -> str:  # noqa: F811 - the fixture imported above
    """The directory's key for ``zoe.lefevre`` (her entryUUID)."""
    reader = Directory(slapd)
    try:
        return reader.entry_uuid(ZOE)
    finally:
        reader.undo()


@pytest.fixture
def vera(create_user, zoe_key):
    """The victim: an administrator whose account holds the address the attacker's identity at
    ``confiance`` carries, and who signs in with the directory (as ``zoe.lefevre``) or with
    ``autre`` (as ``membre``)."""
    user = create_user("vera.locale", email="vera.fiee@exemple.gouv.fr", is_admin=True)
    user.email_verified_at = utcnow()
    db.session.add_all(
        [
            Identity(user=user, provider="annuaire", identifier=zoe_key),
            Identity(user=user, provider="autre", identifier="sub-membre"),
        ]
    )
    db.session.commit()
    return user


def ldap_sign_in(browser, login: str, page=None):
    """The directory's form on the sign-in page (``page``, or a fresh one), filled in."""
    page = page if page is not None else browser.get("/login")
    form = next(f for f in browser.forms(page.text) if f.action.endswith("/login/ldap/annuaire"))
    fields = {k: v for k, v in form.fields.items() if not k.endswith("remember")}
    return browser.post(
        form.action,
        {**fields, "ldap-annuaire-username": login, "ldap-annuaire-password": PASSWORDS[login]},
    )


def leave_the_provider(browser) -> None:
    """Forget the test provider's own cookies: ``autre`` and ``confiance`` share one server
    here, where in real life they are two sites."""
    for cookie in list(browser.http.cookies):
        if cookie.name.startswith("_"):
            browser.http.cookies.clear(cookie.domain, cookie.path, cookie.name)


def post_form(browser, page, action: str, **data):
    form = next(form for form in browser.forms(page.text) if form.action == action)
    return browser.post(action, {**form.fields, **data})


def signed_in_as(browser, user) -> bool:
    return user.username in browser.get("/account").page


def no_link_and_no_proof(count) -> bool:
    return identity_of("confiance", "sub-verifiee") is None and count()[2] == 0


# -- the defects -------------------------------------------------------------------------------


def test_shared_browser_a_left_proof_is_not_linked_at_the_next_directory_sign_in(
    serve, agent, vera, count
):
    browser = agent(serve())
    left = browser.sign_in("confiance", "verifiee")  # the attacker, then walks away
    assert PROOF_PAGE in left.page

    victim = ldap_sign_in(browser, "zoe.lefevre")

    assert "Vous êtes connecté." in victim.page
    assert victim.url == browser.url("/")
    assert QUESTION not in victim.page
    assert no_link_and_no_proof(count)
    assert signed_in_as(browser, vera)
    assert browser.get("/login/link/confirm").url == browser.url("/")  # nothing to confirm


def test_shared_browser_a_left_proof_is_not_linked_at_the_next_sign_in_elsewhere(
    serve, agent, vera, count
):
    browser = agent(serve())
    assert PROOF_PAGE in browser.sign_in("confiance", "verifiee").page
    leave_the_provider(browser)

    victim = browser.sign_in("autre", "membre")

    assert "Vous êtes connecté." in victim.page
    assert QUESTION not in victim.page
    assert no_link_and_no_proof(count)
    assert signed_in_as(browser, vera)


def test_a_proof_planted_by_a_provider_is_never_linked(serve, agent, vera, count):
    live = serve()
    browser = agent(live)
    # A malicious provider sends the signed-out victim's browser through its own sign-in (a
    # top-level redirect to /login/oidc/confiance, answered at once): a proof is now pending.
    planted = browser.sign_in("confiance", "verifiee")
    assert planted.url == browser.url("/login/link")

    victim = ldap_sign_in(browser, "zoe.lefevre")  # later, as usual

    assert "Vous êtes connecté." in victim.page
    assert QUESTION not in victim.page
    assert no_link_and_no_proof(count)


def test_another_site_cannot_choose_the_identity_proof_for_the_victim(serve, agent, vera, count):
    browser = agent(serve())
    browser.sign_in("confiance", "verifiee")  # planted as above

    # The choice is a POST with the proof page's CSRF token, which another site cannot read.
    forged = browser.post("/login/link/identity/annuaire", {})
    victim = ldap_sign_in(browser, "zoe.lefevre")

    assert forged.status_code == 400
    assert QUESTION not in victim.page
    assert no_link_and_no_proof(count)


# -- the proof, chosen on the proof page and confirmed -----------------------------------------


def test_chosen_on_the_proof_page_and_confirmed_the_identity_is_linked(
    serve, agent, vera, count, audit
):
    browser = agent(serve())
    page = browser.sign_in("confiance", "verifiee")

    chosen = post_form(browser, page, "/login/link/identity/annuaire")
    assert chosen.url.startswith(browser.url("/login"))
    asked = ldap_sign_in(browser, "zoe.lefevre", page=chosen)

    assert asked.url == browser.url("/login/link/confirm")
    assert QUESTION in asked.page
    assert "Votre compte administre la plateforme" in asked.page
    assert identity_of("confiance", "sub-verifiee") is None  # not before the person says yes
    assert signed_in_as(browser, vera)

    done = post_form(browser, browser.get("/login/link/confirm"), "/login/link/confirm")

    assert LINKED in done.page
    assert identity_of("confiance", "sub-verifiee").user_id == vera.id
    assert count()[2] == 0
    assert audit("auth.link_proof_succeeded")[-1].data["by"] == "identity:annuaire"
    # Next time the provider signs in straight to the account.
    browser.logout()
    again = browser.start("confiance")  # the provider knows the person already: straight back
    assert "Vous êtes connecté." in again.page
    assert signed_in_as(browser, vera)


def test_chosen_on_the_proof_page_but_declined_nothing_is_linked(serve, agent, vera, count):
    browser = agent(serve())
    page = browser.sign_in("confiance", "verifiee")
    chosen = post_form(browser, page, "/login/link/identity/annuaire")
    asked = ldap_sign_in(browser, "zoe.lefevre", page=chosen)
    assert QUESTION in asked.page

    declined = post_form(browser, asked, "/login/link/decline")

    assert "Rien n'a été lié à votre compte." in declined.page
    assert no_link_and_no_proof(count)
    assert signed_in_as(browser, vera)
    assert browser.get("/login/link/confirm").url == browser.url("/")


def test_the_confirmation_is_a_post_with_its_csrf_token(serve, agent, vera):
    browser = agent(serve())
    chosen = post_form(
        browser, browser.sign_in("confiance", "verifiee"), "/login/link/identity/annuaire"
    )
    ldap_sign_in(browser, "zoe.lefevre", page=chosen)

    assert browser.post("/login/link/confirm", {}).status_code == 400

    assert identity_of("confiance", "sub-verifiee") is None


def test_the_choice_serves_only_the_provider_chosen(serve, agent, vera, count):
    browser = agent(serve())
    post_form(browser, browser.sign_in("confiance", "verifiee"), "/login/link/identity/annuaire")
    leave_the_provider(browser)

    other = browser.sign_in("autre", "membre")  # not the directory chosen on the proof page

    assert QUESTION not in other.page
    assert no_link_and_no_proof(count)


def test_the_identity_sign_in_must_open_the_proof_s_account(serve, agent, vera, create_user, count):
    browser = agent(serve())
    chosen = post_form(
        browser, browser.sign_in("confiance", "verifiee"), "/login/link/identity/annuaire"
    )

    other = ldap_sign_in(browser, "camille.martin", page=chosen)  # someone else's account

    assert "Vous êtes connecté." in other.page
    assert QUESTION not in other.page
    assert no_link_and_no_proof(count)
    assert not db.session.scalar(
        select(Identity).where(Identity.provider == "confiance", Identity.user_id == vera.id)
    )
