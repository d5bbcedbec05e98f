"""Authentication levels as minimums (ProConnect's order, a generic provider's ordered list) and
the sign-in hints a URL may pass through: the provider's own rules, without a network."""

from __future__ import annotations

import json

import pytest

from maillage.auth.oidc.acr import PROCONNECT_ASSURANCE
from maillage.auth.oidc.provider import AuthenticationLevelTooLow
from maillage.auth.providers.registry import build_providers
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


def proconnect(minimum):
    return build(type="proconnect", name="proconnect", acr_values=minimum)


@pytest.mark.parametrize(
    ("minimum", "acr", "accepted"),
    [
        ("eidas1", "eidas1", True),
        ("eidas1", "eidas1-mfa", True),
        ("eidas1", "eidas2", True),
        ("eidas1", "eidas3", True),
        ("eidas1", "eidas0", False),
        ("eidas1", "eidas0-mfa", False),  # a second factor does not make a weak identity
        ("eidas1-mfa", "eidas1", False),  # no second factor
        ("eidas1-mfa", "eidas2", True),
        ("eidas1-mfa", "eidas0-mfa", False),
        ("eidas2", "eidas1-mfa", False),
        ("eidas2", "eidas3", True),
        ("eidas3", "eidas2", False),
        ("eidas0", "eidas1", True),
        ("eidas1", "niveau-inconnu", False),
        ("eidas1", None, False),
        ("eidas1", 2, False),
        ("eidas1", PROCONNECT_ASSURANCE + "consistency-checked", False),  # another family
        (
            PROCONNECT_ASSURANCE + "self-asserted",
            PROCONNECT_ASSURANCE + "consistency-checked-2fa",
            True,
        ),
        (
            PROCONNECT_ASSURANCE + "consistency-checked",
            PROCONNECT_ASSURANCE + "self-asserted-2fa",
            False,
        ),
        (PROCONNECT_ASSURANCE + "certification-dirigeant", "eidas3", False),
        ("eidas4", "eidas4", True),  # a level this version does not know: matched exactly
        ("eidas4", "eidas3", False),
    ],
)
def test_proconnect_level_is_a_minimum_in_its_order(app, minimum, acr, accepted):
    provider = proconnect(minimum)
    if accepted:
        provider.check_claims({"acr": acr})
    else:
        with pytest.raises(AuthenticationLevelTooLow) as raised:
            provider.check_claims({"acr": acr})
        assert raised.value.required == (minimum,)


def test_any_of_several_minimums_is_enough(app):
    provider = proconnect(["eidas2", PROCONNECT_ASSURANCE + "consistency-checked-2fa"])
    provider.check_claims({"acr": "eidas3"})
    provider.check_claims({"acr": PROCONNECT_ASSURANCE + "consistency-checked-2fa"})
    with pytest.raises(AuthenticationLevelTooLow):
        provider.check_claims({"acr": "eidas1-mfa"})


@pytest.mark.parametrize(
    ("minimum", "values"),
    [
        ("eidas1", ["eidas1", "eidas1-mfa", "eidas2", "eidas3"]),
        ("eidas1-mfa", ["eidas1-mfa", "eidas2", "eidas3"]),
        ("eidas2", ["eidas2", "eidas3"]),
        ("eidas0", ["eidas0", "eidas0-mfa", "eidas1", "eidas1-mfa", "eidas2", "eidas3"]),
    ],
)
def test_proconnect_asks_for_every_level_that_reaches_the_minimum(app, minimum, values):
    """ProConnect compares an essential acr exactly: the request lists the minimum first (the
    order of preference of acr_values) and every stronger level, in both parameters."""
    params = proconnect(minimum).authorization_params()
    assert params["acr_values"] == " ".join(values)
    assert json.loads(params["claims"]) == {
        "id_token": {"acr": {"essential": True, "values": values}}
    }


def test_proconnect_without_a_level_asks_for_none(app):
    assert proconnect([]).authorization_params() == {}
    proconnect([]).check_claims({})  # nothing required, nothing checked


