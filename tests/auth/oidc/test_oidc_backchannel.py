"""OIDC Back-Channel Logout 1.0: the provider ends a person's sessions here, server to server.

The end-to-end test uses oidc-provider's own back-channel logout (its session ends, it posts a
logout token to our backchannel_logout_uri); the checks of the token are each proved with a
token the test provider signs to order (POST /test/logout-token), every one wrong in one way.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests
from sqlalchemy import select

from maillage.auth.sessions.models import SessionRecord
from maillage.platform.extensions import db

ENDPOINT = "/logout/oidc/keycloak/backchannel"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def logout_token(server, claims=None, drop=(), tamper=None) -> str:
    order = {"claims": claims or {}, "drop": list(drop)}
    if tamper:
        order["tamper"] = tamper
    origin = server.issuer.removesuffix("/api/v2")
    response = requests.post(f"{origin}/test/logout-token", json=order, timeout=10)
    response.raise_for_status()
    return response.json()["logout_token"]


def payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def unsigned(claims: dict) -> str:
    def encode(value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{encode({'alg': 'none', 'typ': 'logout+jwt'})}.{encode(claims)}."


def post(client, token=None, provider="keycloak"):
    data = {} if token is None else {"logout_token": token}
    return client.post(f"/logout/oidc/{provider}/backchannel", data=data)


def signed_in(browser) -> bool:
    return "Se déconnecter" in browser.get("/").text


def test_the_providers_logout_ends_the_session_it_opened(serve, agent, oidc_servers, audit):
    live = serve()
    alice, joel = agent(live), agent(live)
    alice.sign_in("keycloak", "alice")
    joel.sign_in("keycloak", "joel")
    assert signed_in(alice)
    assert signed_in(joel)
    id_token = live.app.session_interface.get_signing_serializer(live.app).loads(
        alice.http.cookies.get("session")
    )["oidc_id_token"]
    sid = payload(id_token)["sid"]
    # The sign-in's provider, sub and sid are recorded with the session, server side.
    db.session.expire_all()
    records = db.session.scalars(
        select(SessionRecord).where(SessionRecord.provider_subject == "sub-alice")
    ).all()
    assert [(r.provider, r.provider_sid) for r in records] == [("keycloak", sid)]

    # Alice signs out at the provider itself (another application, its own page): the provider
    # posts a logout token to every client of that session, us included.
    confirm = alice.http.get(f"{oidc_servers['generic'].issuer}/session/end", timeout=10)
    (form,) = [one for one in alice.forms(confirm.text) if one.attrs.get("id") == "op.logoutForm"]
    alice.http.post(
        requests.compat.urljoin(confirm.url, form.action),
        data={**form.fields, "logout": "yes"},
        timeout=10,
    )

    assert not signed_in(alice)  # the copy of her cookie in this browser opens nothing any more
    assert signed_in(joel)
    db.session.expire_all()
    assert (
        db.session.scalars(select(SessionRecord).where(SessionRecord.provider_sid == sid)).all()
        == []
    )
    (entry,) = audit("auth.backchannel_logout")
    assert entry.data == {"provider": "keycloak", "ended": 1}


def test_a_good_token_is_taken_once_and_answered_200(client, oidc_servers, audit):
    token = logout_token(oidc_servers["generic"], {"sub": "sub-alice", "sid": "sid-x"})
    response = post(client, token)  # no CSRF token: the provider is no browser
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert [entry.data for entry in audit("auth.backchannel_logout")] == [
        {"provider": "keycloak", "ended": 0}
    ]

    replayed = post(client, token)
    assert replayed.status_code == 400
    assert replayed.headers["Cache-Control"] == "no-store"
    assert replayed.json == {
        "error": "invalid_request",
        "error_description": "jeton de déconnexion déjà reçu (jti)",
    }
    assert len(audit("auth.backchannel_logout")) == 1


@pytest.mark.parametrize(
    ("claims", "drop", "tamper", "detail"),
    [
        ({"iss": "http://127.0.0.1:1/ailleurs"}, (), None, "iss inattendu"),
        ({"aud": "un-autre-client"}, (), None, "aud inattendu"),
        ({"aud": ["un-autre-client", "encore-un"]}, (), None, "aud inattendu"),
        ({"iat": 4102444800}, (), None, "iat dans le futur"),
        ({"iat": 1700000000, "exp": 4102444800}, (), None, "iat trop ancien"),
        ({}, ("iat",), None, "iat absent ou invalide"),
        ({"iat": "maintenant"}, (), None, "iat absent ou invalide"),
        ({"exp": 1700000000}, (), None, "exp dépassé"),
        ({}, ("events",), None, "events sans l'évènement"),
        ({"events": {"http://schemas.openid.net/event/autre": {}}}, (), None, "events sans"),
        ({"events": {EVENT: "oui"}}, (), None, "events sans"),
        ({}, ("sub", "sid"), None, "ni sub ni sid"),
        ({"sid": ""}, ("sub",), None, "ni sub ni sid"),
        ({"sub": 42}, (), None, "sub invalide"),
        ({"nonce": "n" * 43}, (), None, "nonce interdit"),
        ({}, ("jti",), None, "jti absent"),
        ({}, (), "signature", "signature invalide"),
    ],
)
def test_a_wrong_token_is_refused_with_400(
    client, oidc_servers, audit, claims, drop, tamper, detail
):
    claims = {"sub": "sub-alice", "sid": "sid-x", **claims}
    token = logout_token(oidc_servers["generic"], claims, drop, tamper)
    response = post(client, token)
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["error"] == "invalid_request"
    assert detail in response.json["error_description"]
    assert audit("auth.backchannel_logout") == []


def test_the_audience_may_be_a_list(client, oidc_servers):
    token = logout_token(oidc_servers["generic"], {"sub": "sub-alice", "aud": ["x", "maillage"]})
    assert post(client, token).status_code == 200


def test_a_sid_alone_or_a_sub_alone_is_enough(client, oidc_servers):
    generic = oidc_servers["generic"]
    sid_only = logout_token(generic, {"sid": "sid-seul"}, drop=("sub",))
    assert post(client, sid_only).status_code == 200
    assert post(client, logout_token(generic, {"sub": "sub-joel"})).status_code == 200


def test_unsigned_missing_or_foreign_tokens_are_refused(client, oidc_servers):
    generic = oidc_servers["generic"]
    claims = payload(logout_token(generic, {"sub": "sub-alice"}))
    none = post(client, unsigned(claims))
    assert none.status_code == 400
    assert "algorithme refusé : none" in none.json["error_description"]
    missing = post(client)
    assert (missing.status_code, missing.json["error_description"]) == (
        400,
        "logout_token manquant",
    )
    assert post(client, "pas.un.jeton").status_code == 400
    # ProConnect's token sent to the Keycloak endpoint: another issuer, another key.
    foreign = post(client, logout_token(oidc_servers["proconnect"], {"sub": "sub-agent"}))
    assert foreign.status_code == 400
    assert client.post("/logout/oidc/inconnu/backchannel", data={}).status_code == 404


def test_the_proconnect_profile_takes_its_own_tokens(client, oidc_servers):
    token = logout_token(oidc_servers["proconnect"], {"sub": "sub-agent"})  # ES256
    assert post(client, token, provider="proconnect").status_code == 200
