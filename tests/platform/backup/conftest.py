"""Fixtures of the backup tests: fresh empty instances to restore into (a new SQLite file, or a
new PostgreSQL database), commands run through the real ``flask maillage`` CLI, and an instance
with content in every module."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import tarfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, make_url, text

from maillage.platform.app import create_app
from maillage.platform.extensions import db

_databases = itertools.count(1)
DOCUMENT_BYTES = "Compte rendu de la réunion : les seuils de la commande publique.\n".encode()


@pytest.fixture
def app_config(app_config):
    """Work stays in the outbox until the test processes it, as with a stopped worker."""
    return {**app_config, "CELERY_ALWAYS_EAGER": False, "CELERY_BROKER_URL": "memory://"}


def run_cli(flask_app, *args: str):
    """``flask maillage <args>`` on ``flask_app``, through Click, as an administrator runs it.

    Its own app context is pushed first: the command would otherwise run in the test's (the
    ``app`` fixture keeps one pushed), that is on the source instance."""
    with flask_app.app_context():
        return flask_app.test_cli_runner().invoke(args=["maillage", *args], catch_exceptions=False)


@pytest.fixture
def new_instance(app, app_config, tmp_path):
    """``new_instance(name, schema=None)``: an app on a new, empty database (no tables) and its
    own instance folder.  On PostgreSQL a new database on the same server, whose current schema
    is ``schema`` (by default the one the suite's database uses, created empty)."""
    created: list[tuple] = []

    def make(name: str, schema: str | None = None):
        url, cleanup = _new_database(app_config["SQLALCHEMY_DATABASE_URI"], tmp_path, name, schema)
        folder = tmp_path / f"instance-{name}"
        config = {
            **app_config,
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_INDEX_PATH": str(folder / "index"),
            "MAIL_FOLDER": str(folder / "mail"),
        }
        flask_app = create_app(config, instance_path=folder)
        flask_app.test_client_class = app.test_client_class
        created.append((flask_app, cleanup))
        return flask_app

    yield make
    for flask_app, cleanup in created:
        with flask_app.app_context():
            db.session.remove()
            db.engine.dispose()
        cleanup()


def _new_database(source_url: str, tmp_path: Path, name: str, schema: str | None):
    if not source_url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / f'{name}.sqlite'}", lambda: None
    url = make_url(source_url)
    prefix = os.environ.get("MAILLAGE_TEST_SCHEMA_PREFIX") or "test"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    database = f"{prefix}_{worker}_{name}_{next(_databases)}".lower()
    server = create_engine(url.set(query={}), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    source_schema = url.query.get("options", "-csearch_path=public").split("=", 1)[1]
    schema = schema or source_schema
    target = url.set(database=database).update_query_dict({"options": f"-csearch_path={schema}"})
    if schema != "public":
        engine = create_engine(target)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()

    def drop() -> None:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        server.dispose()

    return target.render_as_string(hide_password=False), drop


def sign_in(client, user) -> None:
    """Sign ``user`` in on ``client`` (of any app) without the form (as tests/conftest.login)."""
    from tests.conftest import login

    login(client, user)


def rewrite_archive(path: Path, change) -> None:
    """Rewrite the tar at ``path``, passing each member's ``(name, bytes)`` through ``change``."""
    with tarfile.open(path) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(path, "w") as tar:
        for name, original in members:
            data = change(name, original)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def png_bytes(colour=(0, 0, 145)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


# -- an instance with content in every module ----------------------------------------------------


@pytest.fixture
def every_module(create_user, create_community, create_post, create_organisation):
    """Content in each module, by the real operations; returns the objects tests look at."""
    from maillage.communities.community.operations import add_membership

    organisation = create_organisation("Préfecture du Calvados")
    owner = create_user("ines", email="ines@example.gouv.fr", organisation=organisation)
    owner.is_trainer = True
    member = create_user("jules", email="jules@example.gouv.fr")
    community = create_community("Acheteurs publics", owner=owner, members=[member])
    secret = create_community("Cellule de crise", owner=owner, visibility="secret")
    add_membership(secret, member, "member")
    content = {"owner": owner, "member": member, "community": community, "secret": secret}
    content |= _contributions(community, owner, member, create_post)
    content |= _platform_records(organisation, community, owner, member)
    db.session.commit()
    return content


def _contributions(community, owner, member, create_post) -> dict:
    from maillage.communities.discussions.operations import add_reply, create_topic
    from maillage.communities.documents.operations import upload_document
    from maillage.communities.documents.uploads import Upload
    from maillage.communities.events.operations import EventFields, create_event, respond
    from maillage.communities.kanban.models import Task
    from maillage.communities.polls.operations import PollSpec, QuestionSpec, create_poll, vote
    from maillage.communities.posts.operations import add_comment
    from maillage.communities.wiki.operations import create_page
    from maillage.platform.db import utcnow

    post = create_post(community, owner, "Seuils hivernaux", "Les **seuils** de procédure.")
    add_comment(post, member, "Merci pour ce rappel sur les marchés.")
    topic = create_topic(community, member, "Clauses sociales", "Vos modèles de clauses ?")
    add_reply(topic, owner, "Voici le nôtre.")
    starts = utcnow() + dt.timedelta(days=5)
    event = create_event(
        community, owner, EventFields("Rencontre annuelle", starts, starts + dt.timedelta(hours=2))
    )
    respond(event, member, "yes")
    document = upload_document(
        community, member, Upload("compte-rendu.txt", io.BytesIO(DOCUMENT_BYTES))
    )
    image = upload_document(community, owner, Upload("affiche.png", io.BytesIO(png_bytes())))
    poll = create_poll(
        community, owner, PollSpec("Quel jour ?", [QuestionSpec("Jour", ["Lundi", "Mardi"])])
    )
    vote(poll, member, [poll.questions[0].options[0].id])
    page = create_page(community, owner, "Guide des achats", "Le **guide** de la cellule.")
    db.session.add(Task(community_id=community.id, title="Relire le guide", created_by_id=owner.id))
    return {"post": post, "document": document, "image": image, "page": page, "event": event}


def _platform_records(organisation, community, owner, member) -> dict:
    from maillage.auth.identities.models import Identity
    from maillage.communities.moderation.models import Report, Sanction
    from maillage.communities.organisations.operations import set_logo
    from maillage.communities.training import operations as training
    from maillage.communities.training.progress import mark_lesson_done
    from maillage.federation.actors.operations import ensure_key, instance_actor_key

    set_logo(organisation, io.BytesIO(png_bytes((200, 0, 0))), owner)
    db.session.add(Identity(user=member, provider="keycloak", identifier="sub-jules-42"))
    db.session.add_all(
        [
            Report(
                community_id=community.id,
                object_type="community",
                object_id=community.id,
                reporter_id=member.id,
                category="spam",
            ),
            Sanction(
                community_id=community.id,
                user_id=member.id,
                kind="mute",
                reason="Hors sujet",
                created_by_id=owner.id,
            ),
        ]
    )
    path = training.create_path(owner, "Animer un réseau", "", False)
    course = training.create_course(path, owner, "Les bases", "")
    module = training.create_module(course, owner, "Accueillir")
    lesson = training.create_lesson(module, owner, training.LessonFields("Leçon 1", "Texte"))
    training.set_published(course, owner, True)
    training.set_published(path, owner, True)
    mark_lesson_done(lesson, member)
    return {
        "user_key": ensure_key(owner),
        "community_key": ensure_key(community),
        "instance_key": instance_actor_key(commit=False),
    }
