"""The role × action matrix: every Community rule (and the main content rules), for every role, on
public, private and secret communities, against an explicit table.

Letters say where the role may act: ``P`` public (open), ``V`` private (on request), ``S`` secret
(on invitation).  ``test_the_table_covers_every_community_rule`` fails when a Community rule is
added without its row here.

Administrators are not members: without an access grant they act in private and secret
communities like an outsider (they see that a private one exists, not its content); a grant lets
them read there (``ADMIN_WITH_GRANT``) and nothing more: every other action follows the rules as
for an outsider.
"""

from __future__ import annotations

import re

import pytest

from maillage.communities.community.models import Community
from maillage.communities.moderation import operations as moderation
from maillage.communities.permissions import RULES, can, forget_roles, role_in
from maillage.communities.posts.models import Post
from maillage.platform.extensions import db

ROLES = (
    "anonymous",
    "outsider",
    "guest",
    "member",
    "moderator",
    "facilitator",
    "owner",
    "elsewhere",  # facilitator of another community
    "banned",
    "muted",
    "admin",
)
ALL, NONE = "PVS", ""
MEMBERS = ("guest", "member", "moderator", "facilitator", "owner", "muted")


def row(default: str = NONE, **where: str) -> dict[str, str]:
    return {role: where.get(role, default) for role in ROLES}


def members_only(*roles: str) -> dict[str, str]:
    return row(**{role: ALL for role in roles}, admin="P")


READERS = row(
    anonymous="P", outsider="P", elsewhere="P", banned="P", admin="P", **{r: ALL for r in MEMBERS}
)
SIGNED_IN_READERS = {**READERS, "anonymous": NONE}
MANAGERS = members_only("facilitator", "owner")
MODERATORS = members_only("moderator", "facilitator", "owner")
CONTRIBUTORS = members_only("member", "moderator", "facilitator", "owner")

COMMUNITY_TABLE: dict[str, dict[str, str]] = {
    "view": row(
        anonymous="PV",
        outsider="PV",
        elsewhere="PV",
        banned="PV",
        admin="PV",
        **{r: ALL for r in MEMBERS},
    ),
    "read": READERS,
    "list_members": SIGNED_IN_READERS,
    "report": SIGNED_IN_READERS,
    "join": row(outsider="P", elsewhere="P", admin="P"),
    "request_join": row(outsider="V", elsewhere="V", admin="V"),
    "accept_invitation": row(ALL, anonymous=NONE, banned=NONE),
    # The only owner cannot leave without handing over; admins are not members.
    "leave": row(**{r: ALL for r in ("guest", "member", "moderator", "facilitator", "muted")}),
    "post": CONTRIBUTORS,
    "comment": CONTRIBUTORS,
    "react": CONTRIBUTORS,
    "manage": MANAGERS,
    "invite": MANAGERS,
    "approve_requests": MANAGERS,
    "manage_members": MANAGERS,
    "animate": MANAGERS,
    "ban": MANAGERS,
    "view_audit": MANAGERS,
    "transfer_ownership": members_only("owner"),
    "moderate": MODERATORS,
    "mute": MODERATORS,
    # Administrators only: see that it exists (admin pages), act with platform powers inside it,
    # ask for an exceptional access to a secret or private one.
    "oversee": row(admin=ALL),
    "administer": row(admin="P"),
    "request_access": row(admin="VS"),
}

#: What an administrator holding an access grant to every community may do: read everywhere (and
#: so report, like any reader); everything else only where they could without the grant.
GRANT_READS = {"view", "read", "list_members", "report"}
ADMIN_WITH_GRANT = {
    action: ALL if action in GRANT_READS else COMMUNITY_TABLE[action]["admin"]
    for action in COMMUNITY_TABLE
}

# A post by the owner in each community.
POST_TABLE: dict[str, dict[str, str]] = {
    "view": READERS,
    "comment": CONTRIBUTORS,
    "react": CONTRIBUTORS,
    "edit": row(owner=ALL),  # only its author (and admins where their powers reach)
    "delete": MODERATORS,
    "report": {**SIGNED_IN_READERS, "owner": NONE},  # not one's own post
    "hide": MODERATORS,
    "lock": MODERATORS,
    "moderate": MODERATORS,
}
POST_TABLE["edit"]["admin"] = "P"
#: The same for the owner's post: read and report everywhere, the rest in public only.
POST_WITH_GRANT = {action: ALL if action in GRANT_READS else "P" for action in POST_TABLE}

VISIBILITIES = {"P": ("public", "open"), "V": ("private", "request"), "S": ("secret", "invite")}


@pytest.fixture
def world(create_user, create_community, create_post):
    people = {role: create_user(f"{role}1", is_admin=role == "admin") for role in ROLES[1:]}
    people["anonymous"] = None
    other = create_community("Ailleurs", slug="ailleurs", owner=people["elsewhere"])
    assert other is not None
    places, posts = {}, {}
    for letter, (visibility, policy) in VISIBILITIES.items():
        community = create_community(
            f"Communauté {visibility}",
            slug=f"c-{visibility}",
            visibility=visibility,
            join_policy=policy,
            owner=people["owner"],
            members=[
                (people["guest"], "guest"),
                people["member"],
                (people["moderator"], "moderator"),
                (people["facilitator"], "facilitator"),
                people["banned"],
                people["muted"],
            ],
        )
        posts[letter] = create_post(community, people["owner"], f"Publication {visibility}")
        moderation.ban(people["owner"], community, people["banned"], "Exclu", None)
        moderation.mute(people["moderator"], community, people["muted"], "Silence", None)
        places[letter] = community
    db.session.commit()
    for person in people.values():
        forget_roles(person)
    return people, places, posts


