"""E-mail trust: an address is a way to find an account only when the provider vouches for it, the
provider is trusted to link by it, and the account is not an administrator's; otherwise the
person proves they hold the existing account (its password, another of its identities, a code
e-mailed to it) before anything is linked — against a real OpenID provider."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from maillage.auth.identities import proofs
from maillage.auth.identities.models import Identity
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.auth.conftest import PASSWORD
from tests.auth.oidc.identities.conftest import identity_of

TRUSTED = {"confiance": {"link_by_email": True}}
PROOF_PAGE = "Un compte existe déjà avec votre adresse"


@pytest.fixture
def vera(create_user):
    """A local account that verified the address the provider gives ``verifiee``."""
    user = create_user("vera.locale", email="vera.fiee@exemple.gouv.fr")
    user.email_verified_at = utcnow()
    db.session.commit()
    return user


def form_fields(browser, page, action: str) -> dict:
    form = next(form for form in browser.forms(page.text) if form.action == action)
    return form.fields


def post_form(browser, page, action: str, **data):
    """Submit the form of ``page`` that posts to ``action`` (its CSRF token included)."""
    return browser.post(action, {**form_fields(browser, page, action), **data})


def mailed_code(mails, address: str) -> str:
    (_subject, body, _links) = mails(to=address)[-1]
    return re.search(r"code de confirmation : (\d{6})", body).group(1)


# -- the defects -------------------------------------------------------------------------------


def test_an_unverified_address_does_not_meet_a_domain_rule(serve, agent, count, audit):
    live = serve({"confiance": {"access_rules": {"email_domains": ["exemple.gouv.fr"]}}})

    refused = agent(live).sign_in("confiance", "non-verifiee")

    assert refused.status_code == 403
    assert "n'a pas confirmé votre adresse e-mail" in refused.page
    assert "nona@exemple.gouv.fr (non vérifiée)" in refused.page
    assert count() == (0, 0, 0)
    assert audit("auth.login_failed")[-1].data["rule"] == "email_domains"
    # The same rule lets a verified address of the domain in.
    assert "Vous êtes connecté." in agent(live).sign_in("confiance", "verifiee").page


def test_a_missing_email_verified_claim_never_links(serve, agent, create_user, count):
    muriel = create_user("muriel.locale", email="muriel@exemple.gouv.fr")
    muriel.email_verified_at = utcnow()
    db.session.commit()
    live = serve(TRUSTED)

    response = agent(live).sign_in("confiance", "muette")

    assert response.url == live.url + "/login/link"
    assert PROOF_PAGE in response.page
    assert identity_of("confiance", "sub-muette") is None
    assert count() == (1, 0, 1)  # nothing linked, no account created: only the pending proof


def test_an_administrator_s_account_is_never_linked_by_address(
    serve, agent, create_user, count, mails
):
    agathe = create_user("agathe", email="agathe.admin@exemple.gouv.fr", is_admin=True)
    agathe.email_verified_at = utcnow()
    db.session.commit()
    live = serve(TRUSTED)
    browser = agent(live)

    response = browser.sign_in("confiance", "cheffe")

    assert PROOF_PAGE in response.page
    assert identity_of("confiance", "sub-cheffe") is None
    assert count() == (1, 0, 1)
    # With the proof, the administrator links it like anyone.
    sent = post_form(browser, response, "/login/link/code/send")
    code = mailed_code(mails, "agathe.admin@exemple.gouv.fr")
    done = post_form(browser, sent, "/login/link/code", **{"proof-code-code": code})
    assert "Vous êtes connecté." in done.page
    assert identity_of("confiance", "sub-cheffe").user_id == agathe.id


def test_a_trusted_provider_with_a_verified_address_links_at_once(serve, agent, vera, count, audit):
    response = agent(serve(TRUSTED)).sign_in("confiance", "verifiee")

    assert "Vous êtes connecté." in response.page
    assert identity_of("confiance", "sub-verifiee").user_id == vera.id
    assert count() == (1, 1, 0)
    [linked] = audit("auth.identity_linked")
    assert linked.data == {"provider": "confiance", "by": "verified_email"}


@pytest.mark.parametrize("unverified_account", [False, True])
def test_without_trust_the_person_is_asked_for_a_proof(
    serve, agent, vera, count, unverified_account
):
    if unverified_account:  # trusted provider, but the account never verified its address
        vera.email_verified_at = None
        db.session.commit()
    live = serve(TRUSTED if unverified_account else None)

    response = agent(live).sign_in("confiance", "verifiee")

    assert response.status_code == 200
    assert PROOF_PAGE in response.page
    assert "vera.fiee@exemple.gouv.fr" in response.page
    assert count() == (1, 0, 1)


# -- the proofs --------------------------------------------------------------------------------


def test_a_code_sent_to_the_account_proves_it(serve, agent, vera, count, mails, audit):
    browser = agent(serve())
    page = browser.sign_in("confiance", "verifiee")

    sent = post_form(browser, page, "/login/link/code/send")
    assert "Un code vient d'être envoyé" in sent.page
    code = mailed_code(mails, "vera.fiee@exemple.gouv.fr")
    stored = db.session.scalar(select(proofs.LinkProof))
    assert code not in (stored.code_hash or "")  # only its hash is kept

    wrong = post_form(browser, sent, "/login/link/code", **{"proof-code-code": "000000"})
    assert wrong.status_code == 400
    assert "Ce code n'est pas le bon" in wrong.page
    assert identity_of("confiance", "sub-verifiee") is None

    done = post_form(browser, wrong, "/login/link/code", **{"proof-code-code": code})

    assert done.url == browser.url("/")
    assert "L'identité « Fournisseur de confiance » est liée à votre compte." in done.page
    assert "Vous êtes connecté." in done.page
    assert identity_of("confiance", "sub-verifiee").user_id == vera.id
    assert count() == (1, 1, 0)
    assert audit("auth.link_proof_succeeded")[-1].data["by"] == "code"
    # Signed in as the account, and next time the provider signs in straight to it.
    assert browser.get("/account").url == browser.url("/account")


def test_the_account_s_password_proves_it(serve, agent, vera, count):
    browser = agent(serve())
    page = browser.sign_in("confiance", "verifiee")

    wrong = post_form(browser, page, "/login/link/password", **{"proof-password-password": "non"})
    assert wrong.status_code == 400
    assert "Mot de passe ou code de double authentification incorrect." in wrong.page
    assert count() == (1, 0, 1)

    done = post_form(
        browser, wrong, "/login/link/password", **{"proof-password-password": PASSWORD}
    )

    assert "Vous êtes connecté." in done.page
    assert identity_of("confiance", "sub-verifiee").user_id == vera.id
    assert count() == (1, 1, 0)


def test_a_password_proof_needs_the_second_factor_when_there_is_one(serve, agent, vera):
    secret = pyotp.random_base32()
    vera.totp_secret, vera.totp_enabled_at = secret, utcnow()
    db.session.commit()
    browser = agent(serve())
    page = browser.sign_in("confiance", "verifiee")

    no_code = post_form(
        browser, page, "/login/link/password", **{"proof-password-password": PASSWORD}
    )
    assert no_code.status_code == 400
    assert identity_of("confiance", "sub-verifiee") is None

    done = post_form(
        browser,
        no_code,
        "/login/link/password",
        **{
            "proof-password-password": PASSWORD,
            "proof-password-second_factor": pyotp.TOTP(secret).now(),
        },
    )
    assert "Vous êtes connecté." in done.page
    assert identity_of("confiance", "sub-verifiee").user_id == vera.id


def test_signing_in_with_another_identity_of_the_account_proves_it(serve, agent, vera, count):
    db.session.add(Identity(user=vera, provider="autre", identifier="sub-verifiee"))
    db.session.commit()
    browser = agent(serve())
    page = browser.sign_in("confiance", "verifiee")
    assert "Se connecter avec « Autre fournisseur »" in page.page

    post_form(browser, page, "/login/link/identity/autre")  # the choice, on the proof page
    asked = browser.start("autre")  # the provider knows the person already: straight back
    assert "Associer l'identité Fournisseur de confiance" in asked.page
    assert identity_of("confiance", "sub-verifiee") is None  # not before the person says yes
    done = post_form(browser, asked, "/login/link/confirm")

    assert "L'identité « Fournisseur de confiance » est liée à votre compte." in done.page
    assert identity_of("confiance", "sub-verifiee").user_id == vera.id
    assert count() == (1, 2, 0)


def test_cancelling_leaves_nothing_behind(serve, agent, vera, count, audit):
    browser = agent(serve())
    page = browser.sign_in("confiance", "verifiee")

    cancelled = post_form(browser, page, "/login/link/cancel")

    assert "Rien n'a été lié ni créé : vous n'êtes pas connecté." in cancelled.page
    assert count() == (1, 0, 0)
    assert browser.get("/login/link").url == browser.url("/login")
    assert browser.get("/account").url.startswith(browser.url("/login"))
    assert audit("auth.link_proof_cancelled")


def test_a_person_whose_address_another_account_holds_can_start_a_distinct_account(
    serve, agent, vera, count
):
    browser = agent(serve())
    page = browser.sign_in("confiance", "verifiee")

    created = post_form(browser, page, "/login/link/separate")

    assert "Votre compte est créé. Vous êtes connecté." in created.page
    identity = identity_of("confiance", "sub-verifiee")
    assert identity.user_id != vera.id
    assert identity.user.email is None  # the address stays with the account that holds it
    assert count() == (2, 1, 0)


def test_wrong_codes_are_limited_and_end_the_proof(serve, agent, vera, count, mails):
    browser = agent(serve())
    page = post_form(browser, browser.sign_in("confiance", "verifiee"), "/login/link/code/send")
    code = mailed_code(mails, "vera.fiee@exemple.gouv.fr")

    for _attempt in range(proofs.MAX_FAILURES - 1):
        page = post_form(browser, page, "/login/link/code", **{"proof-code-code": "111111"})
        assert page.status_code == 400
    ended = post_form(browser, page, "/login/link/code", **{"proof-code-code": "111111"})

    assert "Trop d'essais infructueux : rien n'a été lié." in ended.page
    assert count() == (1, 0, 0)
    # The right code is no use now.
    token = browser.csrf_token("/login")
    late = browser.post(
        "/login/link/code", {"proof-code-csrf_token": token, "proof-code-code": code}
    )
    assert late.url == browser.url("/login")
    assert "Cette demande de liaison n'est plus valable" in late.page
    assert identity_of("confiance", "sub-verifiee") is None


def test_codes_sent_are_limited(serve, agent, vera, mails):
    browser = agent(serve())
    page = browser.sign_in("confiance", "verifiee")
    page = post_form(browser, page, "/login/link/code/send")

    again = post_form(browser, page, "/login/link/code/send")  # within a minute

    assert again.status_code == 400
    assert "attendez une minute" in again.page
    assert len(mails(to="vera.fiee@exemple.gouv.fr")) == 1


def test_the_proof_page_is_this_browser_s_only(serve, agent, vera):
    live = serve()
    agent(live).sign_in("confiance", "verifiee")

    other = agent(live).get("/login/link")

    assert other.url == live.url + "/login"
    assert "Cette demande de liaison n'est plus valable" in other.page
    assert db.session.scalar(select(User).where(User.id == vera.id)).email_verified_at
