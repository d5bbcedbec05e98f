"""Each check of what comes back from the provider is exercised by a wrong value sent through
the real provider (or its real response, altered): disabling the check makes its test fail.

- the ``iss`` parameter of the authorization response (RFC 9207, against mix-up attacks);
- the ``sub``, ``iss`` and ``aud`` of a userinfo response signed as a JWT (ProConnect's), whose
  claims are merged over the ID token's: without the ``sub`` check, a userinfo answer naming
  someone else would sign in as them.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.platform.extensions import db


def identities() -> list[Identity]:
    db.session.expire_all()
    return list(db.session.scalars(select(Identity)))


def with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&"))
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return parts._replace(query=urlencode(query, safe="%")).geturl()


def test_the_provider_sends_its_issuer_and_a_right_one_signs_in(serve, agent, oidc_servers):
    browser = agent(serve())
    callback = browser.callback_url("keycloak", "alice")
    assert browser.query(callback)["iss"] == oidc_servers["generic"].issuer
    assert "Vous êtes connecté." in browser.http.get(callback, timeout=10).page


@pytest.mark.parametrize("issuer", ["proconnect", "elsewhere"])
def test_a_response_naming_another_issuer_is_refused(serve, agent, oidc_servers, audit, issuer):
    """A mix-up: the browser brings back a response naming another provider (ours or not)."""
    wrong = oidc_servers["proconnect"].issuer if issuer == "proconnect" else "https://x.example"
    browser = agent(serve())
    callback = with_query(browser.callback_url("keycloak", "alice"), iss=wrong)
    response = browser.http.get(callback, timeout=10)
    assert response.status_code == 400
    assert "Réponse du fournisseur d'identité refusée" in response.page
    (failure,) = audit("auth.login_failed")
    assert failure.data["detail"] == "émetteur inattendu dans la réponse"
    assert identities() == []


def test_a_response_without_the_issuer_it_announced_is_refused(serve, agent, audit):
    """The provider's metadata says it sends ``iss`` (authorization_response_iss_parameter_
    supported): a response without it is not from it (RFC 9207, section 2.4)."""
    browser = agent(serve())
    callback = with_query(browser.callback_url("keycloak", "alice"), iss=None)
    response = browser.http.get(callback, timeout=10)
    assert response.status_code == 400
    (failure,) = audit("auth.login_failed")
    assert failure.data["detail"] == "émetteur absent de la réponse (RFC 9207)"
    assert identities() == []


@pytest.mark.parametrize(
    ("login", "detail"),
    [
        ("mallory-userinfo-sub", "userinfo : la personne ne correspond pas à l'ID token"),
        ("mallory-userinfo-iss", "userinfo : émetteur inattendu"),
        ("mallory-userinfo-no-iss", "userinfo : émetteur inattendu"),
        ("mallory-userinfo-aud", "userinfo : audience inattendue"),
    ],
)
def test_a_signed_userinfo_with_a_wrong_claim_is_refused(serve, agent, audit, login, detail):
    """The test provider signs these userinfo answers with its own key (a valid signature), one
    claim wrong: the sign-in is refused, nobody is signed in (least of all ``sub-agent``)."""
    browser = agent(serve())
    response = browser.sign_in("proconnect", login)
    assert response.status_code == 400
    assert "n'a pas passé nos contrôles de sécurité" in response.page
    (failure,) = audit("auth.login_failed")
    assert failure.data["detail"] == detail
    assert identities() == []
    assert "Se déconnecter" not in browser.get("/").text


def test_a_right_signed_userinfo_is_read(serve, agent):
    agent(serve()).sign_in("proconnect", "agent")
    (identity,) = identities()
    assert identity.data["organizational_unit"] == "Direction du numérique"  # from userinfo only
