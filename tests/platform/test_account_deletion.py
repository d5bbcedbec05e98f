"""Account deletion: request, cooling-off, cancel, refusals, execution, federation, inactivity."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from maillage.communities.users.models import User
from maillage.platform.extensions import db

PASSWORD = "correct horse battery"
LATER = dt.timedelta(days=8)


def token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def ask_deletion(client, erasure="keep_content", password=PASSWORD):
    page = client.get("/account/delete")
    return client.post(
        "/account/delete",
        data={"csrf_token": token(page.text), "erasure": erasure, "password": password},
    )


@pytest.fixture
def person(create_user, create_community, create_post):
    """Alice, with a post, a comment, a token and a notification, in Bob's community."""
    from maillage.auth.tokens.operations import create_token
    from maillage.communities.community.operations import join
    from maillage.communities.posts.operations import add_comment

    bob = create_user("bob")
    alice = create_user("alice", display_name="Alice Martin", email="alice@example.gouv.fr")
    community = create_community("Acheteurs publics", owner=bob, slug="acheteurs")
    join(community, alice)
    db.session.commit()
    post = create_post(community, alice, title="Marchés durables", body="Retour d'expérience.")
    other = create_post(community, bob, title="Agenda", body="Réunion jeudi.")
    add_comment(other, alice, "Je serai là.")
    add_comment(post, bob, "Merci Alice !")
    create_token(alice, "script")
    db.session.commit()
    return alice, bob, community, post


def test_request_with_password_then_cancel(client, login_as, person, outbox_mail):
    alice, *_ = person
    login_as(alice)
    assert ask_deletion(client, password="wrong").status_code == 400
    assert db.session.get(User, alice.id).deletion_due_at is None

    response = ask_deletion(client)
    assert response.status_code == 302
    alice = db.session.get(User, alice.id)
    assert alice.deletion_erasure == "keep_content"
    assert alice.deletion_due_at - alice.deletion_requested_at == dt.timedelta(days=7)
    assert "Suppression de votre compte programmée" in outbox_mail()[-1]["Subject"]
    home = client.get("/")
    assert "La suppression de votre compte est programmée" in home.text

    page = client.get("/account/delete")
    cancelled = client.post("/account/delete/cancel", data={"csrf_token": token(page.text)})
    assert cancelled.status_code == 302
    assert db.session.get(User, alice.id).deletion_due_at is None
    assert "annulée" in outbox_mail()[-1]["Subject"]


def test_last_owner_is_refused_with_the_communities_listed(client, login_as, person):
    _alice, bob, community, _post = person
    login_as(bob)
    response = ask_deletion(client)
    assert response.status_code == 409
    assert "dernier propriétaire" in response.text
    assert f'href="/c/{community.slug}/members"' in response.text
    assert db.session.get(User, bob.id).deletion_due_at is None


def test_last_admin_is_refused(client, login_as, create_user):
    admin = create_user("chief", is_admin=True)
    login_as(admin)
    response = ask_deletion(client)
    assert response.status_code == 409
    assert "dernier compte administrateur" in response.text
    assert db.session.get(User, admin.id).deletion_due_at is None


def test_export_running_is_refused(client, login_as, person):
    models = pytest.importorskip("maillage.platform.personal_data.models")
    alice, *_ = person
    db.session.add(models.ExportRequest(user_id=alice.id, status=models.ExportStatus.PENDING))
    db.session.commit()
    login_as(alice)
    response = ask_deletion(client)
    assert response.status_code == 409
    assert "exportation de vos données est en cours" in response.text
    assert db.session.get(User, alice.id).deletion_due_at is None


def test_sso_only_account_needs_a_recent_sign_in(client, login_as, person):
    alice, *_ = person
    alice.password_hash = None
    db.session.commit()
    login_as(alice)
    page = client.get("/account/delete")
    assert "Me reconnecter avec mon organisation" in page.text
    data = {"csrf_token": token(page.text), "erasure": "keep_content"}
    assert client.post("/account/delete", data=data).status_code == 400
    with client.session_transaction() as session:
        session["auth_signed_in_at"] = int(dt.datetime.now(dt.UTC).timestamp())
    assert client.post("/account/delete", data=data).status_code == 302
    assert db.session.get(User, alice.id).deletion_due_at is not None


