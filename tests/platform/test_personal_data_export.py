"""The personal data export: a person with content in many modules asks for their archive from
*Mes données*, the outbox builds it, they are told (bell and e-mail) and download it; the ZIP
holds their rows and files, nothing of anyone else.  Plus: a second request while one is on its
way is refused, links expire, nobody else can download, exporters read by chunks."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import insert, select

from maillage.communities.analytics.models import ActivityEvent
from maillage.communities.animation.models import Announcement, ScheduledPost
from maillage.communities.community.models import Community, JoinRequest, Membership
from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
from maillage.communities.discussions.operations import add_reply, create_topic
from maillage.communities.documents.models import Document, DocumentVersion
from maillage.communities.documents.operations import upload_document
from maillage.communities.documents.uploads import Upload
from maillage.communities.events.models import (
    CalendarFeedKey,
    DatePoll,
    DatePollAnswer,
    DatePollSlot,
    Event,
    Rsvp,
)
from maillage.communities.events.operations import EventFields, create_event, respond
from maillage.communities.kanban.models import Task
from maillage.communities.moderation.models import Report, Sanction
from maillage.communities.polls.models import Poll, PollParticipation
from maillage.communities.polls.operations import PollSpec, QuestionSpec, create_poll, vote
from maillage.communities.posts.models import Comment, Post
from maillage.communities.posts.operations import add_comment
from maillage.communities.posts.personal_data import export_comments
from maillage.communities.training import operations as training
from maillage.communities.training.models import LessonCompletion
from maillage.communities.training.progress import mark_lesson_done
from maillage.communities.wiki.models import WikiRevision
from maillage.communities.wiki.operations import create_page
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.notifications.models import Notification
from maillage.platform.outbox.operations import process_pending
from maillage.platform.personal_data import operations
from maillage.platform.personal_data.models import ExportRequest, ExportStatus
from maillage.platform.personal_data.queries import export_in_progress
from maillage.platform.personal_data.registry import HOLDERS, Erasure, unregistered_models
from maillage.platform.storage import get_storage

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
FILE_BYTES = "Compte rendu d'Alice : les seuils à connaître.\n".encode()


@pytest.fixture
def app_config(app_config):
    """The outbox is processed when the test says so (``process_pending``), as a worker would."""
    return {**app_config, "CELERY_ALWAYS_EAGER": False, "CELERY_BROKER_URL": "memory://"}


def _ask(client):
    page = client.get("/account/data")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    return client.post("/account/data", data={"csrf_token": token})


def _lesson(trainer):
    path = training.create_path(trainer, "Animer un réseau", "", False)
    course = training.create_course(path, trainer, "Les bases", "")
    module = training.create_module(course, trainer, "Accueillir")
    lesson = training.create_lesson(module, trainer, training.LessonFields("Leçon 1", "Texte"))
    training.set_published(course, trainer, True)
    training.set_published(path, trainer, True)
    return lesson


@pytest.fixture
def alice(create_user, create_community, create_post):
    """Alice has content in posts, discussions, events, documents, polls, wiki and training;
    Bob, in the same community, too."""
    alice = create_user("alice", email="alice@example.gouv.fr", display_name="Alice Martin")
    bob = create_user("bob", email="bob@example.gouv.fr", display_name="Bob Durand")
    bob.is_trainer = True
    community = create_community("Réseau des archivistes", owner=bob, members=[alice])
    post = create_post(community, alice, "Publication d'Alice", "Texte **d'Alice**")
    bobs_post = create_post(community, bob, "Publication de Bob", "Texte de Bob")
    add_comment(bobs_post, alice, "Commentaire d'Alice")
    add_comment(post, bob, "Commentaire de Bob")
    topic = create_topic(community, alice, "Sujet d'Alice", "Question d'Alice")
    add_reply(topic, bob, "Réponse de Bob")
    add_reply(topic, alice, "Réponse d'Alice")
    starts = utcnow() + dt.timedelta(days=3)
    event = create_event(
        community, bob, EventFields("Réunion de rentrée", starts, starts + dt.timedelta(hours=2))
    )
    respond(event, alice, "yes")
    upload_document(community, alice, Upload("compte-rendu.txt", io.BytesIO(FILE_BYTES)))
    poll = create_poll(
        community, bob, PollSpec("Quel jour ?", [QuestionSpec("Jour", ["Lundi", "Mardi"])])
    )
    monday, tuesday = poll.questions[0].options
    vote(poll, alice, [monday.id])
    vote(poll, bob, [tuesday.id])
    create_page(community, alice, "Page d'Alice", "Contenu du wiki")
    mark_lesson_done(_lesson(bob), alice)
    db.session.commit()
    return alice


def _link(person) -> str:
    """The download link of the bell's notice."""
    return db.session.scalar(
        select(Notification.url).where(
            Notification.recipient_id == person.id, Notification.object_type == "ExportRequest"
        )
    )


