"""Issue 5 rules over HTTP: a facilitator acts only in their own communities (every console,
moderation, analytics and animation route of another community answers 403 or 404); a moderator
cannot change roles; the certificate the instance may require is asked on every path that grants
the facilitator role (role change, invitation, bulk invitation)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.communities.animation import operations as animation
from maillage.communities.community import bulk
from maillage.communities.community import operations as community_ops
from maillage.communities.community.models import Membership
from maillage.communities.moderation import operations as moderation
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
FACILITATOR_BLUEPRINTS = ("animation", "moderation", "analytics")
# Community routes that are facilitator tools (the others are the public pages and joining).
COMMUNITY_TOOLS = {
    "change_role",
    "remove_member",
    "requests",
    "decide_request",
    "invite",
    "settings",
    "settings_modules",
    "console",
    "invitations",
    "revoke_invitation",
    "bulk_invite",
}
URL_VALUES = {"kind": "post", "decision": "hide", "table": "members"}


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def role_of(community, user) -> str | None:
    return db.session.scalar(
        select(Membership.role).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        )
    )


@pytest.fixture
def two(create_user, create_community, create_post):
    people = {
        name: create_user(f"{name}1")
        for name in ("owner", "member", "moderator", "applicant", "elsewhere")
    }
    community = create_community(
        "Cible",
        slug="cible",
        visibility="private",
        join_policy="request",
        owner=people["owner"],
        members=[people["member"], (people["moderator"], "moderator")],
    )
    create_community("Ailleurs", slug="ailleurs", owner=people["elsewhere"])
    post = create_post(community, people["owner"], "Une note")
    # One object of each kind, so the routes' ids name real things of the target community.
    moderation.report(people["member"], post, "other", "Hors sujet")
    animation.create_announcement(community, people["owner"], "Annonce", "Texte")
    community_ops.request_to_join(community, people["applicant"], "Bonjour", None)
    community_ops.invite(community, people["owner"], "invitee@example.gouv.fr")
    db.session.commit()
    return people, community, post


def facilitator_routes(app):
    for rule in app.url_map.iter_rules():
        blueprint, _, name = rule.endpoint.partition(".")
        if "<slug>" not in rule.rule:
            continue
        if blueprint in FACILITATOR_BLUEPRINTS or (
            blueprint == "community" and name in COMMUNITY_TOOLS
        ):
            yield rule


def url_for_rule(rule, slug: str, object_id: int) -> str:
    url = rule.rule.replace("<slug>", slug)
    for name, value in URL_VALUES.items():
        url = url.replace(f"<{name}>", value)
    return re.sub(r"<int:[a-z_]+>", str(object_id), url)


def test_the_route_list_is_not_empty(app):
    names = {rule.endpoint for rule in facilitator_routes(app)}
    assert {"community.change_role", "moderation.queue", "analytics.community"} <= names
    assert {"animation.announcements", "community.settings"} <= names


def test_a_facilitator_of_another_community_gets_403_or_404_everywhere(app, client, login_as, two):
    people, community, post = two
    login_as(people["elsewhere"])
    token = csrf(client)
    for rule in facilitator_routes(app):
        url = url_for_rule(rule, community.slug, post.id if "object_id" in rule.rule else 1)
        for method in sorted(rule.methods & {"GET", "POST"}):
            data = {"csrf_token": token, "role": "owner", "reason": "x", "title": "x"}
            response = client.open(url, method=method, data=data if method == "POST" else None)
            assert response.status_code in (403, 404), f"{method} {url}"
    assert role_of(community, people["elsewhere"]) is None
    assert role_of(community, people["member"]) == "member"
    assert db.session.get(type(post), post.id).hidden is False


def test_a_moderator_cannot_change_roles_nor_remove(client, login_as, two):
    people, community, _post = two
    login_as(people["moderator"])
    token = csrf(client)
    member = people["member"]
    for role in ("owner", "facilitator", "moderator", "guest"):
        response = client.post(
            f"/c/cible/members/{member.id}/role", data={"csrf_token": token, "role": role}
        )
        assert response.status_code == 403, role
    own = client.post(
        f"/c/cible/members/{people['moderator'].id}/role",
        data={"csrf_token": token, "role": "owner"},
    )
    assert own.status_code == 403
    removed = client.post(
        f"/c/cible/members/{member.id}/remove", data={"confirmed": "1", "csrf_token": token}
    )
    assert removed.status_code == 403
    assert role_of(community, member) == "member"
    assert role_of(community, people["moderator"]) == "moderator"


def test_the_last_owner_is_kept_over_http(client, login_as, two):
    people, community, _post = two
    owner = people["owner"]
    login_as(owner)
    token = csrf(client)
    demoted = client.post(
        f"/c/cible/members/{owner.id}/role", data={"csrf_token": token, "role": "member"}
    )
    assert demoted.status_code in (400, 409)
    removed = client.post(
        f"/c/cible/members/{owner.id}/remove", data={"confirmed": "1", "csrf_token": token}
    )
    assert removed.status_code in (400, 409)
    assert client.post(
        "/c/cible/leave", data={"confirmed": "1", "csrf_token": token}
    ).status_code in (400, 403)
    assert role_of(community, owner) == "owner"
    # Handing over first: another owner, then the first one may leave.
    promoted = client.post(
        f"/c/cible/members/{people['member'].id}/role",
        data={"csrf_token": token, "role": "owner"},
    )
    assert promoted.status_code == 303
    assert client.post(
        "/c/cible/leave", data={"confirmed": "1", "csrf_token": token}
    ).status_code in (200, 303)
    assert role_of(community, owner) is None


# -- the certificate the instance may require --------------------------------------------------


@pytest.fixture
def training_required(app):
    app.config["TRAINING_REQUIRED_FOR_FACILITATOR"] = True
    yield
    app.config["TRAINING_REQUIRED_FOR_FACILITATOR"] = False


def certify(user) -> None:
    from maillage.communities.training.models import Certificate, LearningPath

    path = LearningPath(title="Animer une communauté", grants_certificate=True)
    db.session.add(path)
    db.session.flush()
    db.session.add(Certificate(user_id=user.id, path_id=path.id, code=f"TEST-{user.id:04d}"))
    db.session.commit()


def accept_over_http(client, login_as, user, token):
    login_as(user)
    page = client.get(f"/invitations/{token}").get_data(as_text=True)
    return client.post(
        f"/invitations/{token}",
        data={"csrf_token": CSRF_RE.search(page).group(1), "accept_charter": "y"},
    )


def test_an_invitation_as_facilitator_gives_member_without_the_certificate(
    client, login_as, two, create_user, training_required
):
    people, community, _post = two
    invitee = create_user("invitee2", email="invitee2@example.gouv.fr")
    _invitation, token = community_ops.invite(
        community, people["owner"], invitee.email, "facilitator"
    )
    db.session.commit()
    response = accept_over_http(client, login_as, invitee, token)
    assert response.status_code == 303
    assert role_of(community, invitee) == "member"
    capped = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "community.role_capped")
    )
    assert capped is not None
    assert capped.data["wanted"] == "facilitator"
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "certificat d&#39;animateur" in shown or "certificat d'animateur" in shown


def test_an_invitation_never_raises_an_uncertified_member_to_facilitator(
    client, login_as, two, training_required
):
    people, community, _post = two
    guest = people["applicant"]
    _invitation, token = community_ops.invite(
        community, people["owner"], guest.email, "facilitator"
    )
    community_ops.add_membership(community, guest, "guest")  # became a guest meanwhile
    db.session.commit()
    assert accept_over_http(client, login_as, guest, token).status_code == 303
    assert role_of(community, guest) == "member"  # raised, but no further


def test_a_certified_invitee_becomes_facilitator(
    client, login_as, two, create_user, training_required
):
    people, community, _post = two
    invitee = create_user("invitee3", email="invitee3@example.gouv.fr")
    certify(invitee)
    _invitation, token = community_ops.invite(
        community, people["owner"], invitee.email, "facilitator"
    )
    db.session.commit()
    assert accept_over_http(client, login_as, invitee, token).status_code == 303
    assert role_of(community, invitee) == "facilitator"


def test_without_the_requirement_an_invitation_gives_its_role(client, login_as, two, create_user):
    people, community, _post = two
    invitee = create_user("invitee4", email="invitee4@example.gouv.fr")
    _invitation, token = community_ops.invite(
        community, people["owner"], invitee.email, "facilitator"
    )
    db.session.commit()
    assert accept_over_http(client, login_as, invitee, token).status_code == 303
    assert role_of(community, invitee) == "facilitator"


def test_bulk_invitations_as_facilitators_need_the_certificate_too(
    client, login_as, two, create_user, training_required, outbox_mail
):
    people, community, _post = two
    certified = create_user("certified5", email="certified5@example.gouv.fr")
    uncertified = create_user("plain5", email="plain5@example.gouv.fr")
    certify(certified)
    report = bulk.bulk_invite(
        community, people["owner"], f"{certified.email}\n{uncertified.email}", "facilitator"
    )
    db.session.commit()
    assert [line.role for line in report] == ["facilitator", "facilitator"]
    for person in (certified, uncertified):
        mail = next(m for m in outbox_mail() if m["To"] == person.email)
        token = re.search(r"/invitations/([\w-]+)", mail.get_body().get_content()).group(1)
        assert accept_over_http(client, login_as, person, token).status_code == 303
    assert role_of(community, certified) == "facilitator"
    assert role_of(community, uncertified) == "member"


def test_granting_a_role_helper(two, create_user, training_required):
    people, _community, _post = two
    assert community_ops.grantable_role(people["member"], "facilitator") == "member"
    assert community_ops.grantable_role(people["member"], "owner") == "member"
    assert community_ops.grantable_role(people["member"], "moderator") == "moderator"
    certify(people["member"])
    assert community_ops.grantable_role(people["member"], "facilitator") == "facilitator"