def _execute(user, erasure):
    from maillage.platform.account_deletion import operations

    user = db.session.get(User, user.id)
    operations.request_deletion(user, erasure, requested_by=user)
    db.session.commit()
    assert operations.execute(user.id) is False  # not due yet: cooling-off
    now = user.deletion_due_at + dt.timedelta(minutes=1)
    assert operations.queue_due(now) == 1
    db.session.expire_all()
    return db.session.get(User, user.id)


@pytest.mark.parametrize("erasure", ["keep_content", "delete_content"])
def test_execution_leaves_nothing_that_names_the_person(client, person, outbox_mail, erasure):
    from maillage.communities.posts.models import Comment, Post
    from maillage.platform.account_deletion import operations
    from maillage.platform.personal_data.registry import HOLDERS

    alice, _bob, community, post = person
    post_id, slug = post.id, community.slug
    found = client.get("/search", query_string={"q": "Alice Martin"})
    assert "1 résultat pour" in found.text  # indexed before the deletion
    user = _execute(alice, erasure)  # the queued item ran (eager worker)
    assert user.deleted_at is not None
    assert not user.is_active
    assert user.display_name == "Ancien membre"
    assert "alice" not in user.username
    assert "alice" not in user.ap_id
    assert user.email is None
    assert user.password_hash is None
    assert user.organisation_id is None
    assert "supprimé" in outbox_mail()[-1]["Subject"]
    assert outbox_mail()[-1]["To"] == "alice@example.gouv.fr"
    for holder in HOLDERS.values():
        exported = repr(holder.export(user))
        assert "Alice Martin" not in exported, holder.section
        assert "alice@" not in exported, holder.section
    assert not [
        h.section
        for h in HOLDERS.values()
        if h.section in {"identities", "api_tokens", "notifications"} and h.export(user)
    ]

    kept = db.session.get(Post, post_id)
    page = client.get(f"/c/{slug}")
    assert "Alice Martin" not in page.text
    assert "/u/alice" not in page.text
    if erasure == "keep_content":
        assert kept is not None
        assert kept.author.display_name == "Ancien membre"
        assert "Marchés durables" in page.text
        page = client.get(f"/post/{post_id}").text
        assert "Ancien membre" in page
        assert "/u/ancien-membre" not in page  # a name, no link to a profile that is gone
    else:
        comments = db.session.scalars(select(Comment).where(Comment.author_id == user.id)).all()
        assert kept is None
        assert comments == []
    members = client.get(f"/c/{slug}/members")
    assert "Alice Martin" not in members.text
    assert "Ancien membre" not in members.text
    assert client.get("/u/alice").status_code == 404
    assert client.get(f"/u/{user.username}").status_code == 404
    search = client.get("/search", query_string={"q": "Alice Martin"})
    assert 'href="/u/alice"' not in search.text
    assert not re.search(r"[1-9]\d* résultats? pour", search.text)

    again = operations.execute(user.id, dt.datetime.now(dt.UTC) + LATER)
    assert again is False  # idempotent: a second run changes nothing
    assert db.session.get(User, user.id).username == user.username


