"""The account key of an OIDC identity is ``sub`` alone: dropping the ``idp_id`` scope from the
configuration keeps everyone's account, and migration 0031 rewrites the old ``<idp_id>:<sub>``
keys (leaving, and naming, those that would collide)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.platform.extensions import db

MIGRATION = (
    Path(__file__).resolve().parents[3] / "migrations" / "versions" / "0031_oidc_account_keys.py"
)


def identities() -> list[Identity]:
    db.session.expire_all()
    return list(db.session.scalars(select(Identity).order_by(Identity.id)))


def test_dropping_the_idp_id_scope_keeps_the_account(serve, agent):
    """The regression: the key was ``<idp_id>:<sub>`` when ``idp_id`` came back, ``<sub>`` when
    it did not, so removing the scope gave everyone a new, empty account."""
    live = serve()
    assert "Vous êtes connecté." in agent(live).sign_in("proconnect", "agent").page
    (first,) = identities()
    assert first.data["idp_id"] == "fia1-interieur"

    provider = live.provider("proconnect")
    provider.scopes = tuple(scope for scope in provider.scopes if scope != "idp_id")
    browser = agent(live)
    query = browser.query(browser.start("proconnect").history[0].headers["Location"])
    assert "idp_id" not in query["scope"].split()
    assert "Vous êtes connecté." in agent(live).sign_in("proconnect", "agent").page

    (again,) = identities()
    assert (again.id, again.user_id, again.identifier) == (first.id, first.user_id, "sub-agent")
    assert "idp_id" not in again.data


def _migration():
    spec = importlib.util.spec_from_file_location("migration_0031", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _identity(user, provider: str, identifier: str, **data) -> Identity:
    identity = Identity(user_id=user.id, provider=provider, identifier=identifier, data=data)
    db.session.add(identity)
    return identity


def test_migration_rewrites_old_keys_and_names_collisions(app, create_user):
    eloise, gaelle, jean, zoe = (create_user(name) for name in ("eloise", "gaelle", "jean", "zoe"))
    old = _identity(eloise, "proconnect", "fia1:sub-1", sub="sub-1", idp_id="fia1")
    # Already keyed by sub (signed in after the upgrade with a new account): a collision.
    clash_old = _identity(gaelle, "proconnect", "fia1:sub-2", sub="sub-2", idp_id="fia1")
    clash_new = _identity(jean, "proconnect", "sub-2", sub="sub-2")
    # The same sub behind two identity providers: the first keeps it, the second is named.
    twin_a = _identity(zoe, "proconnect", "fia1:sub-3", sub="sub-3", idp_id="fia1")
    twin_b = _identity(jean, "proconnect", "fia2:sub-3", sub="sub-3", idp_id="fia2")
    # Another provider with the same sub: keys are per provider.
    other = _identity(gaelle, "agents", "ministere:sub-1", sub="sub-1", idp_id="ministere")
    # Not old keys: a sub with colons, a prefix that is no claim, a renamed idp_id claim.
    colons = _identity(zoe, "keycloak", "f:abc:user", sub="f:abc:user")
    stranger = _identity(eloise, "keycloak", "x:sub-4", sub="sub-4", idp_id="y")
    renamed = _identity(zoe, "agents", "fia9:sub-5", sub="sub-5", fournisseur="fia9")
    nothing = _identity(gaelle, "ldap-annuaire", "uid=gaelle", uid="gaelle")
    db.session.commit()

    warnings = []
    rewritten = _migration().rewrite_account_keys(
        db.session.connection(), warn=lambda message, *args: warnings.append(message % args)
    )
    db.session.commit()

    keys = {identity.id: identity.identifier for identity in identities()}
    assert rewritten == 4
    assert keys[old.id] == "sub-1"
    assert keys[clash_old.id] == "fia1:sub-2"
    assert keys[clash_new.id] == "sub-2"
    assert keys[twin_a.id] == "sub-3"
    assert keys[twin_b.id] == "fia2:sub-3"
    assert keys[other.id] == "sub-1"
    assert keys[colons.id] == "f:abc:user"
    assert keys[stranger.id] == "x:sub-4"
    assert keys[renamed.id] == "sub-5"
    assert keys[nothing.id] == "uid=gaelle"
    assert len(warnings) == 2
    assert f"OIDC identity {clash_old.id} (provider 'proconnect') keeps its old key" in warnings[0]
    assert f"identity {clash_new.id} already has the key 'sub-2'" in warnings[0]
    assert f"OIDC identity {twin_b.id} " in warnings[1]

    # Run again (a second upgrade, or keys already migrated): nothing changes.
    again = _migration().rewrite_account_keys(
        db.session.connection(), warn=lambda message, *args: warnings.append(message % args)
    )
    assert again == 0
    assert len(warnings) == 4  # the two collisions are named again, nothing else moves
