"""Directory groups give memberships, roles and organisations, at sign-in and hourly, and take
back what they gave when a person leaves a group — nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from maillage.auth.directory.models import DirectoryGrant
from maillage.auth.directory.tasks import sync_directories
from maillage.auth.providers.models import ProviderStatus
from maillage.communities.community.models import Community, Membership
from maillage.communities.community.operations import join, leave
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.celery_app import BEAT_SCHEDULE
from maillage.platform.extensions import db
from tests.auth.ldap.conftest import group, provider_settings


def user(display_name: str) -> User:
    return db.session.scalar(select(User).where(User.display_name == display_name))


def membership(community: Community, person: User) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.community_id == community.id, Membership.user_id == person.id
        )
    )


def grants(person: User) -> list[tuple[str, str]]:
    rows = db.session.scalars(
        select(DirectoryGrant).where(DirectoryGrant.user_id == person.id).order_by("group")
    )
    return [(grant.group, grant.role) for grant in rows]


def actions(prefix: str = "directory.") -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.id)
        )
    )


def run_sync() -> None:
    """The periodic task, as beat runs it (Celery is eager in tests)."""
    sync_directories.delay()
    db.session.expire_all()


def test_the_sync_is_an_hourly_periodic_task():
    assert BEAT_SCHEDULE["maillage.directory.sync"] == {
        "task": "maillage.directory.sync",
        "schedule": 3600.0,
    }


def test_sign_in_grants_the_mapped_membership_and_platform_role(client, ldap_sign_in, pcs):
    assert ldap_sign_in("zoe.lefevre").status_code == 302

    zoe = user("Zoé Lefèvre")
    joined = membership(pcs, zoe)
    assert joined.role == "member"
    assert joined.via_directory
    assert db.session.get(Community, pcs.id).member_count == 2  # the owner and Zoé
    assert grants(zoe) == [(group("pcs-cellule"), "member")]
    assert zoe.is_trainer
    assert not zoe.is_admin
    assert actions() == [
        "directory.grant_added",
        "directory.membership_added",
        "directory.platform_role_added",
    ]


def test_the_highest_role_of_several_groups_wins(client, ldap_sign_in, pcs, directory):
    directory.add_member("pcs-cellule", "benoit.cosic")

    assert ldap_sign_in("benoit.cosic").status_code == 302

    benoit = user("Benoît Ćosić")
    assert membership(pcs, benoit).role == "facilitator"
    assert grants(benoit) == [
        (group("pcs-animateurs"), "facilitator"),
        (group("pcs-cellule"), "member"),
    ]
    assert benoit.is_admin

    # Leaving the facilitators' group lowers the role the directory gave.
    directory.remove_member("pcs-animateurs", "benoit.cosic")
    run_sync()
    assert membership(pcs, benoit).role == "member"
    assert grants(benoit) == [(group("pcs-cellule"), "member")]


def test_without_the_required_certificate_a_group_grants_member_only(
    app, client, ldap_sign_in, pcs
):
    app.config["TRAINING_REQUIRED_FOR_FACILITATOR"] = True

    assert ldap_sign_in("benoit.cosic").status_code == 302

    assert membership(pcs, user("Benoît Ćosić")).role == "member"


def test_a_group_can_name_the_organisation(client, ldap_sign_in):
    assert ldap_sign_in("camille.martin").status_code == 302

    camille = user("Camille Martin")
    assert camille.organisation.siret == "17750001000019"
    assert camille.organisation.kind == "state_service"


def test_leaving_the_group_removes_the_membership_at_the_next_sync(
    client, ldap_sign_in, pcs, directory
):
    assert ldap_sign_in("dominique.roux").status_code == 302
    dominique = user("Dominique Roux")
    assert membership(pcs, dominique) is not None

    directory.remove_member("pcs-cellule", "dominique.roux")
    run_sync()

    assert membership(pcs, dominique) is None
    assert grants(dominique) == []
    assert db.session.get(Community, pcs.id).member_count == 1
    assert actions()[-2:] == ["directory.grant_removed", "directory.membership_removed"]
    assert db.session.get(ProviderStatus, "annuaire").last_success_at is not None


def test_the_sync_changes_nothing_when_nothing_changed(client, ldap_sign_in, pcs):
    assert ldap_sign_in("zoe.lefevre").status_code == 302
    before = actions()

    run_sync()
    run_sync()

    assert actions() == before
    assert membership(pcs, user("Zoé Lefèvre")).via_directory


def test_a_membership_made_by_hand_stays(client, ldap_sign_in, pcs, directory):
    assert ldap_sign_in("dominique.roux").status_code == 302
    dominique = user("Dominique Roux")
    # Dominique had joined before the directory knew; make it a hand-made membership.
    leave(pcs, dominique)
    join(pcs, dominique)
    db.session.commit()

    directory.remove_member("pcs-cellule", "dominique.roux")
    run_sync()

    kept = membership(pcs, dominique)
    assert kept is not None
    assert not kept.via_directory
    assert grants(dominique) == []


def test_a_hand_made_membership_is_raised_by_a_group_but_never_removed(
    client, ldap_sign_in, pcs, directory, create_user
):
    assert ldap_sign_in("benoit.cosic").status_code == 302
    benoit = user("Benoît Ćosić")
    leave(pcs, benoit)
    db.session.commit()
    run_sync()
    # Benoît left while still in the group: he is not added back.
    assert membership(pcs, benoit) is None

    join(pcs, benoit)
    db.session.commit()
    directory.remove_member("pcs-animateurs", "benoit.cosic")
    run_sync()
    directory.add_member("pcs-animateurs", "benoit.cosic")
    run_sync()
    assert membership(pcs, benoit).role == "facilitator"  # raised by the new grant

    directory.remove_member("pcs-animateurs", "benoit.cosic")
    run_sync()
    kept = membership(pcs, benoit)
    assert kept is not None
    assert not kept.via_directory


def test_the_last_owner_is_never_removed(client, ldap_sign_in, pcs, directory):
    assert ldap_sign_in("dominique.roux").status_code == 302
    dominique = user("Dominique Roux")
    # Dominique became the only owner of the community.
    for member in db.session.scalars(select(Membership).where(Membership.community_id == pcs.id)):
        member.role = "owner" if member.user_id == dominique.id else "member"
    db.session.commit()

    directory.remove_member("pcs-cellule", "dominique.roux")
    run_sync()

    assert membership(pcs, dominique).role == "owner"
    assert grants(dominique) == []
    assert actions()[-1] == "directory.membership_kept"


def test_managed_platform_roles_are_taken_back_others_are_not(
    client, ldap_sign_in, directory, new_client
):
    assert ldap_sign_in("zoe.lefevre").status_code == 302
    assert ldap_sign_in("benoit.cosic", on=new_client()).status_code == 302

    directory.remove_member("formateurs", "zoe.lefevre")  # trainer: managed
    directory.remove_member("admins-plateforme", "benoit.cosic")  # admin: not managed
    run_sync()

    assert not user("Zoé Lefèvre").is_trainer
    assert user("Benoît Ćosić").is_admin
    assert "directory.platform_role_removed" in actions()


def test_a_person_deleted_from_the_directory_loses_only_what_groups_gave(
    app, client, ldap_sign_in, pcs, directory, new_client
):
    app.config["DIRECTORY_DEPROVISION"] = "keep"  # "suspend": tests/auth/ldap/test_deprovisioning
    directory.add_person("sacha.petit", "sacha-pass", groups=["pcs-cellule", "formateurs"])
    assert ldap_sign_in("sacha.petit", "sacha-pass").status_code == 302
    assert ldap_sign_in("zoe.lefevre", on=new_client()).status_code == 302
    sacha = user("sacha.petit")
    assert membership(pcs, sacha).via_directory
    assert sacha.is_trainer

    directory.delete_person("sacha.petit")
    run_sync()

    sacha = user("sacha.petit")
    assert membership(pcs, sacha) is None
    assert not sacha.is_trainer
    assert sacha.is_active  # kept: an administrator decides about it
    assert membership(pcs, user("Zoé Lefèvre")) is not None


def test_the_sync_finds_dn_keyed_identities_and_searched_groups(
    client, ldap_sign_in, pcs, directory
):
    assert ldap_sign_in("dominique.roux", provider="annuaire-groupes").status_code == 302
    dominique = user("Dominique Roux")
    assert membership(pcs, dominique).via_directory

    directory.remove_member("pcs-cellule", "dominique.roux")
    run_sync()

    assert membership(pcs, dominique) is None
    assert db.session.get(ProviderStatus, "annuaire-groupes").last_success_at is not None


class TestMisconfiguredSync:
    @pytest.fixture
    def ldap_providers(self, slapd):
        return [provider_settings(slapd)]

    def test_a_sync_that_finds_nobody_removes_nothing(self, client, ldap_sign_in, pcs, slapd):
        from maillage.auth.directory.sync import sync_provider
        from maillage.auth.providers.registry import build_providers

        assert ldap_sign_in("zoe.lefevre").status_code == 302
        # The same directory, searched under the wrong branch.
        services = "ou=services,dc=maillage,dc=test"
        wrong = build_providers([provider_settings(slapd, user_base=services)])["annuaire"]

        report = sync_provider(wrong)

        assert report.found == 0
        assert report.error
        assert membership(pcs, user("Zoé Lefèvre")) is not None
        assert "no known person found" in db.session.get(ProviderStatus, "annuaire").last_error
