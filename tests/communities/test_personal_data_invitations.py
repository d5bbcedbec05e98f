"""Invitations in a person's data: matched by address only once the person proved they receive
mail there — signing up with someone else's address reveals and erases nothing of theirs."""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.community.models import Invitation
from maillage.communities.community.operations import invite
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import HOLDERS, Erasure


def _invitations_holder():
    return HOLDERS[Invitation]


def test_an_unverified_address_claims_no_invitation(create_user, create_community):
    owner = create_user("karim")
    cell = create_community("Cellule de crise", owner=owner, visibility="secret")
    invite(cell, owner, "victime@partenaire.org")
    db.session.commit()
    mallory = create_user("mallory", email="victime@partenaire.org")
    mallory.email_verified_at = None
    db.session.commit()

    assert _invitations_holder().export(mallory) == []
    _invitations_holder().erase(mallory, Erasure.KEEP_CONTENT)
    db.session.commit()
    assert db.session.scalar(select(Invitation.email)) == "victime@partenaire.org"


def test_a_verified_address_finds_the_invitations_sent_to_it(create_user, create_community):
    owner = create_user("karim")
    cell = create_community("Cellule de crise", owner=owner, visibility="secret")
    invite(cell, owner, "anne@partenaire.org")
    db.session.commit()
    anne = create_user("anne", email="anne@partenaire.org")
    anne.email_verified_at = utcnow()
    db.session.commit()

    [row] = _invitations_holder().export(anne)
    assert row["direction"] == "received"
    _invitations_holder().erase(anne, Erasure.KEEP_CONTENT)
    db.session.commit()
    assert db.session.scalar(select(Invitation.id)) is None