def _archive(client, alice) -> zipfile.ZipFile:
    response = client.get(_link(alice))
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    data = response.data
    response.close()
    return zipfile.ZipFile(io.BytesIO(data))


def _section(archive: zipfile.ZipFile, name: str) -> list:
    return json.loads(archive.read(f"{name}.json"))


def test_a_person_downloads_every_piece_of_their_data(client, login_as, alice, outbox_mail):
    login_as(alice)
    assert 'href="/account/data"' in client.get("/account").get_data(as_text=True)
    response = _ask(client)
    assert response.status_code == 302
    assert export_in_progress(alice)
    assert process_pending() >= 1
    assert not export_in_progress(alice)
    assert 'href="/notifications"' in client.get("/account/data").get_data(as_text=True)

    archive = _archive(client, alice)
    names = set(archive.namelist())
    assert {"README.txt", "profile.json"} <= names
    assert {f"{holder.section}.json" for holder in HOLDERS.values()} <= names
    assert "Vos données personnelles" in archive.read("README.txt").decode()
    profile = json.loads(archive.read("profile.json"))
    assert profile["username"] == "alice"
    assert profile["email"] == "alice@example.gouv.fr"
    assert "password_hash" not in profile
    assert "totp_secret" not in profile

    posts = _section(archive, "posts")
    assert [p["title"] for p in posts] == ["Publication d'Alice"]
    assert posts[0]["body_markdown"] == "Texte **d'Alice**"
    assert posts[0]["url"].startswith("https://maillage.test/")
    assert posts[0]["community_url"].endswith(posts[0]["community"])
    assert dt.datetime.fromisoformat(posts[0]["created_at"])
    assert [c["body_markdown"] for c in _section(archive, "comments")] == ["Commentaire d'Alice"]
    assert [t["title"] for t in _section(archive, "discussion_topics")] == ["Sujet d'Alice"]
    replies = _section(archive, "discussion_replies")
    assert [r["body_markdown"] for r in replies] == ["Réponse d'Alice"]
    answers = _section(archive, "event_answers")
    assert [(a["event_title"], a["answer"]) for a in answers] == [("Réunion de rentrée", "yes")]
    assert _section(archive, "events") == []  # Bob organised it
    votes = _section(archive, "poll_votes")
    assert [v["choices"] for v in votes] == [[{"question": "Jour", "option": "Lundi"}]]
    assert [p["title"] for p in _section(archive, "wiki_pages")] == ["Page d'Alice"]
    assert [r["body_markdown"] for r in _section(archive, "wiki_revisions")] == ["Contenu du wiki"]
    assert [d["lesson_title"] for d in _section(archive, "training_lessons_done")] == ["Leçon 1"]
    assert len(_section(archive, "memberships")) == 1

    versions = _section(archive, "document_versions")
    assert [v["file_name"] for v in versions] == ["compte-rendu.txt"]
    assert archive.read(versions[0]["archive_file"]) == FILE_BYTES

    everything = b"".join(archive.read(name) for name in names).decode()
    assert "bob@example.gouv.fr" not in everything
    contributions = "".join(
        archive.read(f"{name}.json").decode()
        for name in ("posts", "comments", "discussion_topics", "discussion_replies", "poll_votes")
    )
    assert "Publication de Bob" not in archive.read("posts.json").decode()
    for other in ("Commentaire de Bob", "Réponse de Bob", "Mardi"):
        assert other not in contributions

    mails = [m for m in outbox_mail() if m["To"] == "alice@example.gouv.fr"]
    assert any("/account/data/archive/" in m.get_content() for m in mails)


def test_asking_twice_while_one_is_on_its_way_is_refused(client, login_as, alice):
    login_as(alice)
    _ask(client)
    second = _ask(client)
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "déjà en préparation" in page
    assert db.session.scalar(select(db.func.count()).select_from(ExportRequest)) == 1
    process_pending()
    _ask(client)  # once it is ready, a new one may be asked
    assert db.session.scalar(select(db.func.count()).select_from(ExportRequest)) == 2


