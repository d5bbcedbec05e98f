"""A person the directory no longer finds: the sync suspends the account and ends its sessions
(``DIRECTORY_DEPROVISION = "suspend"``, the default); found again, they get back an account the
sync suspended — never one an administrator suspended."""

from __future__ import annotations

import ldap
import pytest
from sqlalchemy import select

from maillage.auth.directory.sync import sync_all
from maillage.auth.identities.models import Identity
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from maillage.platform.people import operations as people
from tests.auth.ldap.conftest import person, provider_settings

#: the person the tests add, and the attribute that disables an entry (as AD's flag does)
SACHA, SACHA_PASSWORD = "sacha.petit", "sacha-pass"
DISABLED = "(!(description=disabled))"


@pytest.fixture
def ldap_providers(slapd) -> list[dict]:
    """One directory whose filter leaves disabled entries out."""
    user_filter = f"(&(objectClass=inetOrgPerson){DISABLED}(|(uid={{login}})(mail={{login}})))"
    return [provider_settings(slapd, user_filter=user_filter)]


@pytest.fixture
def zoe(ldap_sign_in, new_client) -> None:
    """Someone the directory keeps finding (a sync that finds nobody applies nothing)."""
    assert ldap_sign_in("zoe.lefevre", on=new_client()).status_code == 302


@pytest.fixture
def sacha(directory, ldap_sign_in, client, zoe):
    """Sacha, in the directory and signed in on ``client``."""
    directory.add_person(SACHA, SACHA_PASSWORD, groups=["pcs-cellule"])
    assert ldap_sign_in(SACHA, SACHA_PASSWORD).status_code == 302
    assert client.get("/account").status_code == 200
    return account(SACHA)


def account(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def actions(prefix: str) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.id)
        )
    )


def set_disabled(directory, disabled: bool) -> None:
    operation = ldap.MOD_REPLACE if disabled else ldap.MOD_DELETE
    directory.connection.modify_s(
        person(SACHA), [(operation, "description", [b"disabled"] if disabled else None)]
    )


def test_a_person_removed_from_the_directory_is_suspended_and_signed_out(
    client, new_client, directory, sacha, pcs
):
    cookie = client.get_cookie("session").value

    directory.delete_person(SACHA)
    [report] = sync_all()

    sacha = account(SACHA)
    assert report.suspended == 1
    assert not sacha.is_active
    assert sacha.suspended_at is not None
    assert sacha.suspended_by_id is None  # the directory, not an administrator
    assert "ne connaît plus cette personne" in sacha.suspension_reason
    assert account("zoe.lefevre").is_active
    # The session cookie no longer opens the account, in this browser or a copy of it.
    assert client.get("/account").status_code == 302
    assert new_client(cookie).get("/account").status_code == 302
    assert "directory.suspended" in actions("directory.")
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "directory.suspended")
    )
    assert entry.actor_id is None
    assert entry.data["provider"] == "annuaire"


def test_keep_leaves_the_account_active(app, client, directory, sacha):
    app.config["DIRECTORY_DEPROVISION"] = "keep"

    directory.delete_person(SACHA)
    sync_all()

    assert account(SACHA).is_active
    assert client.get("/account").status_code == 200
    assert "directory.suspended" not in actions("directory.")


def test_found_again_the_sync_lifts_its_own_suspension(directory, sacha, ldap_sign_in):
    set_disabled(directory, True)
    sync_all()
    assert not account(SACHA).is_active
    assert ldap_sign_in(SACHA, SACHA_PASSWORD).status_code == 400  # filtered out: unknown

    set_disabled(directory, False)
    [report] = sync_all()

    sacha = account(SACHA)
    assert report.reactivated == 1
    assert sacha.is_active
    assert sacha.suspended_at is None
    assert db.session.scalar(select(Identity.deprovisioned_at)) is None
    assert actions("directory.")[-1] == "directory.reactivated"
    assert ldap_sign_in(SACHA, SACHA_PASSWORD).status_code == 302


def test_found_again_a_sign_in_through_the_directory_lifts_it_too(
    directory, sacha, ldap_sign_in, client
):
    set_disabled(directory, True)
    sync_all()
    set_disabled(directory, False)

    assert ldap_sign_in(SACHA, SACHA_PASSWORD).status_code == 302

    assert account(SACHA).is_active
    assert client.get("/account").status_code == 200


def test_an_administrator_s_suspension_is_never_lifted_by_the_directory(
    create_user, directory, sacha, ldap_sign_in
):
    admin = create_user("alix", is_admin=True)
    people.suspend(admin, sacha, "Départ de l'agent")
    db.session.commit()

    set_disabled(directory, True)
    sync_all()
    set_disabled(directory, False)
    sync_all()

    sacha = account(SACHA)
    assert not sacha.is_active
    assert sacha.suspended_by_id == admin.id
    assert "directory.suspended" not in actions("directory.")
    assert "directory.reactivated" not in actions("directory.")
    assert ldap_sign_in(SACHA, SACHA_PASSWORD).status_code == 403


def test_a_suspension_made_again_by_an_administrator_stays(
    create_user, directory, sacha, ldap_sign_in
):
    admin = create_user("alix", is_admin=True)
    set_disabled(directory, True)
    sync_all()
    # An administrator lifts the directory's suspension, then suspends the account themselves.
    sacha = account(SACHA)
    people.reactivate(admin, sacha)
    people.suspend(admin, sacha, "Compte compromis")
    db.session.commit()

    set_disabled(directory, False)
    sync_all()

    assert not account(SACHA).is_active
    assert ldap_sign_in(SACHA, SACHA_PASSWORD).status_code == 403


def test_the_last_administrator_is_not_suspended(directory, ldap_sign_in, zoe):
    directory.add_person(SACHA, SACHA_PASSWORD, groups=["admins-plateforme"])
    assert ldap_sign_in(SACHA, SACHA_PASSWORD).status_code == 302
    assert account(SACHA).is_admin

    directory.delete_person(SACHA)
    sync_all()

    assert account(SACHA).is_active
    assert "directory.suspension_kept" in actions("directory.")
