"""OIDC providers from configuration: validation at start-up, what the claims become, the
sign-in buttons, the Content-Security-Policy and the status check."""

from __future__ import annotations

import html
import re

import pytest

from maillage.auth.oidc.client import ProviderUnavailable
from maillage.auth.oidc.proconnect import ProConnectProvider
from maillage.auth.oidc.provider import OIDCProvider
from maillage.auth.providers.registry import build_providers, providers
from maillage.platform.config import ConfigError

BASE = {
    "name": "annuaire",
    "type": "oidc",
    "discovery_url": "https://sso.exemple.gouv.fr/realms/agents/.well-known/openid-configuration",
    "client_id": "maillage",
    "client_secret": "s3cret-s3cret-s3cret-s3cret-s3cret",
}


def build(**changes):
    return build_providers([{**BASE, **changes}])[changes.get("name", "annuaire")]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"discovery_url": None}, "discovery_url"),
        ({"client_secret": ""}, "missing client_secret"),
        ({"client_auth_method": "private_key_jwt"}, "client_auth_method"),
        ({"allowed_algorithms": ["RS256", "none"]}, "not accepted ['none']"),
        ({"allowed_algorithms": ["HS256"], "client_secret": "short"}, "32 characters"),
        ({"claims_mapping": {"telephone": "phone"}}, "unknown fields ['telephone']"),
        ({"organisation_kind": "ministere"}, "not an organisation kind"),
        ({"timeout": "vite"}, "timeout"),
        ({"scopes": 42}, "scopes"),
    ],
)
def test_invalid_settings_stop_the_start_up(app, changes, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        build(**changes)


def test_any_number_of_providers_with_their_own_settings(app):
    built = build_providers(
        [
            {**BASE, "name": "keycloak", "server_metadata_url": BASE["discovery_url"]},
            {**BASE, "name": "autre", "scopes": "email profile", "timeout": 3},
            {**BASE, "name": "proconnect", "type": "proconnect", "title": None},
        ]
    )
    assert [type(p) for p in built.values()] == [OIDCProvider, OIDCProvider, ProConnectProvider]
    assert built["autre"].scopes == ("openid", "email", "profile")
    assert built["autre"].client.settings.timeout == 3
    assert built["keycloak"].algorithms == (
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"
    )  # fmt: skip
    proconnect = built["proconnect"]
    assert proconnect.title == "ProConnect"
    assert proconnect.trust_email is True
    assert proconnect.organisation_kind == "state_service"
    assert proconnect.client.settings.auth_method == "client_secret_post"
    assert proconnect.acr_values == ("eidas1",)
    assert proconnect.scopes == (
        "openid",
        "given_name",
        "usual_name",
        "email",
        "uid",
        "siret",
        "idp_id",
    )


def test_proconnect_always_asks_for_its_required_scopes(app):
    provider = build(type="proconnect", scopes=["belonging_population"])
    assert provider.scopes == (
        "openid", "given_name", "usual_name", "email", "uid", "siret", "belonging_population"
    )  # fmt: skip


def test_proconnect_claims_become_an_identity(app):
    provider = build(type="proconnect", name="proconnect")
    info = provider.identity_info(
        {
            "sub": "4d6c1f",
            "idp_id": "fia1v2",
            "given_name": "Anaïs",
            "usual_name": "Le Bihan-Kervéguen",
            "email": "anais.lebihan@finances.gouv.fr",
            "uid": "4242",
            "siret": "110 002 011 00044",
            "acr": "eidas1",
            "nonce": "n" * 43,
            "aud": "maillage",
        }
    )
    assert info.provider == "proconnect"
    assert info.identifier == "4d6c1f"  # sub alone: the key does not depend on idp_id
    assert info.display_name == "Anaïs Le Bihan-Kervéguen"
    assert info.email_verified is False  # ProConnect sends no email_verified: not a yes
    assert info.organisation_siret == "11000201100044"
    assert info.organisation_kind == "state_service"
    assert info.idp_id == "fia1v2"
    assert info.username_hint == ""
    assert info.data["acr"] == "eidas1"
    assert "nonce" not in info.data
    assert "aud" not in info.data


@pytest.mark.parametrize(
    ("trust_email", "claim", "verified"),
    [
        (False, True, False),
        (True, True, True),
        (True, "true", True),
        (True, None, False),  # a missing email_verified is not a yes
        (True, False, False),
        (True, "false", False),
        (True, 1, False),
    ],
)
def test_an_address_is_vouched_for_only_by_a_trusted_provider(app, trust_email, claim, verified):
    provider = build(trust_email=trust_email)
    claims = {"sub": "x", "email": "agent@exemple.gouv.fr"}
    if claim is not None:
        claims["email_verified"] = claim
    info = provider.identity_info(claims)
    assert info.email_verified is verified
    assert info.identifier == "x"


def test_claims_mapping_reads_configured_claims(app):
    provider = build(
        claims_mapping={
            "organisation_siret": "siret_etablissement",
            "organisation_name": "etablissement",
            "groups": "groups",
            "username": "uid",
        },
        organisation_kind="association",
    )
    info = provider.identity_info(
        {
            "sub": "x",
            "uid": "lea.n",
            "siret_etablissement": "77567227224553",
            "etablissement": "Association Entraide",
            "groups": ["animateurs", "bureau"],
        }
    )
    assert info.username_hint == "lea.n"
    assert info.organisation_siret == "77567227224553"
    assert info.organisation_name == "Association Entraide"
    assert info.organisation_kind == "association"
    assert info.groups == ("animateurs", "bureau")


def test_sign_in_page_shows_each_provider_button(client):
    page = html.unescape(client.get("/login?next=/communities").get_data(as_text=True))
    assert "Se connecter avec Keycloak du ministère" in page
    assert 'href="/login/oidc/keycloak?next=/communities"' in page
    # ProConnect's published button: a form's button whose name is the hidden text.
    assert '<form method="get" action="/login/oidc/proconnect">' in page
    assert '<input type="hidden" name="next" value="/communities">' in page
    assert '<button type="submit" class="proconnect-button">' in page
    assert '<span class="proconnect-sr-only">S’identifier avec ProConnect</span>' in page
    assert '<link rel="stylesheet" href="/oidc/static/oidc/proconnect.css">' in page
    whatis = re.search(r'<a href="https://www.proconnect.gouv.fr/"[^>]*>(.*?)</a>', page).group(0)
    assert 'target="_blank"' in whatis
    assert 'rel="noopener noreferrer"' in whatis
    assert 'title="Qu’est-ce que ProConnect ? - nouvelle fenêtre"' in whatis
    assert "Qu’est-ce que ProConnect ?" in whatis
    assert '<span class="visually-hidden"> (nouvelle fenêtre)</span>' in whatis


def test_the_proconnect_button_styles_and_drawings_are_served(client):
    css = client.get("/oidc/static/oidc/proconnect.css")
    assert css.status_code == 200
    text = css.get_data(as_text=True)
    css.close()
    assert 'background-image: url("proconnect-button.svg")' in text
    assert 'background-image: url("proconnect-button-hover.svg")' in text
    for name, colour in (
        ("proconnect-button.svg", "#000091"),
        ("proconnect-button-hover.svg", "#1212FF"),
    ):
        drawing = client.get(f"/oidc/static/oidc/{name}")
        assert drawing.status_code == 200
        assert drawing.mimetype == "image/svg+xml"
        svg = drawing.get_data(as_text=True)
        drawing.close()
        assert f'<rect width="211" height="58" fill="{colour}"/>' in svg


def test_form_action_allows_the_providers_origins(client, oidc_servers):
    policy = client.get("/login").headers["Content-Security-Policy"]
    form_action = re.search(r"form-action ([^;]*)", policy).group(1).split()
    generic = oidc_servers["generic"].issuer
    proconnect = oidc_servers["proconnect"].issuer.removesuffix("/api/v2")
    assert form_action == ["'self'", *sorted({generic, proconnect})]
    assert "default-src 'self'" in policy  # the rest of the policy is untouched


def test_form_action_adds_the_end_session_origin_once_known(app, client, oidc_servers):
    provider = providers()["keycloak"]
    provider.client.metadata()
    provider.client._metadata = {
        **provider.client._metadata,
        "end_session_endpoint": "https://deconnexion.exemple.gouv.fr/logout",
    }
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "https://deconnexion.exemple.gouv.fr" in re.search(r"form-action ([^;]*)", policy).group(
        1
    )


def test_unknown_or_non_oidc_provider_is_a_404(client):
    assert client.get("/login/oidc/inconnu").status_code == 404
    assert client.get("/login/oidc/inconnu/callback?state=x").status_code == 404


def test_check_fetches_discovery(app, oidc_servers, closed_port):
    providers()["proconnect"].check()
    assert providers()["proconnect"].client.cached_metadata()["issuer"].endswith("/api/v2")
    down = build(
        discovery_url=f"http://127.0.0.1:{closed_port}/.well-known/openid-configuration",
        timeout=2,
    )
    with pytest.raises(ProviderUnavailable) as raised:
        down.check()
    assert "connexion impossible" in str(raised.value)
    assert BASE["client_secret"] not in str(raised.value)


def test_discovery_naming_another_issuer_is_refused(app, oidc_servers):
    """The issuer must be the URL the document came from (a document relayed from elsewhere
    could name anyone's keys)."""
    generic = oidc_servers["generic"]
    relayed = build(discovery_url=generic.discovery_url.replace("127.0.0.1", "localhost"))
    with pytest.raises(ProviderUnavailable, match="ne correspond pas"):
        relayed.check()
    build(discovery_url=generic.discovery_url).check()


def test_a_provider_that_does_not_answer_times_out(app):
    import socket

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        provider = build(
            discovery_url=f"http://127.0.0.1:{port}/.well-known/openid-configuration",
            timeout=0.5,
        )
        with pytest.raises(ProviderUnavailable, match="délai dépassé"):
            provider.check()
