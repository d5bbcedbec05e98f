"""``flask maillage backup`` then ``flask maillage restore`` into a fresh empty instance (a new
SQLite file, or a new PostgreSQL database), with content in every module: same rows in every
table, same values, documents downloaded byte for byte, search finding the restored content,
and the work pending at backup time handled as designed (e-mails held, deliveries kept, notices
not mailed twice)."""

from __future__ import annotations

import datetime as dt
import json
import re
import tarfile

from flask_migrate import upgrade
from sqlalchemy import func, inspect, select, text

from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.platform.backup.conftest import DOCUMENT_BYTES, run_cli, sign_in

HELD_SUBJECT = "Rappel : réunion de jeudi"


def _table_counts() -> dict[str, int]:
    """Rows per table of the database (every table it has, whatever the models say)."""
    names = inspect(db.engine).get_table_names()
    with db.engine.connect() as connection:
        return {name: connection.scalar(text(f'SELECT count(*) FROM "{name}"')) for name in names}


def _pending_at_backup(every_module, create_post) -> dict:
    """Work the outbox holds when the backup is taken: an e-mail (claimed by a worker that
    died), a post not indexed yet, a federation delivery, notices waiting for a digest."""
    from maillage.federation.transport.models import Delivery
    from maillage.platform import mail
    from maillage.platform.outbox.models import OutboxItem

    late = create_post(
        every_module["community"],
        every_module["owner"],
        "Gouvernance",
        "La gouvernance des données.",
    )
    mail.send("jules@example.gouv.fr", HELD_SUBJECT, "Jeudi, 10 h.")
    db.session.flush()
    claimed = db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "mail.send")).one()
    claimed.lease = "d" * 32
    db.session.add(
        Delivery(
            dedupe_key="e" * 64,
            activity_id="https://maillage.test/activities/create-1",
            payload={"id": "https://maillage.test/activities/create-1", "type": "Create"},
            inbox_url="https://pair.example/inbox",
            host="pair.example",
            signer_ap_id=every_module["community"].ap_id,
            lease="f" * 32,
            next_attempt_at=utcnow() + dt.timedelta(minutes=5),
        )
    )
    db.session.commit()
    return {"late_post": late.id}


def _snapshot(every_module) -> dict:
    """Values to compare once restored (plain values: the source's objects stay behind)."""
    from maillage.auth.identities.models import Identity
    from maillage.federation.actors.models import ActorKey
    from maillage.platform.notifications.models import Notification

    community, document = every_module["community"], every_module["document"]
    return {
        "counts": _table_counts(),
        "revision": db.session.scalar(text("SELECT version_num FROM alembic_version")),
        "member": every_module["member"].id,
        "owner": every_module["owner"].id,
        "slug": community.slug,
        "community_ap_id": community.ap_id,
        "document": document.id,
        "post_body": every_module["post"].body_html,
        "identity": db.session.execute(select(Identity.user_id, Identity.identifier)).one(),
        "keys": dict(db.session.execute(select(ActorKey.key_id, ActorKey.private_key_pem)).all()),
        "unmailed_notices": db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.emailed_at.is_(None))
        ),
        "organisation": every_module["owner"].organisation_id,
    }


def _back_up_and_restore(app, every_module, new_instance, tmp_path, create_post) -> dict:
    """Back up the instance with every module, restore it on a new one."""
    from maillage.platform.outbox.operations import process_pending

    process_pending()  # what the worker had done before the backup
    pending = _pending_at_backup(every_module, create_post)
    snapshot = _snapshot(every_module) | pending
    folder = tmp_path / "backups"
    folder.mkdir()
    backed_up = run_cli(app, "backup", "--output", str(folder))
    assert backed_up.exit_code == 0, backed_up.output
    (archive,) = folder.iterdir()
    target = new_instance("restored")
    with target.app_context():
        upgrade()  # an empty instance may have its tables already (``flask db upgrade``)
        db.engine.dispose()
    result = run_cli(target, "restore", str(archive))
    assert result.exit_code == 0, result.output
    return {"target": target, "archive": archive, "output": result.output, **snapshot}


def _every_row_comes_back(restored):
    with restored["target"].app_context():
        counts = _table_counts()
        revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    expected = dict(restored["counts"])
    expected["audit_log"] += 1  # the restore itself is recorded
    assert counts == expected
    assert revision == restored["revision"]
    assert counts["posts"] >= 2
    assert counts["document_versions"] >= 2
    assert counts["actor_keys"] == 3


def _values_keys_and_identities_come_back(restored):
    from maillage.auth.identities.models import Identity
    from maillage.communities.community.models import Community
    from maillage.communities.posts.models import Post
    from maillage.federation.actors.models import ActorKey

    with restored["target"].app_context():
        community = db.session.scalar(select(Community).where(Community.slug == restored["slug"]))
        assert community.ap_id == restored["community_ap_id"]
        identity = db.session.execute(select(Identity.user_id, Identity.identifier)).one()
        assert identity == restored["identity"]
        keys = dict(db.session.execute(select(ActorKey.key_id, ActorKey.private_key_pem)).all())
        assert keys == restored["keys"]
        bodies = db.session.scalars(select(Post.body_html)).all()
        assert restored["post_body"] in bodies