def mismatches(table, people, objects, action) -> list[str]:
    wrong = []
    for role in ROLES:
        for letter, obj in objects.items():
            expected = letter in table[action][role]
            if can(people[role], action, obj) != expected:
                wrong.append(f"{role} on {letter}: expected {expected}")
    return wrong


def test_the_table_covers_every_community_rule(app):
    actions = {action for (kind, action) in RULES if kind is Community}
    missing, stale = sorted(actions - set(COMMUNITY_TABLE)), sorted(set(COMMUNITY_TABLE) - actions)
    assert (missing, stale) == ([], []), "add the new Community rules to COMMUNITY_TABLE"


@pytest.mark.parametrize("action", sorted(COMMUNITY_TABLE))
def test_community_action(world, action):
    people, places, _posts = world
    assert mismatches(COMMUNITY_TABLE, people, places, action) == []


@pytest.mark.parametrize("action", sorted(POST_TABLE))
def test_post_action(world, action):
    people, _places, posts = world
    assert mismatches(POST_TABLE, people, posts, action) == []


def test_an_admin_with_access_grants_reads_but_gains_no_other_right(world):
    from maillage.communities.oversight.operations import request_access
    from maillage.communities.permissions import forget_grants

    people, places, posts = world
    admin = people["admin"]
    for letter in "VS":
        request_access(admin, places[letter], "moderation", "Signalement n° 42 à vérifier", 1)
    db.session.commit()
    forget_grants(admin)
    wrong = [
        f"{action} on {letter}"
        for action, where in ADMIN_WITH_GRANT.items()
        for letter, place in places.items()
        if can(admin, action, place) != (letter in where)
    ]
    wrong += [
        f"post {action} on {letter}"
        for action, where in POST_WITH_GRANT.items()
        for letter, post in posts.items()
        if can(admin, action, post) != (letter in where)
    ]
    assert wrong == []


def test_a_locked_post_takes_comments_from_moderators_only(world):
    people, _places, posts = world
    for post in posts.values():
        moderation.lock(people["moderator"], post)
    db.session.commit()
    locked_table = {"comment": MODERATORS}
    assert mismatches(locked_table, people, posts, "comment") == []


def test_a_hidden_post_is_seen_by_its_author_and_moderators(world):
    people, _places, posts = world
    for post in posts.values():
        moderation.hide(people["moderator"], post, "Hors charte")
    db.session.commit()
    assert mismatches({"view": MODERATORS}, people, posts, "view") == []


# -- HTTP: what the table says, through the pages ------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def test_moderator_gets_403_on_settings_and_role_changes(client, login_as, world, app):
    people, places, _posts = world
    login_as(people["moderator"])
    token = csrf(client)
    for place in places.values():
        assert client.get(f"/c/{place.slug}/settings").status_code == 403
        changed = client.post(
            f"/c/{place.slug}/settings",
            data={
                "csrf_token": token,
                "name": "Pris",
                "visibility": "public",
                "join_policy": "open",
            },
        )
        assert changed.status_code == 403
        assert client.get(f"/c/{place.slug}/invite").status_code == 403
    member = people["member"]
    for place in places.values():  # the role change and removal of the members page
        for role in ("owner", "facilitator", "guest"):
            response = client.post(
                f"/c/{place.slug}/members/{member.id}/role",
                data={"csrf_token": token, "role": role},
            )
            assert response.status_code == 403, (place.slug, role)
        removed = client.post(
            f"/c/{place.slug}/members/{member.id}/remove",
            data={"confirmed": "1", "csrf_token": token},
        )
        assert removed.status_code == 403, place.slug
        assert role_in(member, place) == "member"
    assert app.url_map.bind("").match("/c/x/members/1/role", method="POST")[0] == (
        "community.change_role"
    )
    assert db.session.get(Post, _posts["V"].id) is not None
    assert db.session.get(Community, places["V"].id).name == "Communauté private"


def test_banned_member_is_shut_out_of_private_and_secret_pages(client, login_as, world):
    people, places, posts = world
    login_as(people["banned"])
    assert client.get(f"/c/{places['S'].slug}").status_code == 404
    assert client.get(f"/post/{posts['S'].id}").status_code == 404
    assert client.get(f"/post/{posts['V'].id}").status_code == 404
    assert client.get("/c/c-private").status_code == 200  # still listed
    assert "Publication private" not in client.get("/c/c-private").get_data(as_text=True)
    found = client.get("/search?q=Publication").get_data(as_text=True)
    assert "Publication private" not in found
    assert "Publication secret" not in found
    assert "Publication private" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/post/{posts['P'].id}").status_code == 200  # public stays public
