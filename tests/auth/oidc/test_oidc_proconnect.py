"""The ProConnect profile, proved against a ProConnect-like oidc-provider: issuer under /api/v2,
ES256 ID tokens, userinfo as a signed JWT, client_secret_post, acr through `claims`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.communities.organisations.models import Organisation
from maillage.platform.extensions import db


def identities() -> list[Identity]:
    db.session.expire_all()
    return list(db.session.scalars(select(Identity).order_by(Identity.id)))


def test_authorization_request_asks_for_the_level_through_claims(serve, agent):
    browser = agent(serve())
    first = browser.start("proconnect").history[0]
    params = browser.query(first.headers["Location"])
    assert first.headers["Location"].split("?")[0].endswith("/api/v2/authorize")
    assert json.loads(params["claims"]) == {
        "id_token": {"acr": {"essential": True, "values": ["eidas1"]}}
    }
    assert "acr_values" not in params  # ProConnect refuses parameters it does not know
    assert params["scope"].split() == [
        "openid",
        "given_name",
        "usual_name",
        "email",
        "uid",
        "siret",
        "idp_id",
        "organizational_unit",
    ]
    assert params["code_challenge_method"] == "S256"


def test_first_sign_in_provisions_into_the_organisation_of_the_siret(
    serve, agent, create_organisation, audit
):
    interieur = create_organisation("Ministère de l'Intérieur", siret="11000201100044")
    live = serve()
    response = agent(live).sign_in("proconnect", "agent")
    assert "Vous êtes connecté." in response.page

    (identity,) = identities()
    assert identity.provider == "proconnect"
    assert identity.identifier == "fia1-interieur:sub-agent"
    assert identity.data["usual_name"] == "Lefèvre-Côté"
    assert identity.data["organizational_unit"] == "Direction du numérique"
    assert identity.data["acr"] == "eidas1"
    user = identity.user
    assert user.display_name == "Éloïse Lefèvre-Côté"
    assert user.organisation_id == interieur.id
    assert user.email == "eloise.lefevre@interieur.gouv.fr"
    assert user.email_verified_at is not None  # ProConnect vouches for addresses

    again = agent(live).sign_in("proconnect", "agent")
    assert "Vous êtes connecté." in again.page
    assert [one.user_id for one in identities()] == [user.id]
    assert len(audit("auth.login")) == 2


def test_unknown_siret_creates_a_state_service_organisation(serve, agent):
    agent(serve()).sign_in("proconnect", "collectivite")
    (identity,) = identities()
    organisation = identity.user.organisation
    assert organisation.siret == "21750001600019"
    assert organisation.name == "Établissement 21750001600019"
    assert organisation.kind == "state_service"  # the configured default of ProConnect
    assert identity.identifier == "proconnect-identite:sub-collectivite"


def test_trusted_email_finds_the_existing_verified_account(serve, agent, create_user):
    from maillage.platform.db import utcnow

    eloise = create_user("eloise", email="eloise.lefevre@interieur.gouv.fr")
    eloise.email_verified_at = utcnow()
    db.session.commit()
    agent(serve()).sign_in("proconnect", "agent")
    (identity,) = identities()
    assert identity.user_id == eloise.id


def test_access_rule_refusal_shows_the_rule_organisation_and_siret(serve, agent, audit):
    live = serve(
        {
            "proconnect": {
                "access_rules": {"siret_prefixes": ["110", "130"]},
                "claims_mapping": {"organisation_name": "organizational_unit"},
            }
        }
    )
    response = agent(live).sign_in("proconnect", "prestataire")
    assert response.status_code == 403
    assert "Votre organisation n'a pas accès à cette plateforme" in response.page
    assert "Seules les organisations dont le SIRET commence ainsi sont acceptées" in response.page
    assert "<code>110</code>" in response.page
    assert "55208131766522" in response.page
    assert "proconnect-identite" in response.page
    assert identities() == []
    (failure,) = audit("auth.login_failed")
    assert failure.data["reason"] == "access_rule"
    assert failure.data["rule"] == "siret_prefixes"

    allowed = agent(live).sign_in("proconnect", "agent")
    assert "Vous êtes connecté." in allowed.page
    assert identities()[0].user.organisation.name == "Direction du numérique"


def test_organisation_kind_refusal_names_the_kind(serve, agent, create_organisation):
    create_organisation("Prestataire Conseil", kind="other", siret="55208131766522")
    live = serve({"proconnect": {"access_rules": {"organisation_kinds": ["state_service"]}}})
    response = agent(live).sign_in("proconnect", "prestataire")
    assert response.status_code == 403
    assert "Seuls ces types d'organisation sont acceptés" in response.page
    assert "Service de l'État" in response.page
    assert db.session.scalar(select(db.func.count(Organisation.id))) == 1


def test_level_too_low_is_refused_with_an_explanation(serve, agent, audit):
    live = serve({"proconnect": {"acr_values": ["eidas2", "eidas3"]}})
    browser = agent(live)
    first = browser.start("proconnect").history[0]
    claims = json.loads(browser.query(first.headers["Location"])["claims"])
    assert claims["id_token"]["acr"]["values"] == ["eidas2", "eidas3"]

    response = agent(live).sign_in("proconnect", "agent")
    assert response.status_code == 403
    assert "Niveau d'authentification insuffisant" in response.page
    assert "<code>eidas2</code> : substantiel (authentification à deux facteurs)" in response.page
    assert "<code>eidas1</code> : faible (identifiant et mot de passe)" in response.page
    assert identities() == []
    (failure,) = audit("auth.login_failed")
    assert failure.data == {
        "provider": "proconnect",
        "reason": "acr",
        "acr": "eidas1",
        "required": ["eidas2", "eidas3"],
    }

    strong = agent(live).sign_in("proconnect", "agent-eidas2")
    assert "Vous êtes connecté." in strong.page


@pytest.mark.parametrize(
    ("login", "detail"),
    [("mallory-audience", "aud"), ("mallory-signature", "signature invalide")],
)
def test_tampered_es256_id_tokens_are_refused(serve, agent, audit, login, detail):
    response = agent(serve()).sign_in("proconnect", login)
    assert response.status_code == 400
    assert "n'a pas passé nos contrôles de sécurité" in response.page
    (failure,) = audit("auth.login_failed")
    assert detail in failure.data["detail"]
    assert identities() == []


def test_logout_round_trip_through_proconnect(serve, agent):
    live = serve()
    browser = agent(live)
    browser.sign_in("proconnect", "agent")
    response = browser.logout()
    assert "Vous êtes déconnecté, de cette plateforme comme de ProConnect." in response.page
    (end_session,) = [url for url in browser.visited if "/api/v2/session/end?" in url]
    params = browser.query(end_session)
    assert params["post_logout_redirect_uri"] == live.url + "/logout/oidc/proconnect/callback"
    assert len(params["state"]) >= 32
    assert "Se déconnecter" not in browser.get("/").text
