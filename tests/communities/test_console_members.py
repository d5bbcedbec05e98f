"""The facilitator console and its members page: who opens what, filters, roles, removal."""

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import select

from maillage.communities.community.models import Membership
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import utcnow
from maillage.platform.extensions import db


def csrf_token(client) -> str:
    page = client.get("/communities").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, url, data=None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def role_of(community, user):
    return db.session.scalar(
        select(Membership.role).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        )
    )


@pytest.fixture
def team(create_user, create_community):
    """A community with one person per role, and a facilitator of another community."""
    people = {
        role: create_user() for role in ("owner", "facilitator", "moderator", "member", "guest")
    }
    community = create_community(
        slug="equipe",
        owner=people["owner"],
        members=[(people[role], role) for role in ("facilitator", "moderator", "member", "guest")],
    )
    people["outsider"] = create_user()
    create_community(slug="ailleurs", members=[(people["outsider"], "facilitator")])
    return community, people


# -- console ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "facilitator"])
def test_facilitators_open_the_console_with_every_section(client, login_as, team, role):
    _community, people = team
    login_as(people[role])
    page = text(client.get("/c/equipe/console"))
    assert "Console d'animation" in page
    for path in (
        "/c/equipe/members",
        "/c/equipe/requests",
        "/c/equipe/invitations",
        "/c/equipe/invite/bulk",
        "/c/equipe/settings",
        "/c/equipe/announcements",
        "/c/equipe/scheduled",
        "/c/equipe/summaries",
    ):
        assert f'href="{path}"' in page, path
    assert 'href="/c/equipe/console"' in text(client.get("/c/equipe"))


def test_moderators_see_only_what_they_may_open(client, login_as, team):
    _community, people = team
    login_as(people["moderator"])
    response = client.get("/c/equipe/console")
    page = text(response)
    # The moderation helper registers its queue for moderators; without it, nothing: 403.
    if response.status_code == 200:
        for path in ("/c/equipe/settings", "/c/equipe/invitations", "/c/equipe/announcements"):
            assert f'href="{path}"' not in page
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("who", ["member", "guest", "outsider"])
def test_others_may_not_open_the_console(client, login_as, team, who):
    _community, people = team
    login_as(people[who])
    assert client.get("/c/equipe/console").status_code == 403
    assert 'href="/c/equipe/console"' not in text(client.get("/c/equipe"))


def test_anonymous_is_sent_to_sign_in_and_secret_console_is_404(
    client, login_as, create_user, create_community
):
    assert client.get("/c/ouverte/console").status_code == 404
    create_community(slug="ouverte")
    assert client.get("/c/ouverte/console").status_code in (302, 401)
    secret = create_community(visibility="secret")
    login_as(create_user())
    assert client.get(f"/c/{secret.slug}/console").status_code == 404


# -- members page -----------------------------------------------------------------------------


def test_members_filters_by_organisation_kind_role_and_activity(
    client, login_as, create_user, create_community, create_organisation
):
    town = create_organisation("Commune de Test", "local_authority")
    club = create_organisation("Association Test", "association")
    owner = create_user(display_name="Olga Propriétaire")
    active = create_user(display_name="Anna Active", organisation=town)
    dormant = create_user(display_name="Denis Dormant", organisation=club)
    never = create_user(display_name="Nina Jamais", organisation=club)
    create_community(slug="filtres", owner=owner, members=[active, (dormant, "moderator"), never])
    now = utcnow()
    active.last_seen_at = now - dt.timedelta(days=2)
    dormant.last_seen_at = now - dt.timedelta(days=200)
    owner.last_seen_at = now
    db.session.commit()
    login_as(owner)

    full = {
        "Anna": "Anna Active",
        "Denis": "Denis Dormant",
        "Nina": "Nina Jamais",
        "Olga": "Olga Propriétaire",
    }

    def names(query):
        page = text(client.get(f"/c/filtres/members?{query}"))
        table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        return {name for name, display in full.items() if f">{display}</a>" in table}

    assert names("") == {"Anna", "Denis", "Nina", "Olga"}
    assert names(f"organisation={town.id}") == {"Anna"}
    assert names("kind=association") == {"Denis", "Nina"}
    assert names("role=moderator") == {"Denis"}
    assert names("activity=active30") == {"Anna", "Olga"}
    assert names("activity=dormant90") == {"Denis", "Nina"}
    assert names("kind=association&activity=dormant90&role=member") == {"Nina"}
    # Unknown values are ignored, not an error page.
    assert names("kind=martian&activity=soon&organisation=abc") == {"Anna", "Denis", "Nina", "Olga"}


def test_members_page_is_paginated_with_a_fixed_number_of_queries(
    client, login_as, create_user, create_community, count_queries, app
):
    owner = create_user()
    community = create_community(
        slug="nombreux", owner=owner, members=[create_user() for _ in range(3)]
    )
    login_as(owner)
    client.get("/c/nombreux/members")  # warm up
    with count_queries() as few:
        assert client.get("/c/nombreux/members?kind=state_service").status_code == 200
    from maillage.communities.community.operations import add_membership

    for _ in range(12):
        add_membership(community, create_user(), "member")
    db.session.commit()
    with count_queries() as many:
        assert client.get("/c/nombreux/members?kind=state_service").status_code == 200
    assert len(many) == len(few)