def test_the_link_expires_and_the_archive_is_removed(app, client, login_as, alice):
    login_as(alice)
    _ask(client)
    process_pending()
    export = db.session.scalar(select(ExportRequest))
    assert export.expires_at - export.ready_at == dt.timedelta(days=7)
    key = export.archive_key
    assert get_storage().exists(key)
    url = _link(alice)

    assert operations.expire_exports(now=export.expires_at - dt.timedelta(minutes=1)) == 0
    assert operations.expire_exports(now=export.expires_at) == 1
    db.session.commit()
    assert not get_storage().exists(key)
    assert db.session.get(ExportRequest, export.id).status == ExportStatus.EXPIRED
    response = client.get(url)
    assert response.status_code == 404
    assert "expiré" in response.get_data(as_text=True)


def _new_files(before: set[str]) -> set[str]:
    return set(get_storage().keys()) - before


def test_running_the_build_twice_keeps_one_archive_and_the_first_link(client, login_as, alice):
    login_as(alice)
    _ask(client)
    export = db.session.scalar(select(ExportRequest))
    assert export.status == ExportStatus.PENDING
    before = set(get_storage().keys())
    assert operations.build_export(export.id)
    url = _link(alice)
    assert not operations.build_export(export.id)  # the outbox item run again: nothing to do
    assert len(_new_files(before)) == 1
    assert _link(alice) == url
    _archive(client, alice)


def test_a_build_in_progress_is_not_built_twice_and_a_dead_one_is_taken_over(
    client, login_as, alice
):
    from maillage.platform.outbox.models import OutboxItem

    login_as(alice)
    _ask(client)
    export_id = db.session.scalar(select(ExportRequest.id))
    before = set(get_storage().keys())
    started = utcnow()
    first_lease = operations._claim(export_id, started)  # a first worker, still building
    # Its outbox lease (5 minutes) ended: the item runs again, and waits instead of building.
    with pytest.raises(operations.ExportBeingBuilt):
        operations.build_export(export_id, now=started + dt.timedelta(minutes=6))
    process_pending()
    item = db.session.scalar(select(OutboxItem).where(OutboxItem.kind == operations.KIND))
    assert (item.status, item.attempts) == ("pending", 1)
    assert db.session.get(ExportRequest, export_id).token_hash is None
    assert not _new_files(before)
    assert export_in_progress(alice)

    # The first worker died: once its build lease ended, the retried item builds the export.
    assert not export_in_progress(alice, now=started + operations.BUILD_LEASE)
    assert operations.build_export(export_id, now=started + operations.BUILD_LEASE)
    url = _link(alice)
    built = _new_files(before)
    assert len(built) == 1
    # The first worker comes back late: it may not mark the export, its archive is dropped.
    key, size = operations._store_archive(db.session.get(ExportRequest, export_id).user)
    assert not operations._finish(export_id, first_lease, key, size, utcnow())
    assert _new_files(before) == built
    assert not get_storage().exists(key)
    assert _link(alice) == url
    _archive(client, alice)


def test_an_archive_finished_after_the_account_deletion_is_dropped(client, login_as, alice):
    login_as(alice)
    _ask(client)
    export_id = db.session.scalar(select(ExportRequest.id))
    before = set(get_storage().keys())
    lease = operations._claim(export_id, utcnow())
    key, size = operations._store_archive(alice)
    # Meanwhile (its build lease over), the account deletion erased the export.
    db.session.rollback()
    HOLDERS[ExportRequest].erase(alice, Erasure.KEEP_CONTENT)
    db.session.commit()
    assert not get_storage().exists(key)
    assert not _new_files(before)
    key, size = operations._store_archive(alice)
    assert not operations._finish(export_id, lease, key, size, utcnow())
    assert not _new_files(before)


def test_account_deletion_waits_for_the_export_being_built(client, login_as, alice):
    from maillage.platform.account_deletion import operations as deletion

    deletion.request_deletion(alice, requested_by=alice)
    db.session.commit()
    login_as(alice)
    _ask(client)  # during the cooling-off period
    export_id = db.session.scalar(select(ExportRequest.id))
    due = alice.deletion_due_at + dt.timedelta(minutes=1)
    assert deletion.execute(alice.id, due) is False  # the export is pending: wait
    assert db.session.get(ExportRequest, export_id) is not None
    assert operations.build_export(export_id)
    assert deletion.execute(alice.id, due) is True
    assert db.session.get(ExportRequest, export_id) is None


