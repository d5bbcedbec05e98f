"""Platform administrators and secret communities: no content without an access grant.

An administrator sees that a secret community exists (admin listing: name, owners, size) but gets
a 404 on its content — pages, posts, every module, downloads, search, API, ICS — until they hold
an access grant: reasoned, justified, time-limited, written to the audit log, told to the
community's owners and facilitators (bell, e-mail, banner), ended early by them or by time.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select

from maillage.auth.tokens.operations import create_token
from maillage.communities.discussions.operations import create_topic
from maillage.communities.documents.operations import upload_document
from maillage.communities.documents.uploads import Upload
from maillage.communities.events.operations import EventFields, create_event
from maillage.communities.kanban.operations import TaskFields, create_task
from maillage.communities.moderation.operations import report
from maillage.communities.oversight.models import AccessGrant
from maillage.communities.oversight.operations import end_access, request_access
from maillage.communities.permissions import can, forget_grants
from maillage.communities.polls.operations import PollSpec, QuestionSpec, create_poll
from maillage.communities.posts.models import Post
from maillage.communities.wiki.operations import create_page
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.notifications.models import Notification

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
BANNER = "Un administrateur de la plateforme a un accès exceptionnel à cet espace"
JUSTIFICATION = "Réquisition du parquet n° 2026/117 du 4 décembre"


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


@pytest.fixture
def world(app, create_user, create_community, create_post):
    """A secret community with content in every module, a private one with a post, an admin."""
    app.config["NOTIFICATIONS_DEFAULT_MODE"] = "immediate"
    owner, facilitator = create_user("olga"), create_user("fanny")
    member, admin = create_user("marc"), create_user("alix", is_admin=True)
    secret = create_community(
        "Cellule de crise",
        visibility="secret",
        join_policy="invite",
        owner=owner,
        members=[(facilitator, "facilitator"), member],
    )
    private = create_community("Entre pairs", slug="pairs", visibility="private", owner=owner)
    post = create_post(secret, owner, "Plan de continuité confidentiel")
    private_post = create_post(private, owner, "Compte rendu réservé")
    start = utcnow() + dt.timedelta(days=3)
    items = {
        "topic": create_topic(secret, owner, "Sujet confidentiel", "Texte"),
        "event": create_event(
            secret, owner, EventFields("Réunion de crise", start, start + dt.timedelta(hours=1))
        ),
        "document": upload_document(
            secret, owner, Upload("annuaire.txt", io.BytesIO(b"Numeros d'astreinte"))
        ),
        "page": create_page(secret, owner, "Procédure interne", "Étapes"),
        "poll": create_poll(
            secret, owner, PollSpec("Sondage interne", [QuestionSpec("Quand ?", ["Lun", "Mar"])])
        ),
        "task": create_task(secret, owner, TaskFields("Tâche interne")),
    }
    db.session.commit()
    return {
        "owner": owner,
        "facilitator": facilitator,
        "member": member,
        "admin": admin,
        "secret": secret,
        "private": private,
        "post": post,
        "private_post": private_post,
        **items,
    }


def content_urls(w) -> list[str]:
    slug = w["secret"].slug
    return [
        f"/c/{slug}",
        f"/post/{w['post'].id}",
        f"/c/{slug}/members",
        f"/c/{slug}/discussions",
        f"/c/{slug}/discussions/{w['topic'].id}",
        f"/c/{slug}/events",
        f"/c/{slug}/events/{w['event'].id}",
        f"/c/{slug}/events.ics",
        f"/c/{slug}/documents",
        f"/c/{slug}/documents/{w['document'].id}/versions/1/telecharger",
        f"/c/{slug}/wiki",
        f"/c/{slug}/wiki/{w['page'].slug}",
        f"/c/{slug}/polls/{w['poll'].id}",
        f"/c/{slug}/tasks",
        f"/c/{slug}/tasks/{w['task'].id}",
    ]


def status(client, url: str) -> int:
    response = client.get(url)
    response.close()  # downloads stream a file
    return response.status_code


def found_titles(client, q: str) -> list[str]:
    html = client.get("/search", query_string={"q": q}).get_data(as_text=True)
    titles = re.findall(
        r'class="card search-result[^"]*">.*?<h2><a href="[^"]*">(.*?)</a>', html, re.S
    )
    return [re.sub(r"</?mark>", "", title).strip() for title in titles]


def grant(w, hours=24, now=None, who="admin"):
    given = request_access(w[who], w["secret"], "legal_request", JUSTIFICATION, hours, now=now)
    db.session.commit()
    forget_grants(w[who])
    return given


def test_without_a_grant_an_admin_gets_404_on_every_content_page(login_as, world):
    client = login_as(world["admin"])
    answers = {url: status(client, url) for url in content_urls(world)}
    assert answers == {url: 404 for url in answers}


def test_without_a_grant_search_and_api_show_nothing_of_it(client, login_as, world):
    admin = world["admin"]
    _token, secret_token = create_token(admin, "Supervision")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret_token}"}
    assert (
        client.get(f"/api/v1/communities/{world['secret'].slug}", headers=headers).status_code
        == 404
    )
    assert client.get(f"/api/v1/posts/{world['post'].id}", headers=headers).status_code == 404
    assert (
        client.get(f"/api/v1/communities/{world['secret'].slug}/posts", headers=headers).status_code
        == 404
    )
    listed = client.get("/api/v1/communities", headers=headers).get_data(as_text=True)
    assert "Cellule de crise" not in listed
    login_as(admin)
    assert found_titles(client, "confidentiel") == []
    assert "Cellule de crise" not in client.get("/communities").get_data(as_text=True)


def test_private_content_needs_a_grant_too(login_as, world):
    client = login_as(world["admin"])
    assert client.get("/c/pairs").status_code == 200  # listed, as for everyone
    assert "Compte rendu réservé" not in client.get("/c/pairs").get_data(as_text=True)
    assert client.get(f"/post/{world['private_post'].id}").status_code == 404


def test_with_a_grant_the_admin_reads_everything_and_finds_it(client, login_as, world):
    grant(world)
    client = login_as(world["admin"])
    answers = {url: status(client, url) for url in content_urls(world)}
    assert answers == {url: 200 for url in answers}
    assert "Plan de continuité" in client.get(f"/c/{world['secret'].slug}").get_data(as_text=True)
    assert "Plan de continuité confidentiel" in found_titles(client, "confidentiel")
    # a grant on the secret community opens that one only
    assert client.get(f"/post/{world['private_post'].id}").status_code == 404


def test_a_grant_cannot_be_turned_into_a_membership_by_inviting_oneself(world):
    """The attack of the security review: invite oneself under a grant, end it, accept."""
    from maillage.communities.community.models import Invitation
    from maillage.communities.community.operations import invite, membership_of

    admin, secret = world["admin"], world["secret"]
    given = grant(world, hours=1)
    with pytest.raises(NotAllowed, match="pas le droit"):
        invite(secret, admin, admin.email, role="facilitator")
    db.session.rollback()
    end_access(admin, given)
    db.session.commit()
    forget_grants(admin)
    # No invitation was written: nothing for the administrator to accept afterwards.
    assert not db.session.scalar(select(func.count(Invitation.id)))
    assert membership_of(secret, admin) is None
    assert not can(admin, "read", secret)


@pytest.mark.parametrize(
    "action",
    [
        "post",
        "comment",
        "react",
        "manage",
        "invite",
        "approve_requests",
        "manage_members",
        "transfer_ownership",
        "ban",
        "mute",
        "moderate",
        "animate",
        "administer",
        "view_audit",
        "join",
        "request_join",
    ],
)
def test_a_grant_is_read_only(world, action):
    grant(world)
    admin = world["admin"]
    assert can(admin, "read", world["secret"])
    assert can(admin, "view", world["post"])
    assert not can(admin, action, world["secret"])
    for other in ("edit", "hide", "lock", "delete", "comment", "react"):
        assert not can(admin, other, world["post"])
    for item, writes in (("topic", "reply"), ("document", "edit"), ("page", "edit")):
        assert can(admin, "view", world[item])
        assert not can(admin, writes, world[item])
    assert can(admin, "see_results", world["poll"])
    assert not can(admin, "vote", world["poll"])


def test_under_a_grant_the_settings_stay_closed_to_the_admin(login_as, world):
    grant(world)
    client = login_as(world["admin"])
    url = f"/c/{world['secret'].slug}/settings"
    assert client.get(url).status_code == 403
    answer = client.post(
        url,
        data={
            "csrf_token": csrf(client),
            "name": "Cellule de crise",
            "description": "",
            "visibility": "public",
            "join_policy": "open",
        },
    )
    assert answer.status_code == 403
    db.session.expire_all()
    assert db.session.get(type(world["secret"]), world["secret"].id).visibility == "secret"


def test_the_admin_listing_shows_secret_communities_without_content(login_as, world):
    client = login_as(world["admin"])
    listing = client.get("/admin/communities")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "Cellule de crise" in html
    assert "Olga" in html
    assert "Entre pairs" in html
    assert "Plan de continuité" not in html
    page = client.get(f"/admin/communities/{world['secret'].id}").get_data(as_text=True)
    assert "Demander un accès exceptionnel" in page
    assert "Olga" in page
    assert "Plan de continuité" not in page
    assert "Marc" not in page
    assert "/admin/communities" in client.get("/admin").get_data(as_text=True)


def test_non_admins_neither_list_nor_request(client, login_as, world):
    secret = world["secret"]
    for who in ("owner", "member"):
        login_as(world[who])
        assert client.get("/admin/communities").status_code == 403
        assert client.get(f"/admin/communities/{secret.id}").status_code == 403
        answer = client.post(
            f"/admin/communities/{secret.id}/acces",
            data={
                "csrf_token": csrf(client),
                "reason": "other",
                "justification": JUSTIFICATION,
                "hours": "1",
                "confirmed": "1",
            },
        )
        assert answer.status_code == 403
    with pytest.raises(NotAllowed):
        request_access(world["owner"], secret, "other", JUSTIFICATION, 1)
    db.session.rollback()
    assert db.session.scalar(select(func.count(AccessGrant.id))) == 0


def ask(client, world, **fields):
    data = {
        "csrf_token": csrf(client),
        "reason": "moderation",
        "justification": JUSTIFICATION,
        "hours": "24",
        **fields,
    }
    return client.post(f"/admin/communities/{world['secret'].id}/acces", data=data)


def test_asking_confirms_then_audits_notifies_and_shows_a_banner(
    client, login_as, world, outbox_mail
):
    login_as(world["admin"])
    asked = ask(client, world)
    assert asked.status_code == 200
    assert "journal d&#39;audit" in asked.get_data(as_text=True)  # the confirmation page
    assert db.session.scalar(select(func.count(AccessGrant.id))) == 0
    done = ask(client, world, confirmed="1")
    assert done.status_code == 302
    given = db.session.scalars(select(AccessGrant)).one()
    assert (given.admin_id, given.reason, given.justification) == (
        world["admin"].id,
        "moderation",
        JUSTIFICATION,
    )
    assert dt.timedelta(hours=23) < given.expires_at - utcnow() <= dt.timedelta(hours=24)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "oversight.grant")
    ).one()
    assert entry.community_id == world["secret"].id
    assert entry.data["justification"] == JUSTIFICATION
    told = set(
        db.session.scalars(
            select(Notification.recipient_id).where(Notification.reason == "access_grant")
        )
    )
    assert told == {world["owner"].id, world["facilitator"].id}
    assert {message["To"] for message in outbox_mail()} >= {
        world["owner"].email,
        world["facilitator"].email,
    }
    login_as(world["owner"])
    html = client.get(f"/c/{world['secret'].slug}").get_data(as_text=True)
    assert BANNER in html
    assert "Modération" in html
    history = client.get(f"/c/{world['secret'].slug}/acces-administrateur").get_data(as_text=True)
    assert JUSTIFICATION in history
    assert "Alix" in history
    login_as(world["member"])
    assert BANNER not in client.get(f"/c/{world['secret'].slug}").get_data(as_text=True)
    assert client.get(f"/c/{world['secret'].slug}/acces-administrateur").status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"justification": ""}, "Justifiez l'accès en quelques mots."),
        ({"justification": "parce que"}, "entre 10 et 2000 caractères"),
        ({"reason": "curiosite"}, 'aria-invalid="true"'),
        ({"hours": "500"}, 'aria-invalid="true"'),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(login_as, world, fields, message):
    client = login_as(world["admin"])
    answer = ask(client, world, confirmed="1", **fields)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AccessGrant.id))) == 0
    assert client.get(f"/c/{world['secret'].slug}").status_code == 404


def test_the_operation_checks_reason_justification_and_duration(world):
    admin, secret = world["admin"], world["secret"]
    bad = [
        ("curiosity", JUSTIFICATION, 1, "motif"),
        ("moderation", "   ", 1, "Justifiez"),
        ("moderation", JUSTIFICATION, 200, "durée"),
        ("moderation", JUSTIFICATION, "deux", "durée"),
    ]
    for reason, justification, hours, words in bad:
        with pytest.raises(OperationError, match=words):
            request_access(admin, secret, reason, justification, hours)
    grant(world)
    with pytest.raises(OperationError, match="déjà un accès en cours"):
        request_access(admin, secret, "moderation", JUSTIFICATION, 1)
    public = world["post"].community
    assert public.visibility == "secret"


def test_a_grant_stops_working_by_time(world):
    admin, secret = world["admin"], world["secret"]
    grant(world, hours=1, now=utcnow() - dt.timedelta(minutes=61))  # ended a minute ago
    assert not can(admin, "read", secret)
    assert not can(admin, "view", world["post"])
    later = grant(world, hours=1)
    assert can(admin, "read", secret)
    assert can(admin, "view", world["post"])
    assert later.active()
    assert not later.active(utcnow() + dt.timedelta(minutes=61))


def test_owners_end_a_grant_early_after_confirming(client, login_as, world):
    given = grant(world)
    login_as(world["owner"])
    url = f"/c/{world['secret'].slug}/acces-administrateur/{given.id}/fin"
    assert client.post(url, data={"csrf_token": csrf(client)}).status_code == 200
    assert db.session.get(AccessGrant, given.id).revoked_at is None
    done = client.post(url, data={"csrf_token": csrf(client), "confirmed": "1"})
    assert done.status_code == 302
    ended = db.session.get(AccessGrant, given.id)
    assert ended.revoked_at is not None
    assert ended.revoked_by_id == world["owner"].id
    assert db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "oversight.end")
    )
    assert login_as(world["admin"]).get(f"/c/{world['secret'].slug}").status_code == 404
    assert BANNER not in login_as(world["owner"]).get(f"/c/{world['secret'].slug}").get_data(
        as_text=True
    )
    with pytest.raises(OperationError, match="déjà terminé"):
        end_access(world["owner"], ended)
    login_as(world["member"])
    assert client.post(url, data={"csrf_token": csrf(client), "confirmed": "1"}).status_code == 404


def test_grants_are_read_once_per_request_not_per_item(world, create_post, count_queries):
    admin, secret = world["admin"], world["secret"]
    grant(world)
    posts = [create_post(secret, world["owner"], f"Note {n}") for n in range(20)]
    forget_grants(admin)
    with count_queries() as queries:
        assert all(can(admin, "view", post) for post in posts)
    assert len([q for q in queries if "access_grants" in q]) == 1


def test_the_platform_queue_shows_only_that_a_secret_report_exists(client, login_as, world):
    report(world["member"], world["post"], "confidential", "Numéro de portable publié")
    db.session.commit()
    client = login_as(world["admin"])
    html = client.get("/admin/moderation").get_data(as_text=True)
    assert "Cellule de crise" in html
    assert "Plan de continuité" not in html
    assert "Numéro de portable publié" not in html
    assert "accès exceptionnel" in html
    assert f"/c/{world['secret'].slug}/moderation" not in html  # no link to a page it cannot open
    grant(world)
    html = client.get("/admin/moderation").get_data(as_text=True)
    assert "Plan de continuité" in html
    # read-only: no decision offered, the community's moderators decide
    assert "lecture seule" in html
    assert f"/c/{world['secret'].slug}/moderation" not in html
    assert client.get(f"/c/{world['secret'].slug}/moderation").status_code == 403


def test_a_grant_does_not_make_the_community_federate(client, world):
    grant(world)
    actor = client.get(
        f"/c/{world['secret'].slug}", headers={"Accept": "application/activity+json"}
    )
    assert actor.status_code == 404
    assert db.session.get(Post, world["post"].id).community.visibility == "secret"
