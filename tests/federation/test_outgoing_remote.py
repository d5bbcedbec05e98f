"""Our people in remote communities: follow by handle or URL, the Group's answer, then
posting, commenting, editing, deleting there — each a delivery to the Group's inbox signed by
the person.  The remote Group is a ``test_peer`` group (a real HTTP server on loopback)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.platform.extensions import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def submit(client, url: str, data: dict | None = None):
    """POST a form as a browser does, with the CSRF token of a page."""
    token = CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **(data or {})})


def deliveries(kind: str | None = None) -> list:
    from maillage.federation.transport.models import Delivery

    rows = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    return [row for row in rows if kind is None or row.payload.get("type") == kind]


def remote_follow(user):
    from maillage.federation.outgoing.models import RemoteFollow

    db.session.expire_all()
    return db.session.scalar(select(RemoteFollow).where(RemoteFollow.user_id == user.id))


@pytest.fixture
def member(create_user):
    return create_user("agent")


@pytest.fixture
def group_id(test_peer):
    return test_peer.group_id("lounge")


def follow(client, handle: str):
    return submit(client, "/federation/follow", {"handle": handle})


def accept(test_peer, client, group_id: str, follow_payload: dict, kind: str = "Accept"):
    answer = test_peer.activity(
        kind,
        {k: v for k, v in follow_payload.items() if k != "@context"},
        actor=group_id,
        to=[follow_payload["actor"]],
    )
    response = test_peer.post(client, "/inbox", answer)
    assert response.status_code == 202, response.get_data(as_text=True)
    db.session.expire_all()


@pytest.fixture
def followed(test_peer, client, login_as, member, group_id):
    """``member`` follows the peer's group ``lounge`` and the group accepted."""
    login_as(member)
    assert follow(client, group_id).status_code == 302
    [row] = deliveries("Follow")
    accept(test_peer, client, group_id, row.payload)
    state = remote_follow(member)
    assert state.state == "accepted"
    return state.community


def test_follow_by_url_sends_a_follow_signed_by_the_person(
    test_peer, client, login_as, member, group_id
):
    login_as(member)
    response = follow(client, group_id)
    assert response.status_code == 302
    [row] = deliveries("Follow")
    assert row.signer_ap_id == member.ap_id
    assert row.inbox_url == f"{group_id}/inbox"
    assert row.payload["actor"] == member.ap_id
    assert row.payload["object"] == group_id
    state = remote_follow(member)
    assert state.state == "pending"
    assert state.follow_activity_id == row.payload["id"]
    assert state.community.local is False
    page = client.get("/federation/follow").get_data(as_text=True)
    assert "En attente" in page
    assert state.community.name in page


def test_accept_makes_the_person_a_member_and_reject_does_not(
    test_peer, client, login_as, member, group_id
):
    from maillage.communities.community.operations import membership_of

    login_as(member)
    follow(client, group_id)
    [row] = deliveries("Follow")
    accept(test_peer, client, group_id, row.payload, kind="Reject")
    state = remote_follow(member)
    assert state.state == "rejected"
    assert membership_of(state.community, member) is None
    follow(client, group_id)  # asking again sends a new Follow
    newest = deliveries("Follow")[-1]
    assert newest.payload["id"] != row.payload["id"]
    accept(test_peer, client, group_id, newest.payload)
    state = remote_follow(member)
    assert state.state == "accepted"
    assert membership_of(state.community, member) is not None
    assert "Acceptée" in client.get("/federation/follow").get_data(as_text=True)


def test_accept_from_another_actor_is_ignored(test_peer, client, login_as, member, group_id):
    login_as(member)
    follow(client, group_id)
    [row] = deliveries("Follow")
    accept(test_peer, client, test_peer.group_id("autre"), row.payload)
    assert remote_follow(member).state == "pending"


