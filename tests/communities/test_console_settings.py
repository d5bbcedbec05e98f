"""Settings of the console: welcome message and charter; joining accepts the charter; the
answer to a join request reaches the requester."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from maillage.communities.community.models import Community, JoinRequest, Membership
from maillage.platform.extensions import db

CHARTER = "Nous restons **courtois**."


def csrf_token(client) -> str:
    page = client.get("/communities").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, url, data=None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def membership(community, user):
    return db.session.scalar(
        select(Membership).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        )
    )


def settings_data(community, **changes):
    return {
        "name": community.name,
        "description": community.description,
        "visibility": community.visibility,
        "join_policy": community.join_policy,
        **changes,
    }


def test_facilitator_sets_welcome_message_and_charter(
    client, login_as, create_user, create_community
):
    facilitator = create_user()
    community = create_community(slug="charte", members=[(facilitator, "facilitator")])
    login_as(facilitator)
    form = text(client.get("/c/charte/settings"))
    assert "Message de bienvenue" in form
    assert "Charte de la communauté" in form
    response = post(
        client,
        "/c/charte/settings",
        settings_data(community, welcome_message="Bienvenue !", charter=CHARTER),
    )
    assert response.status_code == 303
    db.session.refresh(community)
    assert community.welcome_message == "Bienvenue !"
    assert community.charter == CHARTER
    page = text(client.get("/c/charte"))
    assert "<strong>courtois</strong>" in page


def test_too_long_charter_is_refused(client, login_as, create_user, create_community):
    owner = create_user()
    community = create_community(slug="longue", owner=owner)
    login_as(owner)
    response = post(client, "/c/longue/settings", settings_data(community, charter="x" * 20001))
    assert response.status_code == 400
    db.session.refresh(community)
    assert community.charter == ""


@pytest.mark.parametrize("role", ["moderator", "member", "guest"])
def test_others_cannot_change_the_charter(client, login_as, create_user, create_community, role):
    person = create_user()
    community = create_community(slug="gardee", members=[(person, role)])
    login_as(person)
    response = post(client, "/c/gardee/settings", settings_data(community, charter="Piratée"))
    assert response.status_code == 403
    assert db.session.scalar(select(Community.charter).where(Community.id == community.id)) == ""


@pytest.fixture
def chartered(create_community):
    def make(**kwargs):
        community = create_community(**kwargs)
        community.charter = CHARTER
        db.session.commit()
        return community

    return make


def test_open_join_requires_ticking_the_charter(client, login_as, create_user, chartered):
    community = chartered(slug="ouverte")
    person = create_user()
    login_as(person)
    page = text(client.get("/c/ouverte"))
    assert "J'accepte la charte" in page
    response = post(client, "/c/ouverte/join")
    assert response.status_code == 400
    assert "acceptez sa charte" in text(response)
    assert membership(community, person) is None
    assert post(client, "/c/ouverte/join", {"accept_charter": "y"}).status_code == 303
    assert membership(community, person).charter_accepted_at is not None


def test_join_without_charter_records_no_acceptance(
    client, login_as, create_user, create_community
):
    community = create_community(slug="libre")
    person = create_user()
    login_as(person)
    assert "J'accepte la charte" not in text(client.get("/c/libre"))
    assert post(client, "/c/libre/join").status_code == 303
    assert membership(community, person).charter_accepted_at is None


def test_join_request_requires_the_charter_and_approval_keeps_it(
    client, login_as, create_user, chartered
):
    owner = create_user()
    community = chartered(slug="sur-demande", owner=owner, join_policy="request")
    person = create_user()
    login_as(person)
    assert post(client, "/c/sur-demande/request", {"message": "Bonjour"}).status_code == 400
    assert db.session.scalar(select(JoinRequest.id)) is None
    response = post(client, "/c/sur-demande/request", {"message": "Bonjour", "accept_charter": "y"})
    assert response.status_code == 303
    join_request = db.session.scalar(select(JoinRequest))
    assert join_request.charter_accepted_at is not None
    login_as(owner)
    response = post(
        client,
        f"/c/sur-demande/requests/{join_request.id}",
        {"decision": "approve", "message": "Ravi de vous compter parmi nous"},
    )
    assert response.status_code == 303
    assert membership(community, person).charter_accepted_at == join_request.charter_accepted_at


def test_invitation_acceptance_requires_the_charter(client, login_as, create_user, chartered):
    owner = create_user()
    community = chartered(slug="invitee", owner=owner, join_policy="invite")
    from maillage.communities.community.operations import invite

    person = create_user(email="invitee@example.org")
    _invitation, token = invite(community, owner, "invitee@example.org")
    db.session.commit()
    login_as(person)
    page = text(client.get(f"/invitations/{token}"))
    assert "<strong>courtois</strong>" in page
    assert "J'accepte la charte" in page
    response = post(client, f"/invitations/{token}")
    assert response.status_code == 400
    assert "acceptez sa charte" in text(response)
    assert membership(community, person) is None
    assert post(client, f"/invitations/{token}", {"accept_charter": "y"}).status_code == 303
    assert membership(community, person).charter_accepted_at is not None


@pytest.mark.parametrize("approve", [True, False])
def test_the_decision_message_reaches_the_requester(
    client, login_as, create_user, create_community, outbox_mail, approve
):
    owner = create_user()
    community = create_community(slug="decision", owner=owner, join_policy="request")
    person = create_user(email="demandeur@example.org")
    from maillage.communities.community.operations import request_to_join

    join_request = request_to_join(community, person, "Bonjour")
    db.session.commit()
    login_as(owner)
    console = text(client.get("/c/decision/console"))
    assert "1 demande d'adhésion en attente" in console
    response = post(
        client,
        f"/c/decision/requests/{join_request.id}",
        {"decision": "approve" if approve else "refuse", "message": "Message personnel 42"},
    )
    assert response.status_code == 303
    mails = [m for m in outbox_mail() if m["To"] == "demandeur@example.org"]
    assert mails
    assert "Message personnel 42" in mails[-1].get_content()


@pytest.mark.parametrize("role", ["moderator", "member", "guest"])
def test_others_cannot_decide_requests(client, login_as, create_user, create_community, role):
    person = create_user()
    community = create_community(slug="refus", join_policy="request", members=[(person, role)])
    from maillage.communities.community.operations import request_to_join

    join_request = request_to_join(community, create_user(), "")
    db.session.commit()
    login_as(person)
    response = post(client, f"/c/refus/requests/{join_request.id}", {"decision": "approve"})
    assert response.status_code == 403
    assert db.session.get(JoinRequest, join_request.id).status == "pending"
