"""An OIDC ``groups`` claim gives platform and community roles at each sign-in, by the same rules
(and the same code) as LDAP groups: the highest role wins, hand-made memberships are never
lowered, the last owner stays, facilitators need the certificate when it is required."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from maillage.auth.directory.models import DirectoryGrant
from maillage.auth.identities.models import Identity
from maillage.auth.providers.registry import build_providers
from maillage.communities.community.models import Membership
from maillage.communities.community.operations import add_membership, remove_membership
from maillage.platform.audit.models import AuditEntry
from maillage.platform.config import ConfigError
from maillage.platform.extensions import db
from tests.auth.oidc.identities.conftest import identity_of

MAPPINGS = [
    {"group": "maillage-membres", "community": "pcs", "role": "member"},
    {"group": "maillage-animateurs", "community": "pcs", "role": "facilitator"},
    {"group": "maillage-formateurs", "platform_role": "trainer"},
    {"group": "/Prefecture 75", "organisation_siret": "17750001000019"},
]


@pytest.fixture
def provider_settings(provider_settings) -> dict[str, dict]:
    confiance = {
        **provider_settings["confiance"],
        "claims_mapping": {"groups": "groups"},
        "group_mappings": MAPPINGS,
        "managed_platform_roles": ["trainer"],
    }
    return {**provider_settings, "confiance": confiance}


@pytest.fixture
def pcs(create_community):
    return create_community("Plan de continuité", slug="pcs")


def membership(community, user) -> Membership | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Membership).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        )
    )


def known(create_user, login: str, username: str):
    """An account that already signed in through ``confiance`` as ``login``."""
    user = create_user(username)
    db.session.add(Identity(user=user, provider="confiance", identifier=f"sub-{login}"))
    db.session.commit()
    return user


def actions() -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith("directory."))
            .order_by(AuditEntry.id)
        )
    )


def test_groups_give_roles_at_sign_in_the_highest_winning(serve, agent, pcs):
    assert "Vous êtes connecté." in agent(serve()).sign_in("confiance", "animatrice").page

    anita = identity_of("confiance", "sub-animatrice").user
    joined = membership(pcs, anita)
    assert joined.role == "facilitator"
    assert joined.via_directory
    assert anita.is_trainer
    grants = db.session.scalars(select(DirectoryGrant).order_by(DirectoryGrant.group))
    assert [(grant.provider, grant.group, grant.role) for grant in grants] == [
        ("confiance", "maillage-animateurs", "facilitator"),
        ("confiance", "maillage-membres", "member"),
    ]
    assert actions() == [
        "directory.grant_added",
        "directory.grant_added",
        "directory.membership_added",
        "directory.platform_role_added",
    ]


def test_a_group_names_the_organisation(serve, agent):
    agent(serve()).sign_in("confiance", "membre")

    marc = identity_of("confiance", "sub-membre").user
    assert marc.organisation.siret == "17750001000019"


def test_facilitators_need_the_certificate_when_it_is_required(app, serve, agent, pcs):
    app.config["TRAINING_REQUIRED_FOR_FACILITATOR"] = True

    agent(serve()).sign_in("confiance", "animatrice")

    anita = identity_of("confiance", "sub-animatrice").user
    assert membership(pcs, anita).role == "member"


def test_a_hand_made_membership_is_never_lowered_only_raised(serve, agent, pcs, create_user):
    marc = known(create_user, "membre", "marc")
    add_membership(pcs, marc, "moderator")
    anita = known(create_user, "animatrice", "anita")
    add_membership(pcs, anita, "member")
    db.session.commit()
    live = serve()

    agent(live).sign_in("confiance", "membre")
    agent(live).sign_in("confiance", "animatrice")

    assert membership(pcs, marc).role == "moderator"  # the group gives member: not lowered
    assert not membership(pcs, marc).via_directory
    assert membership(pcs, anita).role == "facilitator"  # raised by the facilitators' group


def test_leaving_the_groups_takes_back_what_they_gave_but_not_the_last_owner(
    serve, agent, create_community, create_user
):
    anita = known(create_user, "sans-groupe", "anita")
    anita.is_trainer = True
    crise = create_community("Cellule de crise", slug="crise", members=[(anita, "owner")])
    owner = db.session.scalar(
        select(Membership).where(
            Membership.community_id == crise.id, Membership.user_id != anita.id
        )
    )
    remove_membership(crise, owner.user)  # Anita is the last owner, given by a group
    membership(crise, anita).via_directory = True
    db.session.add(
        DirectoryGrant(
            user_id=anita.id,
            community_id=crise.id,
            provider="confiance",
            group="maillage-crise",
            role="owner",
        )
    )
    db.session.commit()

    agent(serve()).sign_in("confiance", "sans-groupe")  # a groups claim, now empty

    assert membership(crise, anita).role == "owner"
    assert db.session.scalar(select(DirectoryGrant)) is None
    assert not identity_of("confiance", "sub-sans-groupe").user.is_trainer  # a managed role
    assert "directory.membership_kept" in actions()
    assert "directory.platform_role_removed" in actions()


def test_group_mappings_need_the_groups_claim(app, provider_settings):
    settings = dict(provider_settings["confiance"], claims_mapping={})

    with pytest.raises(ConfigError, match="group_mappings need the groups claim"):
        build_providers([settings])
