"""Sanctions: mute and ban, their expiry by time, lifting, and every path a banned person tries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from maillage.communities.community import operations as community_ops
from maillage.communities.community.models import JoinRequest, Membership
from maillage.communities.moderation import operations as moderation
from maillage.communities.moderation.models import Sanction
from maillage.communities.moderation.queries import is_banned, is_muted
from maillage.communities.permissions import can, forget_roles
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def text_of(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


@pytest.fixture
def people(create_user):
    names = ("owner", "facilitator", "moderator", "member", "guest", "outsider")
    return {name: create_user(f"{name}1", display_name=name.capitalize()) for name in names}


def community_of(create_community, people, visibility, slug, join_policy="open"):
    return create_community(
        slug.capitalize(),
        slug=slug,
        visibility=visibility,
        join_policy=join_policy,
        owner=people["owner"],
        members=[
            (people["facilitator"], "facilitator"),
            (people["moderator"], "moderator"),
            people["member"],
            (people["guest"], "guest"),
        ],
    )


@pytest.fixture
def private(create_community, people):
    return community_of(create_community, people, "private", "prive", "request")


@pytest.fixture
def public(create_community, people):
    return community_of(create_community, people, "public", "public")


def refresh(user):
    forget_roles(user)
    db.session.expire_all()


# -- mute --------------------------------------------------------------------------------------


def test_mute_stops_contributions_until_it_expires(public, people):
    now = utcnow()
    moderation.mute(
        people["moderator"], public, people["member"], "Calmez-vous", now + dt.timedelta(days=1)
    )
    db.session.commit()
    refresh(people["member"])
    assert is_muted(people["member"], public)
    for action in ("post", "comment", "react"):
        assert not can(people["member"], action, public)
    assert can(people["member"], "read", public)
    assert is_muted(people["member"], public, now=now + dt.timedelta(hours=23))
    assert not is_muted(people["member"], public, now=now + dt.timedelta(days=1, seconds=1))


def test_expired_mute_no_longer_applies(public, people):
    sanction = moderation.mute(
        people["moderator"], public, people["member"], "Court", utcnow() + dt.timedelta(days=1)
    )
    sanction.ends_at = utcnow() - dt.timedelta(seconds=1)  # as if a day had passed
    db.session.commit()
    refresh(people["member"])
    assert not is_muted(people["member"], public)
    assert can(people["member"], "post", public)


def test_muted_member_gets_a_clear_403(client, login_as, public, people, create_post):
    post = create_post(public, people["owner"])
    moderation.mute(people["moderator"], public, people["member"], "Pause", None)
    db.session.commit()
    login_as(people["member"])
    refused = client.post(
        f"/post/{post.id}/comments", data={"csrf_token": csrf(client), "body": "Hop"}
    )
    assert refused.status_code == 403
    assert "silence" in text_of(refused)


def test_mute_bad_input(public, people):
    moderator, member = people["moderator"], people["member"]
    with pytest.raises(OperationError, match="raison"):
        moderation.mute(moderator, public, member, " ", None)
    with pytest.raises(OperationError, match="futur"):
        moderation.mute(moderator, public, member, "x", utcnow() - dt.timedelta(days=1))
    with pytest.raises(OperationError, match="pas membre"):
        moderation.mute(moderator, public, people["outsider"], "x", None)
    with pytest.raises(NotAllowed):  # a moderator does not mute a facilitator
        moderation.mute(moderator, public, people["facilitator"], "x", None)
    with pytest.raises(Conflict):
        moderation.mute(people["facilitator"], public, people["owner"], "x", None)
    with pytest.raises(NotAllowed):
        moderation.mute(member, public, people["guest"], "x", None)
    moderation.mute(moderator, public, member, "x", None)
    with pytest.raises(Conflict):
        moderation.mute(moderator, public, member, "encore", None)


# -- ban ---------------------------------------------------------------------------------------


def test_moderator_cannot_ban(public, people):
    with pytest.raises(NotAllowed):
        moderation.ban(people["moderator"], public, people["member"], "Non", None)


def test_ban_removes_membership_and_closes_every_door(private, people, create_user, outbox_mail):
    member = people["member"]
    _invitation, _token = community_ops.invite(private, people["owner"], "autre@example.gouv.fr")
    db.session.commit()
    until = utcnow() + dt.timedelta(days=30)
    moderation.ban(people["facilitator"], private, member, "Fuite d'informations", until)
    db.session.commit()
    refresh(member)
    assert (
        db.session.scalar(
            select(Membership).where(
                Membership.user_id == member.id, Membership.community_id == private.id
            )
        )
        is None
    )
    assert is_banned(member, private)
    assert not can(member, "read", private)
    assert not can(member, "request_join", private)
    assert not can(member, "accept_invitation", private)
    assert can(member, "view", private)  # a private community stays listed
    # An invitation sent to the banned address after the ban cannot be used through the rule.
    assert can(people["outsider"], "accept_invitation", private)


def test_ban_refuses_pending_requests_and_invitations(private, people):
    outsider = people["outsider"]
    community_ops.request_to_join(private, outsider, "Bonjour")
    _invitation, _token = community_ops.invite(private, people["owner"], outsider.email)
    db.session.commit()
    moderation.ban(people["owner"], private, outsider, "Spam", None)
    db.session.commit()
    join_request = db.session.scalar(select(JoinRequest))
    assert join_request.status == "refused"
    db.session.expire_all()
    assert community_ops.invitation_for_token(_token) is None
    refresh(outsider)
    with pytest.raises(NotAllowed):
        community_ops.request_to_join(private, outsider, "Encore")


def test_banned_cannot_rejoin_an_open_community_until_expiry(public, people):
    member = people["member"]
    sanction = moderation.ban(
        people["owner"], public, member, "Trolls", utcnow() + dt.timedelta(days=7)
    )
    db.session.commit()
    refresh(member)
    with pytest.raises(NotAllowed):
        community_ops.join(public, member)
    assert can(member, "read", public)  # public content stays public
    sanction.ends_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    refresh(member)
    assert not is_banned(member, public)
    community_ops.join(public, member)
    db.session.commit()


def test_lift_a_ban_early(public, people):
    sanction = moderation.ban(people["owner"], public, people["member"], "Oups", None)
    db.session.commit()
    with pytest.raises(NotAllowed):
        moderation.lift(people["moderator"], sanction)
    moderation.lift(people["facilitator"], sanction)
    db.session.commit()
    refresh(people["member"])
    assert can(people["member"], "join", public)
    with pytest.raises(Conflict):
        moderation.lift(people["facilitator"], sanction)


def test_a_membership_put_back_while_banned_counts_as_none(private, people):
    member = people["member"]
    moderation.ban(people["owner"], private, member, "Exclu", None)
    community_ops.add_membership(private, member, "member")  # e.g. a directory sync
    db.session.commit()
    refresh(member)
    assert not can(member, "read", private)


def test_banned_member_loses_private_content_everywhere(
    client, login_as, private, people, create_post, app
):
    post = create_post(private, people["owner"], "Note interne confidentielle", "Le budget 2027")
    login_as(people["member"])
    assert client.get(f"/post/{post.id}").status_code == 200
    moderation.ban(people["owner"], private, people["member"], "Fuite", None)
    db.session.commit()
    assert client.get(f"/post/{post.id}").status_code == 404
    page = client.get("/c/prive")
    assert "Note interne confidentielle" not in page.get_data(as_text=True)
    assert "Note interne confidentielle" not in client.get("/").get_data(as_text=True)
    search = client.get("/search?q=confidentielle")
    assert "Note interne confidentielle" not in search.get_data(as_text=True)
    api = client.get("/api/v1/communities/prive/posts")
    assert api.status_code in (403, 404)
    assert "confidentielle" not in api.get_data(as_text=True)
    assert client.get("/c/prive/discussions").status_code in (403, 404)


# -- HTTP --------------------------------------------------------------------------------------


def test_sanctions_page(client, login_as, public, people):
    login_as(people["moderator"])
    page = client.get("/c/public/moderation/sanctions")
    assert page.status_code == 200
    assert 'value="ban"' not in page.get_data(as_text=True)  # moderators only mute
    token = csrf(client)
    data = {
        "csrf_token": token,
        "username": "member1",
        "kind": "mute",
        "duration": "7",
        "reason": "Pause",
    }
    assert client.post("/c/public/moderation/sanctions", data=data).status_code == 303
    sanction = db.session.scalar(select(Sanction))
    assert sanction.kind == "mute"
    assert sanction.ends_at is not None
    assert (
        client.post("/c/public/moderation/sanctions", data={**data, "kind": "ban"}).status_code
        == 400
    )
    missing = client.post("/c/public/moderation/sanctions", data={**data, "username": "nobody"})
    assert missing.status_code == 400
    assert "Aucune personne" in text_of(missing)
    empty = client.post("/c/public/moderation/sanctions", data={**data, "reason": ""})
    assert empty.status_code == 400
    assert "Indiquez la raison" in text_of(empty)
    assert (
        client.post(
            f"/c/public/moderation/sanctions/{sanction.id}/lift", data={"csrf_token": token}
        ).status_code
        == 303
    )
    assert db.session.get(Sanction, sanction.id).lifted_at is not None
    assert (
        client.post(
            "/c/public/moderation/sanctions/9999/lift", data={"csrf_token": token}
        ).status_code
        == 404
    )


def test_facilitator_bans_permanently_over_http(client, login_as, public, people):
    login_as(people["facilitator"])
    data = {
        "csrf_token": csrf(client),
        "username": "member1",
        "kind": "ban",
        "duration": "0",
        "reason": "Définitif",
    }
    assert client.post("/c/public/moderation/sanctions", data=data).status_code == 303
    sanction = db.session.scalar(select(Sanction))
    assert sanction.kind == "ban"
    assert sanction.ends_at is None
    login_as(people["member"])
    joined = client.post("/c/public/join", data={"csrf_token": csrf(client)})
    assert joined.status_code in (403, 303, 302)
    assert (
        db.session.scalar(
            select(Membership).where(
                Membership.user_id == people["member"].id, Membership.community_id == public.id
            )
        )
        is None
    )


@pytest.mark.parametrize("name", ["member", "guest", "outsider"])
def test_sanctions_page_is_for_moderators(client, login_as, public, people, name):
    login_as(people[name])
    assert client.get("/c/public/moderation/sanctions").status_code == 403