def test_nobody_else_can_download(client, login_as, alice, create_user):
    login_as(alice)
    _ask(client)
    process_pending()
    url = _link(alice)
    login_as(create_user("mallory"))
    assert client.get(url).status_code == 404
    login_as(None)
    assert "/login" in client.get(url).headers["Location"]
    login_as(alice)
    assert client.get(url + "x").status_code == 404


def test_deleting_the_account_removes_the_archives(client, login_as, alice):
    login_as(alice)
    _ask(client)
    process_pending()
    key = db.session.scalar(select(ExportRequest.archive_key))
    HOLDERS[ExportRequest].erase(alice, Erasure.KEEP_CONTENT)
    db.session.commit()
    assert db.session.scalar(select(ExportRequest)) is None
    assert not get_storage().exists(key)


def test_exporters_read_by_chunks(app, create_user, create_community, create_post, count_queries):
    author = create_user()
    post = create_post(create_community(owner=author), author)
    now = utcnow()
    rows = [
        {
            "post_id": post.id,
            "author_id": author.id,
            "body_source": f"n{i}",
            "body_html": "",
            "created_at": now,
        }
        for i in range(2500)
    ]
    db.session.execute(insert(Comment), rows)
    db.session.commit()
    db.session.refresh(author)
    with count_queries() as queries:
        exported = export_comments(author)
    assert len(exported) == 2500
    assert len(queries) == 3  # 1,000 rows a query


def test_every_model_with_personal_data_is_registered(app):
    assert unregistered_models() == []


def test_each_model_has_its_own_file_in_the_archive(app):
    sections = [holder.section for holder in HOLDERS.values()]
    assert sorted(section for section in sections if sections.count(section) > 1) == []


# -- erasure by the communities' holders (account deletion calls them) -------------------------


def _erase(person, erasure: Erasure) -> None:
    for holder in list(HOLDERS.values()):
        if holder.model.__module__.startswith("maillage.communities."):
            holder.erase(person, erasure)
    db.session.commit()


def _one(model, *criteria):
    return db.session.scalar(select(model).where(*criteria))


def test_keeping_contributions_erases_private_traces(alice):
    community = _one(Community, Community.name == "Réseau des archivistes")
    members_before = community.member_count
    _erase(alice, Erasure.KEEP_CONTENT)

    assert _one(Post, Post.author_id == alice.id) is not None
    assert _one(DiscussionTopic, DiscussionTopic.author_id == alice.id) is not None
    assert _one(Comment, Comment.author_id == alice.id) is not None
    assert _one(DiscussionReply, DiscussionReply.author_id == alice.id) is not None
    assert _one(Document, Document.uploader_id == alice.id) is not None
    assert _one(WikiRevision, WikiRevision.author_id == alice.id) is not None
    for model in (Membership, Rsvp, PollParticipation, LessonCompletion):
        assert _one(model, model.user_id == alice.id) is None, model
    db.session.refresh(community)
    assert community.member_count == members_before - 1
    assert _one(Event, Event.title == "Réunion de rentrée").going_count == 0
    poll = _one(Poll, Poll.title == "Quel jour ?")
    assert poll.voter_count == 1
    assert [o.vote_count for o in poll.questions[0].options] == [0, 1]  # Lundi, Mardi


def test_deleting_contributions_keeps_the_communities_readable(alice):
    community = _one(Community, Community.name == "Réseau des archivistes")
    posts_before = community.post_count
    key = db.session.scalar(
        select(DocumentVersion.storage_key).where(DocumentVersion.uploader_id == alice.id)
    )
    _erase(alice, Erasure.DELETE_CONTENT)

    assert _one(Post, Post.author_id == alice.id) is None
    assert _one(Comment, Comment.author_id == alice.id) is None
    db.session.refresh(community)
    assert community.post_count == posts_before - 1
    assert _one(Post, Post.title == "Publication de Bob").comment_count == 0
    # Bob answered her topic: the conversation stays, her opening message is erased.
    topic = _one(DiscussionTopic, DiscussionTopic.author_id == alice.id)
    assert topic.body_source == ""
    assert topic.reply_count == 1
    assert _one(DiscussionReply, DiscussionReply.author_id == alice.id) is None
    assert _one(Document, Document.uploader_id == alice.id) is None
    assert not get_storage().exists(key)
    # The wiki's history stays, signed by the anonymised account.
    assert _one(WikiRevision, WikiRevision.author_id == alice.id) is not None