def test_generic_levels_in_a_configured_order(app):
    provider = build(acr_values="silver", acr_levels=["bronze", "silver", "gold"])
    assert provider.authorization_params() == {"acr_values": "silver gold"}
    provider.check_claims({"acr": "gold"})
    provider.check_claims({"acr": "silver"})
    for weaker in ("bronze", "platinum", None):
        with pytest.raises(AuthenticationLevelTooLow):
            provider.check_claims({"acr": weaker})


def test_generic_levels_without_an_order_are_exact(app):
    provider = build(acr_values=["urn:mfa", "urn:smartcard"])
    assert provider.authorization_params() == {"acr_values": "urn:mfa urn:smartcard"}
    provider.check_claims({"acr": "urn:smartcard"})
    with pytest.raises(AuthenticationLevelTooLow):
        provider.check_claims({"acr": "urn:password"})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"acr_values": "diamond", "acr_levels": ["bronze", "gold"]}, "not in acr_levels"),
        ({"type": "proconnect", "acr_levels": ["a", "b"]}, "this type's levels are fixed"),
        ({"acr_levels": 3}, "acr_levels"),
    ],
)
def test_invalid_level_settings_stop_the_start_up(app, changes, message):
    with pytest.raises(ConfigError, match=message):
        build(**changes)


def test_reauthentication_asks_for_a_new_sign_in(app):
    assert build().authorization_params(reauthenticate=True) == {"prompt": "login", "max_age": "0"}
    params = proconnect("eidas1").authorization_params(reauthenticate=True)
    assert params["prompt"] == "login"
    assert "max_age" not in params  # ProConnect documents no max_age and refuses unknown ones
    assert json.loads(params["claims"])["id_token"]["auth_time"] == {"essential": True}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"login_hint": "agent@interieur.gouv.fr"}, {"login_hint": "agent@interieur.gouv.fr"}),
        (
            {"login_hint": " agent@interieur.gouv.fr ", "idp_hint": "fia1v2"},
            {"login_hint": "agent@interieur.gouv.fr", "idp_hint": "fia1v2"},
        ),
        (
            {"idp_hint": "71144ab3-ee1a-4401-b7b3-79b44f7daeeb"},
            {"idp_hint": "71144ab3-ee1a-4401-b7b3-79b44f7daeeb"},
        ),
        ({"login_hint": "pas une adresse"}, {}),
        ({"login_hint": "a@b@c"}, {}),
        ({"login_hint": "agent@interieur.gouv.fr\r\nX: y"}, {}),
        ({"idp_hint": "../../etc"}, {}),
        ({"idp_hint": "x" * 101}, {}),
        ({"idp_hint": ""}, {}),
        ({"prompt": "none", "acr_values": "eidas0", "redirect_uri": "https://ailleurs"}, {}),
    ],
)
def test_proconnect_hints_are_validated(app, values, expected):
    assert proconnect("eidas1").valid_hints(values) == expected


def test_generic_providers_take_only_a_login_hint(app):
    provider = build()
    assert provider.valid_hints({"login_hint": "amartin", "idp_hint": "fia1v2"}) == {
        "login_hint": "amartin"
    }
    assert provider.valid_hints({"login_hint": "a" * 255}) == {}
    assert provider.valid_hints({"login_hint": "deux mots"}) == {}


def test_a_generic_provider_with_ordered_levels_takes_a_stronger_one(serve, agent):
    """Against the real provider: bruno signs in at loa-3 for a minimum of loa-2; alice's
    sign-in carries no level at all and is refused."""
    levels = {"acr_values": "loa-2", "acr_levels": ["loa-1", "loa-2", "loa-3"]}
    live = serve({"keycloak": levels})
    browser = agent(live)
    first = browser.start("keycloak").history[0]
    assert browser.query(first.headers["Location"])["acr_values"] == "loa-2 loa-3"
    assert "Vous êtes connecté." in agent(live).sign_in("keycloak", "bruno").page
    refused = agent(live).sign_in("keycloak", "alice")
    assert refused.status_code == 403
    assert "Niveau d'authentification insuffisant" in refused.page
    assert "non communiqué par le fournisseur d'identité" in refused.page