def test_remote_community_page_is_marked_remote(test_peer, client, followed):
    response = client.get(f"/c/{followed.slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "distant" in html
    assert test_peer.domain in html
    assert "@" in followed.slug


def test_post_comment_edit_delete_in_remote_community(
    test_peer, client, member, group_id, followed
):
    response = submit(
        client, f"/c/{followed.slug}/posts", {"title": "Depuis chez nous", "body": "Bonjour"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [create] = deliveries("Create")
    assert create.signer_ap_id == member.ap_id
    assert create.inbox_url == f"{group_id}/inbox"
    activity = create.payload
    assert activity["actor"] == member.ap_id
    assert activity["audience"] == group_id
    assert group_id in activity["to"] + activity["cc"]
    assert PUBLIC in activity["to"] + activity["cc"]  # the remote group is public
    page = activity["object"]
    assert page["type"] == "Page"
    assert page["audience"] == group_id
    assert page["attributedTo"] == member.ap_id

    from maillage.communities.posts.models import Post

    post = db.session.scalar(select(Post).where(Post.community_id == followed.id))
    assert submit(client, f"/post/{post.id}/comments", {"body": "Un avis"}).status_code == 302
    note = deliveries("Create")[-1].payload["object"]
    assert note["type"] == "Note"
    assert note["inReplyTo"] == post.ap_id
    assert (
        submit(client, f"/post/{post.id}/edit", {"title": "Corrigé", "body": "Bonjour"}).status_code
        == 302
    )
    [update] = deliveries("Update")
    assert update.payload["object"]["name"] == "Corrigé"
    assert update.signer_ap_id == member.ap_id
    post_ap_id = post.ap_id
    assert submit(client, f"/post/{post.id}/delete", {"confirmed": "1"}).status_code == 302
    [delete] = deliveries("Delete")
    assert delete.payload["object"] == post_ap_id
    assert delete.inbox_url == f"{group_id}/inbox"
    assert not any(row.payload.get("type") == "Announce" for row in deliveries())


def test_unfollow_sends_undo_follow_and_leaves(test_peer, client, member, group_id, followed):
    from maillage.communities.community.operations import membership_of

    state = remote_follow(member)
    follow_id = state.follow_activity_id
    response = submit(client, f"/federation/follow/{state.id}/unfollow", {"confirmed": "1"})
    assert response.status_code == 302
    [undo] = deliveries("Undo")
    assert undo.payload["object"]["id"] == follow_id
    assert undo.payload["object"]["type"] == "Follow"
    assert undo.signer_ap_id == member.ap_id
    assert remote_follow(member) is None
    assert membership_of(followed, member) is None


def test_unfollow_someone_elses_follow_is_404(client, login_as, create_user, followed, member):
    state = remote_follow(member)
    login_as(create_user())
    assert (
        submit(client, f"/federation/follow/{state.id}/unfollow", {"confirmed": "1"}).status_code
        == 404
    )


# -- errors of the follow page -----------------------------------------------------------------


def test_follow_page_needs_a_signed_in_person(client):
    response = client.get("/federation/follow")
    assert response.status_code in (302, 401)


@pytest.mark.parametrize(
    ("handle", "message"),
    [
        ("", "Indiquez l"),
        ("pas un identifiant", "Identifiant invalide"),
        ("x" * 600, "trop long"),
    ],
)
def test_bad_handles_are_refused_with_a_message(client, login_as, member, handle, message):
    login_as(member)
    response = follow(client, handle)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert remote_follow(member) is None


def test_unknown_handle(test_peer, client, login_as, member):
    login_as(member)
    response = follow(client, f"!personne@{test_peer.netloc}")
    assert response.status_code == 422
    assert "Identifiant inconnu" in response.get_data(as_text=True)


def test_unreachable_instance(test_peer, client, login_as, member):
    login_as(member)
    response = follow(client, "!groupe@127.0.0.9:9")
    assert response.status_code == 422
    assert "injoignable" in response.get_data(as_text=True)


def test_instance_not_allowed_by_policy(app, test_peer, client, login_as, member, group_id):
    app.config["FEDERATION_MODE"] = "allowlist"
    login_as(member)
    response = follow(client, group_id)
    assert response.status_code == 422
    assert "pas autorisée" in response.get_data(as_text=True)
    assert deliveries() == []


def test_a_person_is_not_a_group(test_peer, client, login_as, member):
    login_as(member)
    response = follow(client, test_peer.person_id("alice"))
    assert response.status_code == 422
    assert "pas une communauté" in response.get_data(as_text=True)
    assert deliveries() == []


def test_like_and_undo_like_of_a_post_in_remote_community(member, group_id, followed):
    """``publish_reaction`` (wired to the ``reaction_toggled`` signal once posts sends it)."""
    from maillage.communities.posts.operations import create_post
    from maillage.federation.outgoing.subscribers import publish_reaction

    post = create_post(followed, member, "À voter", "…")
    publish_reaction(post, member, "👍", True)
    publish_reaction(post, member, "👍", False)
    publish_reaction(post, member, "🎉", True)  # other emoji stay local
    db.session.commit()
    [like] = deliveries("Like")
    [undo] = deliveries("Undo")
    assert like.payload["object"] == post.ap_id
    assert like.signer_ap_id == member.ap_id
    assert like.inbox_url == f"{group_id}/inbox"
    assert undo.payload["object"]["type"] == "Like"
    assert undo.payload["object"]["object"] == post.ap_id


def _remote_post(test_peer, client, group_id: str, followed, title: str = "Chez eux"):
    """A post of the peer's ``alice`` in its group, announced by the group to our inbox."""
    from maillage.communities.posts.models import Post

    page = test_peer.publish(
        {
            "id": f"{test_peer.base_url}/post/{title.replace(' ', '-')}",
            "type": "Page",
            "attributedTo": test_peer.person_id("alice"),
            "audience": group_id,
            "to": [group_id, PUBLIC],
            "name": title,
            "content": "<p>Texte</p>",
            "mediaType": "text/html",
        }
    )
    create = test_peer.activity(
        "Create", page, actor=test_peer.person_id("alice"), cc=[group_id], audience=group_id
    )
    announce = test_peer.activity(
        "Announce",
        {k: v for k, v in create.items() if k != "@context"},
        actor=group_id,
        cc=[f"{group_id}/followers"],
    )
    response = test_peer.post(client, "/inbox", announce)
    assert response.status_code == 202, response.get_data(as_text=True)
    db.session.expire_all()
    post = db.session.scalar(select(Post).where(Post.ap_id == page["id"]))
    assert post is not None
    assert post.community_id == followed.id
    return post


def test_report_in_remote_community_is_a_flag_to_the_group(
    test_peer, client, member, group_id, followed
):
    post = _remote_post(test_peer, client, group_id, followed)
    response = submit(
        client, f"/report/post/{post.id}", {"category": "other", "reason": "Propos injurieux"}
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    [flag] = deliveries("Flag")
    assert flag.signer_ap_id == member.ap_id
    assert flag.inbox_url == f"{group_id}/inbox"
    assert flag.payload["actor"] == member.ap_id
    assert flag.payload["object"] == post.ap_id
    assert flag.payload["to"] == [group_id]
    assert flag.payload["summary"] == "Propos injurieux"
    [sent] = test_peer.received_activities("Flag")
    assert sent["id"] == flag.payload["id"]


def test_vote_over_http_in_remote_community(test_peer, client, member, group_id, followed):
    post = _remote_post(test_peer, client, group_id, followed, "À voter")
    assert submit(client, f"/post/{post.id}/react", {"emoji": "👍"}).status_code == 302
    [like] = deliveries("Like")
    assert (like.payload["object"], like.signer_ap_id) == (post.ap_id, member.ap_id)
    assert like.inbox_url == f"{group_id}/inbox"
    assert submit(client, f"/post/{post.id}/react", {"emoji": "👍"}).status_code == 302
    [undo] = deliveries("Undo")
    assert undo.payload["object"]["id"] == like.payload["id"] or (
        undo.payload["object"]["type"] == "Like"
    )
    assert undo.payload["object"]["object"] == post.ap_id


def test_moderation_of_a_remote_community_stays_with_its_group(
    test_peer, client, create_user, group_id, followed
):
    """Only the remote group moderates its content: our admin's hide, lock or ban of a shadow
    community's content sends nothing (the group decides for its followers)."""
    from maillage.communities.moderation.operations import ban, hide, lock

    post = _remote_post(test_peer, client, group_id, followed)
    admin = create_user("admina", is_admin=True)
    hide(admin, post, "Hors charte")
    lock(admin, post)
    ban(admin, followed, post.author, "Hors charte", None)
    db.session.commit()
    assert deliveries() == [row for row in deliveries() if row.payload["type"] == "Follow"]


def test_the_directory_leads_to_following_a_remote_community(client, login_as, member):
    login_as(member)
    directory = client.get("/communities").get_data(as_text=True)
    assert 'href="/federation/follow"' in directory
    assert client.get("/federation/follow").status_code == 200