def test_execution_leaves_no_name_nor_address_in_others_notices_and_the_audit_log(
    person, create_community
):
    """Notices other people received (a join request names the requester in its title) and
    audit entries (an invitation recorded the invited address) no longer hold the person's
    e-mail, username or display name once the account is deleted."""
    from maillage.communities.community.operations import invite, request_to_join, revoke_invitation
    from maillage.platform.audit.models import AuditEntry
    from maillage.platform.audit.operations import record
    from maillage.platform.notifications.models import Notification

    alice, bob, _community, _post = person
    network = create_community("Réseau", owner=bob, join_policy="request", slug="reseau")
    request_to_join(network, alice, "Bonjour")
    invitation, _token = invite(network, bob, "alice@example.gouv.fr")
    revoke_invitation(invitation, bob)
    club = create_community("Club", owner=bob, slug="club")
    invite(club, bob, "Alice@Example.gouv.fr")
    # An entry written before invitations were recorded by id: the address in its data.
    record(bob, "community.invite", network, community=network, email="alice@example.gouv.fr")
    record(bob, "community.member_note", network, who="Alice Martin", role="member")
    db.session.commit()
    notice = db.session.scalar(select(Notification).where(Notification.reason == "join_request"))
    assert "Alice Martin demande à rejoindre" in notice.title
    old = ("alice@example.gouv.fr", "alice", "Alice Martin")

    user = _execute(alice, "keep_content")
    assert user.deleted_at is not None
    titles = db.session.scalars(select(Notification.title)).all()
    assert titles
    for title in titles:
        assert not any(value.lower() in title.lower() for value in old), title
    assert db.session.get(Notification, notice.id).title.startswith(
        "Ancien membre demande à rejoindre"
    )
    entries = db.session.scalars(select(AuditEntry)).all()
    for entry in entries:
        data = repr(entry.data).lower()
        assert not any(value.lower() in data for value in old), (entry.action, entry.data)
    note = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "community.member_note"))
    assert note.data["role"] == "member"  # codes stay


def test_becoming_last_owner_postpones_the_deletion(person, outbox_mail):
    from maillage.communities.community.models import Membership
    from maillage.platform.account_deletion import operations

    alice, bob, _community, _post = person
    operations.request_deletion(alice, requested_by=alice)
    db.session.commit()
    membership = db.session.scalar(select(Membership).filter_by(user_id=alice.id))
    membership.role = "owner"
    db.session.delete(db.session.scalar(select(Membership).filter_by(user_id=bob.id)))
    db.session.commit()
    due = db.session.get(User, alice.id).deletion_due_at
    assert operations.execute(alice.id, due + dt.timedelta(minutes=1)) is False
    alice = db.session.get(User, alice.id)
    assert alice.deleted_at is None
    assert alice.deletion_due_at > due
    assert "reportée" in outbox_mail()[-1]["Subject"]


def test_admin_request_confirms_and_only_an_admin_cancels(client, login_as, person, create_user):
    alice, *_ = person
    admin = create_user("root", is_admin=True)
    login_as(admin)
    page = client.get("/admin/account-deletions")
    data = {"csrf_token": token(page.text), "reason": "Départ de l'agent"}
    asked = client.post(f"/admin/people/{alice.id}/delete", data=data)
    assert asked.status_code == 200
    assert 'name="confirmed"' in asked.text
    assert db.session.get(User, alice.id).deletion_due_at is None
    done = client.post(f"/admin/people/{alice.id}/delete", data={**data, "confirmed": "1"})
    assert done.status_code == 302
    assert db.session.get(User, alice.id).deletion_requested_by_id == admin.id

    login_as(alice)
    page = client.get("/account/delete")
    assert "seul un administrateur peut l'annuler" in page.text
    refused = client.post("/account/delete/cancel", data={"csrf_token": token(page.text)})
    assert refused.status_code == 403
    assert db.session.get(User, alice.id).deletion_due_at is not None

    login_as(admin)
    page = client.get("/admin/account-deletions")
    assert "Alice Martin" in page.text
    client.post(f"/admin/people/{alice.id}/delete/cancel", data={"csrf_token": token(page.text)})
    assert db.session.get(User, alice.id).deletion_due_at is None


@pytest.fixture
def app_config(app_config):
    return {**app_config, "FEDERATION_MODE": "open"}


def test_delete_person_goes_to_instances_that_received_the_content(person):
    from maillage.federation.actors.models import RemoteActor
    from maillage.federation.groups.models import GroupFollower
    from maillage.federation.transport.models import Delivery

    alice, _bob, community, _post = person
    follower = RemoteActor(
        ap_id="https://lemmy.example/u/zoe",
        type="Person",
        preferred_username="zoe",
        domain="lemmy.example",
        inbox="https://lemmy.example/u/zoe/inbox",
        shared_inbox="https://lemmy.example/inbox",
    )
    db.session.add(follower)
    db.session.flush()
    db.session.add(
        GroupFollower(community_id=community.id, remote_actor_id=follower.id, state="accepted")
    )
    db.session.commit()
    old_id = alice.ap_id
    user = _execute(alice, "keep_content")
    assert user.deleted_at is not None
    deliveries = db.session.scalars(
        select(Delivery).where(Delivery.inbox_url == "https://lemmy.example/inbox")
    ).all()
    deletes = [row.payload for row in deliveries if row.payload["type"] == "Delete"]
    assert "alice" not in user.ap_id
    assert deletes
    assert deletes[0]["actor"] == old_id
    assert deletes[0]["object"] == old_id
    # The Delete is signed with the kept key, named after the old id, until it has left.
    from maillage.federation.actors.operations import signing_key

    key_id, private_pem = signing_key(old_id)
    assert key_id == f"{old_id}#main-key"
    assert "PRIVATE KEY" in private_pem