def _new_content_gets_new_ids(restored):
    """The id counters came back too: what is created next collides with nothing."""
    from maillage.communities.community.models import Community
    from maillage.communities.posts.operations import create_post
    from maillage.communities.users.models import User

    with restored["target"].app_context():
        community = db.session.scalar(select(Community).where(Community.slug == restored["slug"]))
        author = db.session.get(User, restored["owner"])
        post = create_post(community, author, "Après la restauration", "Un nouveau texte.")
        db.session.commit()
        assert post.id > restored["late_post"]


def _documents_and_logos_download_byte_identical(restored):
    target = restored["target"]
    client = target.test_client()
    with target.app_context():
        from maillage.communities.users.models import User

        sign_in(client, db.session.get(User, restored["member"]))
    url = f"/c/{restored['slug']}/documents/{restored['document']}/versions/1/telecharger"
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == DOCUMENT_BYTES
    response.close()
    logo = client.get(f"/organisations/{restored['organisation']}/logo")
    assert logo.status_code == 200
    assert logo.data.startswith(b"\x89PNG")
    logo.close()


def _search_finds_restored_content_even_what_was_not_indexed_yet(restored):
    target = restored["target"]
    client = target.test_client()
    with target.app_context():
        from maillage.communities.users.models import User

        sign_in(client, db.session.get(User, restored["member"]))
    assert "Seuils hivernaux" in _search(client, "hivernaux")
    assert "Guide des achats" in _search(client, "guide")
    # Indexing was still in the outbox when the backup was taken: the restore rebuilt the index.
    assert "Gouvernance" in _search(client, "gouvernance")


def _search(client, words: str) -> str:
    """The result titles of a search, as text (the matched words come marked)."""
    page = client.get("/search", query_string={"q": words}).get_data(as_text=True)
    return re.sub(r"<[^>]+>", "", " ".join(re.findall(r"<h2>.*?</h2>", page)))


def _pending_work_is_settled_without_sending_anything_twice(restored):
    from maillage.federation.transport.models import Delivery
    from maillage.platform.notifications.models import Notification
    from maillage.platform.outbox.models import OutboxItem
    from maillage.platform.outbox.operations import process_pending

    target = restored["target"]
    assert "1 retenus" in restored["output"]
    with target.app_context():
        mail = db.session.scalars(select(OutboxItem).where(OutboxItem.kind == "mail.send")).one()
        assert (mail.status, mail.lease) == ("held", None)
        assert "flask maillage held-outbox" in mail.last_error
        delivery = db.session.scalars(select(Delivery)).one()
        assert (delivery.status, delivery.lease) == ("pending", None)
        assert delivery.next_attempt_at <= utcnow()
        assert restored["unmailed_notices"] > 0
        unmailed = select(func.count()).select_from(Notification)
        assert db.session.scalar(unmailed.where(Notification.emailed_at.is_(None))) == 0
        assert db.session.scalar(unmailed.where(Notification.read_at.is_(None))) > 0
        process_pending()  # a worker of the restored instance: replays the rest, not the held
        assert _subjects(target) == []
        still_pending = select(func.count()).where(OutboxItem.status == "pending")
        assert db.session.scalar(still_pending) == 0
        assert db.session.get(OutboxItem, mail.id).status == "held"


def _an_administrator_releases_or_drops_the_held_work(restored):
    from maillage.platform.outbox.operations import process_pending

    target = restored["target"]
    listing = run_cli(target, "held-outbox")
    assert "mail.send" in listing.output
    released = run_cli(target, "held-outbox", "--release", "--kind", "mail.send")
    assert "1 travaux remis en envoi" in released.output
    with target.app_context():
        process_pending()
        process_pending()
        assert _subjects(target) == [HELD_SUBJECT]
    assert "Aucun travail retenu" in run_cli(target, "held-outbox").output
    assert "0 travaux abandonnés" in run_cli(target, "held-outbox", "--drop").output


def _subjects(flask_app) -> list[str]:
    from maillage.platform.mail import read_folder

    with flask_app.app_context():
        return [message["Subject"] for message in read_folder()]


def _the_archive_is_private_and_describes_itself(restored):
    archive = restored["archive"]
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = set(tar.getnames())
    assert manifest["format"] == "maillage-backup"
    assert manifest["database"]["alembic_revision"] == restored["revision"]
    assert manifest["database"]["kind"] in {"sqlite", "postgresql"}
    assert manifest["instance_name"] == "Maillage"
    assert manifest["stored_files"] >= 3  # two documents and a logo (and previews)
    assert names == {*manifest["members"], "manifest.json"}
    assert all(len(entry["sha256"]) == 64 for entry in manifest["members"].values())
    assert manifest["pending_outbox"]["mail.send"] == 1


def test_round_trip_through_the_cli(app, every_module, new_instance, tmp_path, create_post):
    """One round trip (it is the costly part), then each aspect checked in turn."""
    restored = _back_up_and_restore(app, every_module, new_instance, tmp_path, create_post)
    _the_archive_is_private_and_describes_itself(restored)
    _every_row_comes_back(restored)
    _values_keys_and_identities_come_back(restored)
    _documents_and_logos_download_byte_identical(restored)
    _search_finds_restored_content_even_what_was_not_indexed_yet(restored)
    _pending_work_is_settled_without_sending_anything_twice(restored)
    _an_administrator_releases_or_drops_the_held_work(restored)
    _new_content_gets_new_ids(restored)