def test_the_archive_costs_the_same_queries_whatever_its_size(alice, create_post, count_queries):
    from maillage.platform.personal_data.archive import write_archive

    def queries_for_archive() -> int:
        db.session.expire_all()
        with count_queries() as queries, io.BytesIO() as out:
            write_archive(db.session.get(type(alice), alice.id), out)
        return len(queries)

    before = queries_for_archive()
    community = _one(Community, Community.name == "Réseau des archivistes")
    for number in range(20):
        post = create_post(community, alice, f"Encore {number}")
        add_comment(post, alice, "Et un commentaire")
    db.session.commit()
    assert queries_for_archive() == before


def test_an_archive_that_cannot_be_built_fails_and_may_be_asked_again(
    app, client, login_as, create_user, tmp_path
):
    person = create_user("paul")
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("the storage cannot live here")
    app.config["FILES_PATH"] = str(not_a_folder)
    app.extensions.pop("maillage.storage", None)
    login_as(person)
    _ask(client)
    process_pending()
    export = db.session.scalar(select(ExportRequest))
    assert export.status == ExportStatus.FAILED
    assert "Error" in export.error
    assert not export_in_progress(person)
    assert "Échec" in client.get("/account/data").get_data(as_text=True)
    _ask(client)
    assert db.session.scalar(select(db.func.count()).select_from(ExportRequest)) == 2


@pytest.fixture
def traces(create_user, create_community, create_post):
    """Carol's traces in the modules the archive journey does not visit, as rows."""
    carol = create_user("carol", email="carol@example.gouv.fr")
    dan = create_user("dan")
    community = create_community("Veille juridique", owner=dan, members=[carol])
    post = create_post(community, dan, "Publication de Dan")
    now = utcnow()
    poll = DatePoll(community_id=community.id, organiser_id=carol.id, title="Quand ?")
    slot = DatePollSlot(poll=poll, starts_at=now, ends_at=now + dt.timedelta(hours=1))
    db.session.add_all(
        [
            Task(community_id=community.id, title="Tâche de Carol", created_by_id=carol.id),
            Task(
                community_id=community.id,
                title="Tâche de Dan",
                created_by_id=dan.id,
                assignee_id=carol.id,
                position=1,
            ),
            Report(
                community_id=community.id,
                object_type="post",
                object_id=post.id,
                reporter_id=carol.id,
                category="spam",
            ),
            Sanction(
                community_id=community.id,
                user_id=carol.id,
                kind="mute",
                reason="Hors sujet",
                created_by_id=dan.id,
            ),
            Announcement(community_id=community.id, author_id=carol.id, title="Annonce"),
            ScheduledPost(
                community_id=community.id, author_id=carol.id, title="Plus tard", publish_at=now
            ),
            ActivityEvent(user_id=carol.id, community_id=community.id, kind="visit"),
            DatePollAnswer(slot=slot, user_id=carol.id, availability="yes"),
            CalendarFeedKey(user_id=carol.id, nonce="n" * 32),
            JoinRequest(community_id=community.id, user_id=carol.id, message="Bonjour"),
        ]
    )
    db.session.commit()
    return carol


def test_every_section_exports_and_erases_the_remaining_traces(traces):
    carol = traces
    exported = {holder.section: holder.export(carol) for holder in HOLDERS.values()}
    for section in (
        "kanban_tasks",
        "moderation_reports",
        "moderation_sanctions",
        "community_announcements",
        "scheduled_posts",
        "activity",
        "event_date_polls",
        "event_date_poll_answers",
        "calendar_feed",
        "join_requests",
    ):
        assert exported[section], section
    assert [t["assigned_to_me"] for t in exported["kanban_tasks"]] == [False, True]

    _erase(carol, Erasure.KEEP_CONTENT)
    assert _one(Task, Task.assignee_id == carol.id) is None
    assert _one(Task, Task.created_by_id == carol.id) is not None
    assert _one(Report, Report.reporter_id == carol.id) is None
    assert _one(Report, Report.category == "spam") is not None  # the moderation history stays
    for model in (Sanction, DatePollAnswer, CalendarFeedKey, JoinRequest, ActivityEvent):
        assert _one(model, model.user_id == carol.id) is None, model
    assert _one(ScheduledPost, ScheduledPost.author_id == carol.id) is None
    assert _one(Announcement, Announcement.author_id == carol.id) is not None

    _erase(carol, Erasure.DELETE_CONTENT)
    assert _one(Task, Task.created_by_id == carol.id) is None
    assert _one(Task, Task.title == "Tâche de Dan").position == 0  # the column closed up
    assert _one(Announcement, Announcement.author_id == carol.id) is None
    assert _one(DatePoll, DatePoll.organiser_id == carol.id) is None
