"""A generic OpenID provider (Keycloak-like: RS256, client_secret_basic, PKCE required, JSON
userinfo), proved against npm oidc-provider through the application served over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.auth.providers.operations import statuses
from maillage.communities.users.models import User
from maillage.platform.extensions import db


def identity_of(provider: str, identifier: str) -> Identity | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Identity).where(Identity.provider == provider, Identity.identifier == identifier)
    )


def test_authorization_request_uses_pkce_state_and_nonce(serve, agent):
    browser = agent(serve())
    response = browser.start("keycloak", next="/c/")
    first = response.history[0]
    assert first.status_code == 302
    params = browser.query(first.headers["Location"])
    assert params["response_type"] == "code"
    assert params["client_id"] == "maillage"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32
    assert len(params["nonce"]) >= 32
    assert params["scope"].split() == ["openid", "email", "profile", "organisation"]
    assert params["redirect_uri"] == browser.url("/login/oidc/keycloak/callback")
    # The provider showed its own login form.
    assert "Connexion au fournisseur d’identité de test" in response.page


def test_first_sign_in_provisions_the_account_then_finds_it_again(serve, agent, audit):
    live = serve()
    response = agent(live).sign_in("keycloak", "joel")
    assert response.status_code == 200
    assert response.url == live.url + "/"
    assert "Vous êtes connecté." in response.page
    assert "Joël Bénard-Ørsted" in response.page

    identity = identity_of("keycloak", "sub-joel")
    user = identity.user
    assert user.display_name == "Joël Bénard-Ørsted"
    assert user.username == "joel.benard"
    assert user.email == "joel.benard@ville-exemple.fr"
    assert user.email_verified_at is None  # not vouched for: the provider is not trusted
    assert user.organisation.siret == "21690123100011"
    assert user.organisation.name == "Ville d’Exemple-sur-Saône"
    assert user.organisation.kind == "local_authority"
    assert identity.data["family_name"] == "Bénard-Ørsted"
    assert "nonce" not in identity.data
    assert "at_hash" not in identity.data

    again = agent(live).sign_in("keycloak", "joel")
    assert "Vous êtes connecté." in again.page
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count(User.id))) == 1
    logins = audit("auth.login")
    assert [entry.data["provider"] for entry in logins] == ["keycloak", "keycloak"]
    assert {entry.actor_id for entry in logins} == {user.id}
    assert statuses()["keycloak"].last_success_at is not None


def test_replayed_callback_is_refused(serve, agent, audit):
    live = serve()
    browser = agent(live)
    callback = browser.callback_url("keycloak", "alice")
    assert "Vous êtes connecté." in browser.http.get(callback, timeout=10).page

    replayed = browser.http.get(callback, timeout=10)
    assert replayed.status_code == 400
    assert "Ce retour de connexion n'est plus valable" in replayed.page
    elsewhere = agent(live).http.get(callback, timeout=10)  # another browser, same URL
    assert elsewhere.status_code == 400
    assert [entry.data["reason"] for entry in audit("auth.login_failed")] == ["state", "state"]
    assert len(audit("auth.login")) == 1


def test_cancelled_sign_in_is_explained(serve, agent, audit):
    browser = agent(serve())
    response = browser.provider_abort(browser.start("keycloak"))
    assert response.status_code == 403
    assert "Connexion annulée" in response.page
    assert "La connexion avec Keycloak du ministère a été annulée ou refusée" in response.page
    assert "La personne a annulé la connexion." in response.page  # the provider's own words
    (failure,) = audit("auth.login_failed")
    assert failure.data["reason"] == "provider_error"
    assert failure.data["error"] == "access_denied"
    assert identity_of("keycloak", "sub-alice") is None


@pytest.mark.parametrize(
    ("login", "detail"),
    [
        ("mallory-audience", "aud"),
        ("mallory-signature", "signature invalide"),
        ("mallory-issuer", "iss"),
        ("mallory-expired", "exp"),
        ("mallory-nonce", "nonce"),
        ("mallory-none", "algorithme refusé : none"),
        ("mallory-hs256", "algorithme refusé : HS256"),
    ],
)
def test_tampered_id_tokens_are_refused(serve, agent, audit, login, detail):
    browser = agent(serve())
    response = browser.sign_in("keycloak", login)
    assert response.status_code == 400
    assert "Réponse du fournisseur d'identité refusée" in response.page
    assert "n'a pas passé nos contrôles de sécurité" in response.page
    (failure,) = audit("auth.login_failed")
    assert failure.data["reason"] == "invalid_token"
    assert detail in failure.data["detail"]
    assert identity_of("keycloak", f"sub-{login}") is None
    assert audit("auth.login") == []
    assert "Se déconnecter" not in browser.get("/").text


def test_hs256_is_accepted_only_when_configured(serve, agent):
    live = serve({"keycloak": {"allowed_algorithms": ["RS256", "HS256"]}})
    response = agent(live).sign_in("keycloak", "mallory-hs256")
    assert "Vous êtes connecté." in response.page
    assert identity_of("keycloak", "sub-mallory-hs256") is not None


def test_unreachable_provider_gives_a_clear_page_and_is_recorded(serve, agent, audit, closed_port):
    secret = "a-secret-that-must-never-be-shown-or-stored"
    down = {
        "type": "oidc",
        "title": "Annuaire en panne",
        "discovery_url": f"http://127.0.0.1:{closed_port}/.well-known/openid-configuration",
        "client_id": "maillage",
        "client_secret": secret,
        "timeout": 2,
    }
    browser = agent(serve({"panne": down}))
    response = browser.start("panne")
    assert response.status_code == 503
    assert "Service de connexion indisponible" in response.page
    assert "Annuaire en panne ne répond pas pour le moment" in response.page
    status = statuses()["panne"]
    assert "découverte" in status.last_error
    assert "connexion impossible" in status.last_error
    assert secret not in status.last_error
    (failure,) = audit("auth.login_failed")
    assert failure.data == {"provider": "panne", "reason": "unreachable"}


def test_token_endpoint_down_gives_a_clear_page(serve, agent, spare_provider, provider_settings):
    spare = {
        **provider_settings["keycloak"],
        "name": "secours",
        "title": "Secours",
        "discovery_url": spare_provider.discovery_url,
    }
    browser = agent(serve({"secours": spare}))
    callback = browser.callback_url("secours", "alice")
    spare_provider.stop()
    response = browser.http.get(callback, timeout=10)
    assert response.status_code == 503
    assert "Secours ne répond pas pour le moment" in response.page
    status = statuses()["secours"]
    assert status.last_error.startswith("jeton (")
    assert spare["client_secret"] not in status.last_error
    assert identity_of("secours", "sub-alice") is None


def test_logout_goes_through_the_provider_and_back(serve, agent):
    live = serve()
    browser = agent(live)
    browser.sign_in("keycloak", "alice")
    response = browser.logout()
    assert response.url == live.url + "/"
    assert (
        "Vous êtes déconnecté, de cette plateforme comme de Keycloak du ministère." in response.page
    )
    assert "Se déconnecter" not in response.text
    (end_session,) = [url for url in browser.visited if "/session/end?" in url]
    params = browser.query(end_session)
    assert params["post_logout_redirect_uri"] == live.url + "/logout/oidc/keycloak/callback"
    assert len(params["state"]) >= 32
    assert params["id_token_hint"].count(".") == 2
    # The provider's session ended too: signing in again asks for the login.
    assert "Connexion au fournisseur d’identité de test" in browser.start("keycloak").page


def test_logout_return_with_a_wrong_state_is_not_trusted(serve, agent):
    live = serve()
    browser = agent(live)
    browser.sign_in("keycloak", "alice")
    leaving = browser.post("/logout", {"csrf_token": browser.csrf_token()}, allow_redirects=False)
    assert leaving.status_code == 302
    assert "/session/end?" in leaving.headers["Location"]
    assert "Se déconnecter" not in browser.get("/").text  # the local session ended at once
    response = browser.get("/logout/oidc/keycloak/callback", params={"state": "x" * 43})
    assert response.status_code == 400
    assert "Déconnexion non confirmée" in response.page


def test_local_session_logout_stays_local(serve, agent, create_user):
    create_user("claire", email="claire@exemple.gouv.fr")
    live = serve()
    browser = agent(live)
    token = browser.forms(browser.get("/login").text)[-1].fields["csrf_token"]
    signed_in = browser.post(
        "/login", {"login": "claire", "password": "correct horse battery", "csrf_token": token}
    )
    assert "Se déconnecter" in signed_in.page
    response = browser.post("/logout", {"csrf_token": browser.csrf_token()})
    assert [url for url in browser.visited if "/session/end" in url] == []
    assert response.url == live.url + "/"
    assert "Vous êtes déconnecté." in response.page
    assert "Se déconnecter" not in response.page


def test_linking_adds_the_identity_to_the_signed_in_account(serve, agent, create_user, audit):
    claire = create_user("claire", email="claire@exemple.gouv.fr")
    live = serve()
    browser = agent(live)
    anonymous = browser.post(
        "/login/oidc/keycloak/link", {"csrf_token": browser.csrf_token()}, allow_redirects=False
    )
    assert anonymous.status_code == 302
    assert "/login?next=" in anonymous.headers["Location"]
    assert browser.post("/login/oidc/keycloak/link", {}).status_code == 400  # CSRF enforced
    html = browser.get("/login").text
    token = browser.forms(html)[-1].fields["csrf_token"]
    browser.post(
        "/login", {"login": "claire", "password": "correct horse battery", "csrf_token": token}
    )

    page = browser.post("/login/oidc/keycloak/link", {"csrf_token": browser.csrf_token()})
    back = browser.provider_login(page, "alice", allow_redirects=False)
    while "/login/oidc/keycloak/callback" not in back.headers["Location"]:
        back = browser.http.get(back.headers["Location"], allow_redirects=False, timeout=10)
    linked = browser.http.get(back.headers["Location"], allow_redirects=False, timeout=10)
    assert linked.headers["Location"].endswith("/account")
    assert "L'identité « Keycloak du ministère » est liée à votre compte." in browser.get("/").page
    assert identity_of("keycloak", "sub-alice").user_id == claire.id
    assert [entry.data["provider"] for entry in audit("auth.identity_linked")] == ["keycloak"]
    assert audit("auth.account_created") == []


@pytest.mark.parametrize(("trust_email", "linked"), [(False, False), (True, True)])
def test_email_finds_an_account_only_when_the_provider_is_trusted(
    serve, agent, create_user, trust_email, linked
):
    from maillage.platform.db import utcnow

    alice = create_user("alice.local", email="alice.martin@exemple.gouv.fr")
    alice.email_verified_at = utcnow()
    db.session.commit()
    live = serve({"keycloak": {"trust_email": trust_email, "link_by_email": True}})
    page = agent(live).sign_in("keycloak", "alice").page
    identity = identity_of("keycloak", "sub-alice")
    if linked:
        assert "Vous êtes connecté." in page
        assert identity.user_id == alice.id
    else:  # the person proves they hold the account first (tests/auth/oidc/identities)
        assert "Un compte existe déjà avec votre adresse" in page
        assert identity is None


def test_next_page_is_followed_only_on_this_site(serve, agent):
    live = serve()
    response = agent(live).sign_in("keycloak", "alice", next="/communities")
    assert response.url == live.url + "/communities"
    elsewhere = agent(live).sign_in("keycloak", "alice", next="https://ailleurs.example/")
    assert elsewhere.url == live.url + "/"


def test_two_tabs_can_sign_in_at_once(serve, agent):
    live = serve()
    browser = agent(live)
    first_tab = browser.get("/login/oidc/keycloak", allow_redirects=False).headers["Location"]
    second_tab = browser.get("/login/oidc/keycloak", allow_redirects=False).headers["Location"]
    assert browser.query(first_tab)["state"] != browser.query(second_tab)["state"]
    callback = browser.callback_url("keycloak", "alice", authorize_url=first_tab)
    assert browser.query(callback)["state"] == browser.query(first_tab)["state"]
    assert "Vous êtes connecté." in browser.http.get(callback, timeout=10).page


def test_session_keeps_no_secret(serve, agent):
    live = serve()
    browser = agent(live)
    serializer = live.app.session_interface.get_signing_serializer(live.app)

    def session() -> dict:
        return serializer.loads(browser.http.cookies.get("session"))

    browser.start("keycloak")
    (flow,) = session()["oidc_flows"].values()
    assert set(flow) == {
        "provider",
        "state",
        "nonce",
        "code_verifier",
        "next_url",
        "started_at",
        "reauth_user_id",
    }

    browser.provider_login(browser.start("keycloak"), "alice")
    kept = session()
    assert "oidc_flows" not in kept
    assert kept["auth_provider"] == "keycloak"
    assert kept["oidc_id_token"].count(".") == 2
    stored = repr(kept)
    assert "access_token" not in stored
    assert "maillage-test-secret" not in stored


def test_a_code_injected_into_another_sign_in_is_refused_thanks_to_pkce(serve, agent, audit):
    """A code stolen from one sign-in, replayed with the state of another: the code verifier
    of that other sign-in does not match, the provider refuses to redeem it."""
    live = serve()
    browser = agent(live)
    victim_tab = browser.get("/login/oidc/keycloak", allow_redirects=False).headers["Location"]
    stolen = browser.query(browser.callback_url("keycloak", "alice"))
    state = browser.query(victim_tab)["state"]
    response = browser.get(
        "/login/oidc/keycloak/callback",
        params={"code": stolen["code"], "state": state, "iss": stolen["iss"]},
    )
    assert response.status_code == 400
    assert "Connexion refusée par le fournisseur d'identité" in response.page
    (failure,) = audit("auth.login_failed")
    assert failure.data == {
        "provider": "keycloak",
        "reason": "token_refused",
        "error": "invalid_grant",
    }
    assert identity_of("keycloak", "sub-alice") is None
