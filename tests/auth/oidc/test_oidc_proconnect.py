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


def test_authorization_request_asks_for_the_minimum_level_and_stronger(serve, agent):
    browser = agent(serve())
    first = browser.start("proconnect").history[0]
    params = browser.query(first.headers["Location"])
    assert first.headers["Location"].split("?")[0].endswith("/api/v2/authorize")
    # The minimum first (acr_values lists levels in order of preference), then every stronger
    # level: ProConnect compares an essential acr exactly.
    accepted = ["eidas1", "eidas1-mfa", "eidas2", "eidas3"]
    assert params["acr_values"] == " ".join(accepted)
    assert json.loads(params["claims"]) == {
        "id_token": {"acr": {"essential": True, "values": accepted}}
    }
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
    assert "prompt" not in params
    assert "login_hint" not in params
    assert "idp_hint" not in params


def test_first_sign_in_provisions_into_the_organisation_of_the_siret(
    serve, agent, create_organisation, audit
):
    interieur = create_organisation("Ministère de l'Intérieur", siret="11000201100044")
    live = serve()
    response = agent(live).sign_in("proconnect", "agent")
    assert "Vous êtes connecté." in response.page

    (identity,) = identities()
    assert identity.provider == "proconnect"
    assert identity.identifier == "sub-agent"  # sub alone: see test_oidc_account_keys
    assert identity.data["usual_name"] == "Lefèvre-Côté"
    assert identity.data["organizational_unit"] == "Direction du numérique"
    assert identity.data["acr"] == "eidas1"
    user = identity.user
    assert user.display_name == "Éloïse Lefèvre-Côté"
    assert user.organisation_id == interieur.id
    assert user.email == "eloise.lefevre@interieur.gouv.fr"
    assert user.email_verified_at is None  # no email_verified claim: not vouched for

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
    assert identity.identifier == "sub-collectivite"


def test_an_address_without_email_verified_never_joins_an_existing_account(
    serve, agent, create_user
):
    """ProConnect sends no email_verified: a missing claim is not a yes, so the address alone
    does not link the sign-in to the local account that verified it."""
    from maillage.platform.db import utcnow

    eloise = create_user("eloise", email="eloise.lefevre@interieur.gouv.fr")
    eloise.email_verified_at = utcnow()
    db.session.commit()
    agent(serve()).sign_in("proconnect", "agent")
    assert all(identity.user_id != eloise.id for identity in identities())


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


def test_level_below_the_minimum_is_refused_with_an_explanation(serve, agent, audit):
    live = serve({"proconnect": {"acr_values": "eidas2"}})
    browser = agent(live)
    first = browser.start("proconnect").history[0]
    params = browser.query(first.headers["Location"])
    assert params["acr_values"] == "eidas2 eidas3"
    assert json.loads(params["claims"])["id_token"]["acr"]["values"] == ["eidas2", "eidas3"]

    # An identity provider that answers a weaker level anyway: our own check refuses it.
    response = agent(live).sign_in("proconnect", "agent-eidas0")
    assert response.status_code == 403
    assert "Niveau d'authentification insuffisant" in response.page
    assert "<code>eidas2</code> : substantiel (double authentification gérée par" in response.page
    assert "ou un niveau plus élevé" in response.page
    assert "<code>eidas0</code> : minimal (identité déclarée, mot de passe)" in response.page
    assert identities() == []
    (failure,) = audit("auth.login_failed")
    assert failure.data == {
        "provider": "proconnect",
        "reason": "acr",
        "acr": "eidas0",
        "required": ["eidas2"],
    }


def test_an_unknown_level_is_refused(serve, agent, audit):
    response = agent(serve()).sign_in("proconnect", "agent-inconnu")
    assert response.status_code == 403
    assert "Niveau d'authentification insuffisant" in response.page
    assert "<code>niveau-inconnu</code>" in response.page
    assert audit("auth.login_failed")[-1].data["acr"] == "niveau-inconnu"
    assert identities() == []


def test_proconnect_itself_refuses_a_level_outside_the_list(serve, agent):
    """ProConnect answers access_denied when no requested level could be reached (here an
    eidas1-mfa sign-in for a minimum of eidas2): the person reads its message."""
    live = serve({"proconnect": {"acr_values": "eidas2"}})
    response = agent(live).sign_in("proconnect", "agent-mfa")
    assert response.status_code == 403
    assert "None of the requested ACRs could be obtained." in response.page
    assert identities() == []


@pytest.mark.parametrize("login", ["agent", "agent-mfa", "agent-eidas2", "agent-eidas3"])
def test_a_stronger_level_than_the_minimum_signs_in(serve, agent, login):
    """The regression: eidas1 was required as an exact value (at ProConnect, which compares an
    essential acr exactly, and here), so a stronger sign-in (eidas1-mfa, eidas2, eidas3) was
    refused."""
    response = agent(serve()).sign_in("proconnect", login)
    assert "Vous êtes connecté." in response.page
    (identity,) = identities()
    assert identity.identifier == f"sub-{login}"
    assert identity.data["acr"] == {"agent": "eidas1", "agent-mfa": "eidas1-mfa"}.get(
        login, login.removeprefix("agent-")
    )


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
