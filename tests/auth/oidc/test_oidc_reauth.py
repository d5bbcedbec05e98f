"""Re-authentication before deleting one's account (``prompt=login``, ``auth_time`` checked on
the way back), and the ``login_hint``/``idp_hint`` a sign-in URL passes through."""

from __future__ import annotations

import json

from sqlalchemy import select

from maillage.communities.users.models import User
from maillage.platform.extensions import db

PROVIDER_FORM = "Connexion au fournisseur d’identité de test"


def sso_user(username_part: str) -> User:
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email.contains(username_part)))
    assert user.password_hash is None  # an SSO-only account: no password to confirm with
    return user


def ask_deletion(browser):
    return browser.post(
        "/account/delete",
        {"csrf_token": browser.csrf_token("/account/delete"), "erasure": "keep_content"},
    )


def start_reauthentication(browser):
    """« Me reconnecter avec mon organisation »: the provider's page it leads to."""
    page = browser.get("/account/delete")
    assert "Me reconnecter avec mon organisation" in page.page
    return browser.post(
        "/account/delete/reauthenticate", {"csrf_token": browser.csrf_token("/account/delete")}
    )


def authorize_params(browser, response) -> dict:
    (authorize,) = [r for r in response.history if "/auth?" in r.headers.get("Location", "")]
    return browser.query(authorize.headers["Location"])


def test_a_sign_in_through_single_sign_on_is_no_proof(serve, agent):
    browser = agent(serve())
    browser.sign_in("keycloak", "alice")
    response = ask_deletion(browser)
    assert response.status_code == 400
    assert "Reconnectez-vous avec votre organisation pour confirmer." in response.page
    assert sso_user("alice.martin").deletion_due_at is None


def test_a_new_sign_in_at_the_provider_confirms_the_deletion(serve, agent, audit):
    browser = agent(serve())
    browser.sign_in("keycloak", "alice")
    provider_page = start_reauthentication(browser)
    params = authorize_params(browser, provider_page)
    assert params["prompt"] == "login"
    assert params["max_age"] == "0"
    # The provider has a session for Alice, yet asks again: that is prompt=login.
    assert PROVIDER_FORM in provider_page.page

    back = browser.provider_login(provider_page, "alice")
    assert back.url.endswith("/account/delete")
    assert "Votre identité est confirmée." in back.page
    assert "Vous venez de vous connecter avec votre organisation" in back.page
    assert [entry.data for entry in audit("auth.reauthenticated")] == [{"provider": "keycloak"}]

    assert ask_deletion(browser).status_code == 200
    assert sso_user("alice.martin").deletion_due_at is not None


def forget_provider_session(browser) -> None:
    """As if the provider's session had ended on its side (its cookies gone from the browser)."""
    for cookie in list(browser.http.cookies):
        if cookie.name.startswith("_session_generic"):
            browser.http.cookies.clear(cookie.domain, cookie.path, cookie.name)


def test_another_account_at_the_provider_confirms_nothing(serve, agent, audit):
    browser = agent(serve())
    browser.sign_in("keycloak", "alice")
    forget_provider_session(browser)
    back = browser.provider_login(start_reauthentication(browser), "joel")
    assert back.status_code == 403
    assert "Nouvelle authentification non confirmée" in back.page
    assert "avec un autre compte que celui de cette session" in back.page
    assert audit("auth.login_failed")[-1].data["detail"] == "identity"
    assert ask_deletion(browser).status_code == 400
    assert sso_user("alice.martin").deletion_due_at is None


def test_switching_accounts_at_the_provider_ends_the_session_here(serve, agent, audit):
    """With Alice's session still open there, signing in as Joël makes the provider end it
    first (a form its page submits at once): its back-channel logout ends Alice's session
    here, and the way back confirms nothing."""
    browser = agent(serve())
    browser.sign_in("keycloak", "alice")
    switching = browser.provider_login(start_reauthentication(browser), "joel")
    (form,) = browser.forms(switching.text)
    assert form.action.endswith("/session/end/confirm")
    back = browser.http.post(form.action, data=form.fields, timeout=10)
    assert back.status_code == 403
    assert "La session qui a demandé cette confirmation n'est plus ouverte" in back.page
    assert audit("auth.login_failed")[-1].data["detail"] == "session"
    assert [entry.data["ended"] for entry in audit("auth.backchannel_logout")] == [1]
    assert "Se déconnecter" not in browser.get("/").text


def test_an_old_authentication_is_no_confirmation(serve, agent, audit):
    """The provider answers with the auth_time of an hour ago (it reused a session despite
    prompt=login): refused."""
    browser = agent(serve())
    browser.sign_in("keycloak", "mallory-stale")
    back = browser.provider_login(start_reauthentication(browser), "mallory-stale")
    assert back.status_code == 403
    assert "n'a pas confirmé une nouvelle authentification" in back.page
    assert audit("auth.login_failed")[-1].data["detail"] == "auth_time"
    assert ask_deletion(browser).status_code == 400


def test_proconnect_reauthentication_asks_for_auth_time(serve, agent):
    browser = agent(serve())
    browser.sign_in("proconnect", "agent")
    provider_page = start_reauthentication(browser)
    (authorize,) = [
        r for r in provider_page.history if "/api/v2/authorize?" in r.headers.get("Location", "")
    ]
    params = browser.query(authorize.headers["Location"])
    assert params["prompt"] == "login"
    assert "max_age" not in params  # ProConnect documents none: the claim asks for auth_time
    assert json.loads(params["claims"])["id_token"]["auth_time"] == {"essential": True}
    assert PROVIDER_FORM in provider_page.page
    back = browser.provider_login(provider_page, "agent")
    assert "Votre identité est confirmée." in back.page
    assert ask_deletion(browser).status_code == 200


def test_reauthentication_needs_the_form_and_a_session(serve, agent):
    browser = agent(serve())
    refused = browser.post("/account/delete/reauthenticate", {}, allow_redirects=False)
    assert refused.status_code in (302, 400)  # signed out: to the sign-in page (or CSRF)
    browser.sign_in("keycloak", "alice")
    assert browser.post("/account/delete/reauthenticate", {}).status_code == 400  # no CSRF token


def test_sign_in_hints_pass_through_to_proconnect(serve, agent):
    browser = agent(serve())
    page = browser.start(
        "proconnect", login_hint="eloise.lefevre@interieur.gouv.fr", idp_hint="fia1-interieur"
    )
    params = browser.query(page.history[0].headers["Location"])
    assert params["login_hint"] == "eloise.lefevre@interieur.gouv.fr"
    assert params["idp_hint"] == "fia1-interieur"
    # The provider got them: its form is pre-filled and names the identity provider.
    assert 'value="eloise.lefevre@interieur.gouv.fr"' in page.text
    assert "Fournisseur d’identité demandé : fia1-interieur" in page.page


def test_malformed_hints_are_left_out(serve, agent):
    browser = agent(serve())
    page = browser.start("proconnect", login_hint="pas une adresse", idp_hint="<script>")
    params = browser.query(page.history[0].headers["Location"])
    assert "login_hint" not in params
    assert "idp_hint" not in params
    assert PROVIDER_FORM in page.page  # the sign-in goes on without them


def test_a_generic_provider_takes_the_login_hint_only(serve, agent):
    browser = agent(serve())
    page = browser.start("keycloak", login_hint="amartin", idp_hint="fia1")
    params = browser.query(page.history[0].headers["Location"])
    assert params["login_hint"] == "amartin"
    assert "idp_hint" not in params
    assert 'value="amartin"' in page.text