def test_members_page_paginates_filtered_results(
    client, login_as, create_user, create_community, monkeypatch
):
    from maillage.communities.community import views

    monkeypatch.setattr(views, "MEMBERS_PAGE_SIZE", 2)
    owner = create_user()
    create_community(slug="pages", owner=owner, members=[create_user() for _ in range(4)])
    login_as(owner)
    page = text(client.get("/c/pages/members?role=member"))
    assert "4 membres correspondent" in page
    assert "page=2" in page
    assert "role=member" in page
    assert client.get("/c/pages/members?role=member&page=2").status_code == 200


def test_moderators_and_members_see_no_filters_nor_last_visits(client, login_as, team):
    _community, people = team
    for who in ("moderator", "member"):
        login_as(people[who])
        page = text(client.get("/c/equipe/members"))
        assert "Dernière visite" not in page
        assert 'name="activity"' not in page


# -- roles and removal ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["moderator", "member", "guest", "outsider"])
def test_only_facilitators_change_roles_or_remove(client, login_as, team, who):
    community, people = team
    login_as(people[who])
    target = people["member"] if who != "member" else people["guest"]
    assert (
        post(client, f"/c/equipe/members/{target.id}/role", {"role": "moderator"}).status_code
        == 403
    )
    assert (
        post(client, f"/c/equipe/members/{target.id}/remove", {"confirmed": "1"}).status_code == 403
    )
    assert role_of(community, target) in ("member", "guest")


def test_anonymous_cannot_change_roles(client, team):
    community, people = team
    response = client.post(f"/c/equipe/members/{people['member'].id}/role", data={"role": "owner"})
    assert response.status_code in (302, 400, 401)
    assert role_of(community, people["member"]) == "member"


def test_role_change_and_removal_are_audited_under_the_community(client, login_as, team):
    community, people = team
    login_as(people["facilitator"])
    member = people["member"]
    assert (
        post(client, f"/c/equipe/members/{member.id}/role", {"role": "moderator"}).status_code
        == 303
    )
    assert (
        post(client, f"/c/equipe/members/{member.id}/remove", {"confirmed": "1"}).status_code == 303
    )
    assert role_of(community, member) is None
    actions = set(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == people["facilitator"].id)
        )
    )
    assert {"community.role_change", "community.remove_member"} <= actions
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "community.remove_member")
    )
    assert entry.data["community"] == community.id


def test_bad_role_is_refused(client, login_as, team):
    community, people = team
    login_as(people["owner"])
    response = post(client, f"/c/equipe/members/{people['member'].id}/role", {"role": "king"})
    assert response.status_code == 400
    assert role_of(community, people["member"]) == "member"


def test_the_last_owner_can_neither_be_demoted_nor_removed_nor_leave(client, login_as, team):
    community, people = team
    owner = people["owner"]
    login_as(owner)
    response = post(client, f"/c/equipe/members/{owner.id}/role", {"role": "member"})
    assert response.status_code == 409 or response.status_code == 400
    assert "au moins un propriétaire" in text(response)
    assert post(client, f"/c/equipe/members/{owner.id}/remove", {"confirmed": "1"}).status_code in (
        400,
        409,
    )
    assert post(client, "/c/equipe/leave", {"confirmed": "1"}).status_code in (400, 403)
    assert role_of(community, owner) == "owner"


@pytest.fixture
def training_required(app):
    app.config["TRAINING_REQUIRED_FOR_FACILITATOR"] = True
    yield
    app.config["TRAINING_REQUIRED_FOR_FACILITATOR"] = False


def test_facilitator_role_needs_the_certificate_when_required(
    client, login_as, team, training_required
):
    community, people = team
    login_as(people["owner"])
    member = people["member"]
    response = post(client, f"/c/equipe/members/{member.id}/role", {"role": "facilitator"})
    assert response.status_code == 400
    assert "certificat d'animateur" in text(response)
    assert role_of(community, member) == "member"
    # Other roles are not concerned.
    assert (
        post(client, f"/c/equipe/members/{member.id}/role", {"role": "moderator"}).status_code
        == 303
    )


def test_facilitator_role_with_a_certificate_when_required(
    client, login_as, team, training_required
):
    training = pytest.importorskip("maillage.communities.training.models")
    community, people = team
    member = people["member"]
    path = training.LearningPath(title="Animer une communauté", grants_certificate=True)
    db.session.add(path)
    db.session.flush()
    db.session.add(training.Certificate(user_id=member.id, path_id=path.id, code="TEST-0001"))
    db.session.commit()
    login_as(people["owner"])
    assert (
        post(client, f"/c/equipe/members/{member.id}/role", {"role": "facilitator"}).status_code
        == 303
    )
    assert role_of(community, member) == "facilitator"


def test_facilitator_role_without_the_requirement(client, login_as, team):
    community, people = team
    login_as(people["owner"])
    member = people["member"]
    assert (
        post(client, f"/c/equipe/members/{member.id}/role", {"role": "facilitator"}).status_code
        == 303
    )
    assert role_of(community, member) == "facilitator"