def test_inactive_accounts_are_warned_then_scheduled(app, create_user, outbox_mail):
    from maillage.platform.account_deletion import inactivity, operations

    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    sleeper = create_user("sleeper")
    returning = create_user("returning")
    create_user("chief", is_admin=True).last_seen_at = now - dt.timedelta(days=2000)
    recent = create_user("recent")
    sleeper.last_seen_at = now - dt.timedelta(days=1080)
    returning.last_seen_at = now - dt.timedelta(days=1080)
    recent.last_seen_at = now - dt.timedelta(days=10)
    db.session.commit()

    assert inactivity.run(now) == (2, 0)
    assert "inactif" in outbox_mail()[-1]["Subject"]
    assert inactivity.run(now + dt.timedelta(days=1)) == (0, 0)  # warned once

    returning.last_seen_at = now + dt.timedelta(days=2)
    db.session.commit()
    later = now + dt.timedelta(days=31)
    assert inactivity.run(later) == (0, 1)
    db.session.expire_all()
    assert db.session.get(User, sleeper.id).deletion_due_at is not None
    assert db.session.get(User, sleeper.id).deletion_erasure == "keep_content"
    assert db.session.get(User, returning.id).inactivity_warned_at is None
    assert db.session.get(User, returning.id).deletion_due_at is None

    # Coming back during the delay drops a deletion scheduled for inactivity.
    sleeper = db.session.get(User, sleeper.id)
    sleeper.last_seen_at = later + dt.timedelta(days=1)
    db.session.commit()
    assert operations.execute(sleeper.id, later + dt.timedelta(days=8)) is False
    sleeper = db.session.get(User, sleeper.id)
    assert sleeper.deleted_at is None
    assert sleeper.deletion_due_at is None


def test_retention_zero_switches_inactivity_off(app, create_user):
    from maillage.platform.account_deletion import inactivity

    app.config["INACTIVE_ACCOUNT_RETENTION_DAYS"] = 0
    sleeper = create_user("sleeper")
    sleeper.last_seen_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    db.session.commit()
    assert inactivity.run() == (0, 0)


def test_the_key_goes_once_the_delete_has_left(person):
    from maillage.federation.actors.models import ActorKey
    from maillage.federation.actors.operations import ensure_key
    from maillage.federation.transport.models import Delivery
    from maillage.platform.account_deletion.operations import purge_delivered_keys
    from maillage.platform.celery_app import BEAT_SCHEDULE

    assert "maillage.account_deletion.execute_due" in BEAT_SCHEDULE
    assert "maillage.account_deletion.inactive_accounts" in BEAT_SCHEDULE
    alice, *_ = person
    ensure_key(alice)
    old_id = alice.ap_id
    db.session.add(
        Delivery(
            dedupe_key="d2-test",
            activity_id=f"{old_id}#delete",
            payload={"type": "Delete"},
            inbox_url="https://lemmy.example/inbox",
            host="lemmy.example",
            signer_ap_id=old_id,
            status="pending",
        )
    )
    db.session.commit()
    user = _execute(alice, "keep_content")
    assert user.deleted_at is not None
    assert purge_delivered_keys() == 0  # the Delete still needs the key
    delivery = db.session.scalar(select(Delivery).filter_by(dedupe_key="d2-test"))
    delivery.status = "done"
    db.session.commit()
    assert purge_delivered_keys() == 1
    assert db.session.scalar(select(ActorKey).filter_by(user_id=user.id)) is None
