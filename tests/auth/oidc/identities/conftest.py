"""A provider of the identity tests' own: the npm ``oidc-provider`` of ``tests/oidc`` in its
generic profile, with accounts whose claims these tests need (an address verified, not verified,
or without ``email_verified`` at all; a ``groups`` claim), given through ``OIDC_TEST_ACCOUNTS``.

It is registered under two names, ``confiance`` and ``autre`` (two providers of the instance on
one server), so a person can hold an identity at each.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from maillage.auth.identities.models import Identity, LinkProof
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from tests.auth.oidc.conftest import CLIENT_ID, CLIENT_SECRET, NodeProvider, _install_node_project

ACCOUNTS = {
    "verifiee": {
        "given_name": "Véra",
        "family_name": "Fiée",
        "preferred_username": "vera.fiee",
        "email": "vera.fiee@exemple.gouv.fr",
        "email_verified": True,
    },
    "non-verifiee": {
        "given_name": "Nona",
        "family_name": "Vérifiée",
        "email": "nona@exemple.gouv.fr",
        "email_verified": False,
    },
    # No email_verified claim at all.
    "muette": {"given_name": "Muriel", "family_name": "Muette", "email": "muriel@exemple.gouv.fr"},
    "cheffe": {
        "given_name": "Agathe",
        "family_name": "Admin",
        "email": "agathe.admin@exemple.gouv.fr",
        "email_verified": True,
    },
    "animatrice": {
        "given_name": "Anita",
        "family_name": "Animatrice",
        "email": "anita@exemple.gouv.fr",
        "email_verified": True,
        "groups": ["maillage-membres", "maillage-animateurs", "maillage-formateurs"],
    },
    "membre": {
        "given_name": "Marc",
        "family_name": "Membre",
        "email": "marc@exemple.gouv.fr",
        "email_verified": True,
        "groups": ["maillage-membres", "/Prefecture 75"],
    },
    "sans-groupe": {
        "given_name": "Sans",
        "family_name": "Groupe",
        "email": "sans.groupe@exemple.gouv.fr",
        "email_verified": True,
        "groups": [],
    },
}


@pytest.fixture(scope="session")
def identity_server(rp_url, tmp_path_factory):
    _install_node_project()
    log = tmp_path_factory.mktemp("oidc-identities") / "provider.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OIDC_TEST_ACCOUNTS", json.dumps(ACCOUNTS))
        server = NodeProvider("generic", rp_url, ["confiance", "autre"], log)
    try:
        yield server.wait()
    finally:
        server.stop()


def _settings(name: str, title: str, discovery_url: str) -> dict:
    return {
        "name": name,
        "type": "oidc",
        "title": title,
        "discovery_url": discovery_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scopes": ["openid", "email", "profile", "groups"],
        "trust_email": True,
        "timeout": 5,
    }


@pytest.fixture
def provider_settings(identity_server) -> dict[str, dict]:
    """Two providers on the test's own server (the shared ones are not started)."""
    url = identity_server.discovery_url
    return {
        "confiance": _settings("confiance", "Fournisseur de confiance", url),
        "autre": _settings("autre", "Autre fournisseur", url),
    }


@pytest.fixture
def count():
    """``count()``: (accounts, identities, pending proofs), read afresh."""

    def read() -> tuple[int, int, int]:
        db.session.expire_all()
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (User, Identity, LinkProof)
        )

    return read


def identity_of(provider: str, identifier: str) -> Identity | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Identity).where(Identity.provider == provider, Identity.identifier == identifier)
    )
