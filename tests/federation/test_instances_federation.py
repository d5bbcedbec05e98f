"""Two Maillage instances as separate processes federating over loopback.

Each instance is a real server (``flask run``, threaded Werkzeug) with its own instance folder,
SQLite file, keys and ``MAILLAGE_BASE_URL`` on its own loopback address (``127.0.0.11`` and
``127.0.0.12``: Linux routes all of 127/8 to the loopback, so each instance has a host of its
own as real deployments do).  Celery runs eagerly inside each process: a delivery is attempted
right after the commit that queued it, and a failed one stays in the outbox table (``Delivery``)
until the transport's retry runs — the restart scenario runs it explicitly instead of waiting
for its backoff.

A *driver* process per instance (same environment, same database) runs the setup and the actions
of a person through the real operations, as the CLI does: ``instance.run(code, **params)``
executes ``code`` in an app context, commits, and returns the JSON of its ``result`` variable.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

PYTHON = sys.executable
RESULT_MARK = "@@RESULT@@ "
STARTUP_SECONDS = 60
WAIT_SECONDS = 30
POLL_FIRST, POLL_MAX = 0.02, 0.25  # polling: short first, a little longer while it lasts

DRIVER = r"""
import json, sys, traceback
from maillage.platform.app import create_app
from maillage.platform.extensions import db
app = create_app()
print("@@RESULT@@ " + json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    scope = {"db": db, "app": app, "result": None, **request["params"]}
    with app.app_context():
        try:
            exec(request["code"], scope)
            db.session.commit()
            answer = {"result": scope.get("result")}
        except Exception:
            db.session.rollback()
            answer = {"error": traceback.format_exc()}
        finally:
            db.session.remove()
    print("@@RESULT@@ " + json.dumps(answer, default=str), flush=True)
"""


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


class Instance:
    """One Maillage server on ``address`` with its own folder and database."""

    def __init__(self, name: str, address: str, root: Path):
        self.name = name
        self.address = address
        self.port = free_port(address)
        self.base_url = f"http://{address}:{self.port}"
        self.folder = root / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.server: subprocess.Popen | None = None
        self.driver: subprocess.Popen | None = None
        self._driver_ready = False
        self.log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - closed in close()

    @property
    def env(self) -> dict[str, str]:
        settings = {
            "INSTANCE_PATH": str(self.folder),
            "BASE_URL": self.base_url,
            "INSTANCE_NAME": f"Maillage {self.name}",
            "SECRET_KEY": f"secret-key-of-instance-{self.name}-for-the-federation-tests",
            "FEDERATION_ALLOW_LOOPBACK": "true",
            "FEDERATION_MODE": "open",
            "CELERY_ALWAYS_EAGER": "true",
            "CELERY_BROKER_URL": "memory://",
            "WTF_CSRF_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            "PASSWORD_HASH_TIME_COST": "1",
            "PASSWORD_HASH_MEMORY_COST": "1024",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLAGE_")}
        env.update({f"MAILLAGE_{key}": value for key, value in settings.items()})
        env.pop("DATABASE_URL", None)
        return env

    def flask(self, *args: str, **kwargs) -> subprocess.Popen:
        command = [PYTHON, "-m", "flask", "--app", "maillage.platform.wsgi", *args]
        return subprocess.Popen(command, env=self.env, cwd=self.folder, **kwargs)

    def start(self) -> None:
        self.launch()
        self.wait_started()

    def launch(self) -> None:
        """Start the server process without waiting (instances start side by side)."""
        self.server = self.flask(
            "run",
            "--host",
            self.address,
            "--port",
            str(self.port),
            "--no-reload",
            "--no-debugger",
            "--with-threads",
            stdout=self.log,
            stderr=self.log,
        )

    def wait_started(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.server.poll() is None, self.read_log()
            try:
                if requests.get(f"{self.base_url}/health", timeout=5).status_code in (200, 503):
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise AssertionError(f"{self.name} did not start:\n{self.read_log()}")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None

    def close(self) -> None:
        self.stop()
        if self.driver is not None:
            self.driver.stdin.close()
            try:
                self.driver.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait()
            self.driver.stdout.close()
        self.log.close()

    def read_log(self) -> str:
        self.log.flush()
        return (self.folder / "server.log").read_text(errors="replace")[-6000:]

    # -- driver --------------------------------------------------------------------------------

    def launch_driver(self) -> None:
        """Start the driver process; its first ``run`` waits until it is ready."""
        self.driver = subprocess.Popen(
            [PYTHON, "-c", DRIVER],
            env=self.env,
            cwd=self.folder,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self._driver_ready = False

    def _driver(self) -> subprocess.Popen:
        if self.driver is None or self.driver.poll() is not None:
            self.launch_driver()
        if not self._driver_ready:
            self._answer()
            self._driver_ready = True
        return self.driver

    def _answer(self) -> dict:
        for line in self.driver.stdout:
            if line.startswith(RESULT_MARK):
                return json.loads(line[len(RESULT_MARK) :])
        raise AssertionError(f"driver of {self.name} ended:\n{self.read_log()}")

    def run(self, code: str, **params):
        """Run ``code`` in an app context of this instance; returns its ``result``."""
        driver = self._driver()
        driver.stdin.write(json.dumps({"code": textwrap.dedent(code), "params": params}) + "\n")
        driver.stdin.flush()
        answer = self._answer()
        if "error" in answer:
            raise AssertionError(f"on {self.name}:\n{answer['error']}")
        return answer["result"]

    def wait_for(self, code: str, *, timeout: float = WAIT_SECONDS, **params):
        """Run ``code`` until its result is truthy (deliveries are asynchronous in a real
        deployment; here they are mostly done when the request returns)."""
        return poll(lambda: self.run(code, **params), timeout)


def poll(attempt, timeout: float = WAIT_SECONDS, until=bool):
    """``attempt()`` until ``until(result)`` or the timeout; returns the last result.  Short
    pauses: deliveries are eager, so the first or second try usually sees the result."""
    deadline = time.monotonic() + timeout
    pause = POLL_FIRST
    while True:
        result = attempt()
        if until(result) or time.monotonic() > deadline:
            return result
        time.sleep(pause)
        pause = min(pause * 2, POLL_MAX)


# -- setup code run on an instance ------------------------------------------------------------

CREATE_USER = """
from maillage.communities.organisations.operations import create_organisation
from maillage.communities.users.operations import create_user
organisation = create_organisation(organisation_name, "state_service", None)
user = create_user(username, username.capitalize(), username + "@example.gouv.fr",
                   "correct horse battery", organisation=organisation)
from maillage.platform.firstrun.operations import mark_setup_done
mark_setup_done(user, via="cli")
result = {"id": user.id, "ap_id": user.ap_id}
"""

CREATE_COMMUNITY = """
from maillage.communities.community.operations import create_community
from maillage.communities.users.models import User
owner = db.session.scalar(db.select(User).filter_by(username=owner))
community = create_community(owner, name, slug=slug, visibility=visibility)
result = {"id": community.id, "ap_id": community.ap_id, "slug": community.slug}
"""

FOLLOW = """
from maillage.communities.users.models import User
from maillage.federation.outgoing.operations import follow_remote
user = db.session.scalar(db.select(User).filter_by(username=username))
follow = follow_remote(user, handle)
result = {"id": follow.id, "community": follow.community.slug, "state": follow.state}
"""

FOLLOW_STATE = """
from maillage.federation.outgoing.models import RemoteFollow
from maillage.communities.community.models import Community
community = db.session.scalar(db.select(Community).filter_by(slug=slug))
follow = community and db.session.scalar(
    db.select(RemoteFollow).filter_by(community_id=community.id))
result = follow.state if follow else None
"""

CREATE_POST = """
from maillage.communities.community.models import Community
from maillage.communities.posts.operations import create_post
from maillage.communities.users.models import User
user = db.session.scalar(db.select(User).filter_by(username=username))
community = db.session.scalar(db.select(Community).filter_by(slug=slug))
post = create_post(community, user, title, body)
result = {"id": post.id, "ap_id": post.ap_id}
"""

POST_BY_AP_ID = """
from maillage.communities.posts.models import Post
post = db.session.scalar(db.select(Post).filter_by(ap_id=ap_id))
result = post and {"id": post.id, "title": post.title, "body": post.body_source,
                   "community": post.community.slug, "author": post.author.username,
                   "comments": post.comment_count}
"""

DELIVERY_COUNTS = """
from maillage.federation.transport.models import Delivery
rows = db.session.execute(db.select(Delivery.status, db.func.count()).group_by(Delivery.status))
result = {status: count for status, count in rows}
"""


MIGRATE = """
from flask_migrate import upgrade
upgrade()
db.session.remove()
db.engine.dispose()  # the last connection closes: the WAL is folded into the file
"""


def copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup (safe with WAL, unlike a file copy)."""
    origin, copy = sqlite3.connect(source), sqlite3.connect(target)
    origin.backup(copy)
    for connection in (origin, copy):
        connection.close()


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    """Instances A (127.0.0.11) and B (127.0.0.12), migrated and started, with a driver each.

    One pair for the whole module; the processes start side by side: A's driver migrates
    (one app start less than ``flask db upgrade``), B gets a copy of the migrated database,
    then both servers and B's driver start together."""
    root = tmp_path_factory.mktemp("instances")
    a, b = Instance("a", "127.0.0.11", root), Instance("b", "127.0.0.12", root)
    try:
        a.launch_driver()
        a.run(MIGRATE)
        copy_database(a.folder / "maillage.sqlite", b.folder / "maillage.sqlite")
        for process in (a.launch, b.launch, b.launch_driver):
            process()
        for instance in (a, b):
            instance.wait_started()
        b.run("result = 1")
        yield a, b
    finally:
        # Throwaway processes and folders: killed at once rather than waited for one by one.
        for instance in (a, b):
            for process in (instance.server, instance.driver):
                if process is not None and process.poll() is None:
                    process.kill()
        for instance in (a, b):
            instance.close()


def test_instances_start_and_answer(instances):
    a, b = instances
    for instance in (a, b):
        health = requests.get(f"{instance.base_url}/health", timeout=10)
        assert health.status_code == 200, health.text
        assert instance.run("result = app.config['BASE_URL']") == instance.base_url


# -- scenarios ---------------------------------------------------------------------------------

POST_IN_COMMUNITY = """
from maillage.communities.community.models import Community
from maillage.communities.posts.models import Post
community = db.session.scalar(db.select(Community).filter_by(ap_id=community_ap_id))
posts = [] if community is None else db.session.scalars(
    db.select(Post).filter_by(community_id=community.id).order_by(Post.id)).all()
result = [{"ap_id": p.ap_id, "title": p.title, "author": p.author.ap_id,
           "comments": p.comment_count, "local": p.local} for p in posts]
"""

COMMENTS_OF = """
from maillage.communities.posts.models import Comment, Post
post = db.session.scalar(db.select(Post).filter_by(ap_id=post_ap_id))
result = [] if post is None else [
    {"ap_id": c.ap_id, "body": c.body_source, "author": c.author.ap_id}
    for c in db.session.scalars(db.select(Comment).filter_by(post_id=post.id).order_by(Comment.id))
]
"""

ADD_COMMENT = """
from maillage.communities.posts.models import Post
from maillage.communities.posts.operations import add_comment
from maillage.communities.users.models import User
user = db.session.scalar(db.select(User).filter_by(username=username))
post = db.session.scalar(db.select(Post).filter_by(ap_id=post_ap_id))
comment = add_comment(post, user, body)
result = comment.ap_id
"""

EDIT_POST = """
from maillage.communities.posts.models import Post
from maillage.communities.posts.operations import edit_post
from maillage.communities.users.models import User
user = db.session.scalar(db.select(User).filter_by(username=username))
post = db.session.scalar(db.select(Post).filter_by(ap_id=post_ap_id))
edit_post(post, user, title, post.body_source)
"""

DELETE_POST = """
from maillage.communities.posts.models import Post
from maillage.communities.posts.operations import delete_post
from maillage.communities.users.models import User
user = db.session.scalar(db.select(User).filter_by(username=username))
post = db.session.scalar(db.select(Post).filter_by(ap_id=post_ap_id))
delete_post(post, user)
"""

REACT = """
from maillage.communities.posts.models import Post
from maillage.communities.posts.operations import toggle_reaction
from maillage.communities.users.models import User
user = db.session.scalar(db.select(User).filter_by(username=username))
post = db.session.scalar(db.select(Post).filter_by(ap_id=post_ap_id))
result = toggle_reaction(post, user, "👍")
"""

REACTIONS_OF = """
from maillage.communities.posts.models import Post, Reaction
post = db.session.scalar(db.select(Post).filter_by(ap_id=post_ap_id))
result = 0 if post is None else db.session.scalar(
    db.select(db.func.count()).select_from(Reaction).filter_by(post_id=post.id))
"""

# A moderator (``username``) of the community ``slug`` acting on ``member_ap_id``.
ON_MEMBER = """
from maillage.communities.community.models import Community
from maillage.communities.users.models import User
actor = db.session.scalar(db.select(User).filter_by(username=username))
member = db.session.scalar(db.select(User).filter_by(ap_id=member_ap_id))
community = db.session.scalar(db.select(Community).filter_by(slug=slug))
"""

BAN = (
    ON_MEMBER
    + """
from maillage.communities.moderation.operations import ban
ban(actor, community, member, "Propos hors charte", None)
"""
)


class Pair:
    """Shared steps of the scenarios on instances A (hosts the community) and B (follows)."""

    def __init__(self, a: Instance, b: Instance, suffix: str):
        self.a, self.b, self.suffix = a, b, suffix
        self.owner = f"anne{suffix}"
        self.follower = f"bruno{suffix}"

    def setup(self, visibility: str = "public") -> dict:
        self.a.run(CREATE_USER, username=self.owner, organisation_name=f"Ministère {self.suffix}")
        self.b.run(CREATE_USER, username=self.follower, organisation_name=f"Région {self.suffix}")
        return self.a.run(
            CREATE_COMMUNITY,
            owner=self.owner,
            name=f"Acheteurs {self.suffix}",
            slug=f"acheteurs-{self.suffix}",
            visibility=visibility,
        )

    def follow(self, community: dict) -> str:
        """B's person follows A's community by URL; returns the shadow slug on B."""
        followed = self.b.run(FOLLOW, username=self.follower, handle=community["ap_id"])
        slug = followed["community"]
        state = self.b.wait_for(
            "result = None\n" + FOLLOW_STATE + "\nresult = result == 'accepted'", slug=slug
        )
        assert state, (
            f"follow not accepted: {self.b.run(FOLLOW_STATE, slug=slug)}\n"
            f"A:\n{self.a.read_log()}\nB:\n{self.b.read_log()}"
        )
        return slug

    def posts_on(self, instance: Instance, community: dict) -> list[dict]:
        return instance.run(POST_IN_COMMUNITY, community_ap_id=community["ap_id"])

    def wait_posts(self, instance: Instance, community: dict, condition) -> list[dict]:
        return poll(lambda: self.posts_on(instance, community), until=condition)


def test_follow_post_comment_edit_delete_across_instances(instances):
    a, b = instances
    pair = Pair(a, b, "x1")
    community = pair.setup()
    slug = pair.follow(community)
    assert "@" in slug

    post = a.run(
        CREATE_POST,
        username=pair.owner,
        slug=community["slug"],
        title="Guide des achats",
        body="Premier **guide**",
    )
    seen = pair.wait_posts(b, community, lambda posts: len(posts) == 1)
    assert [p["ap_id"] for p in seen] == [post["ap_id"]], a.read_log()
    assert seen[0]["local"] is False

    # B's person comments: the Note goes to A's group, which stores it.
    comment_id = b.run(
        ADD_COMMENT, username=pair.follower, post_ap_id=post["ap_id"], body="Merci pour ce guide"
    )
    comments = a.wait_for(COMMENTS_OF, post_ap_id=post["ap_id"])
    assert [c["ap_id"] for c in comments] == [comment_id], b.read_log()

    # A's author edits: B sees the new title.
    a.run(EDIT_POST, username=pair.owner, post_ap_id=post["ap_id"], title="Guide 2026")
    seen = pair.wait_posts(b, community, lambda posts: posts and posts[0]["title"] == "Guide 2026")
    assert seen[0]["title"] == "Guide 2026"

    # B's person posts in A's community from B.
    remote_post = b.run(
        CREATE_POST,
        username=pair.follower,
        slug=slug,
        title="Question depuis la région",
        body="Qui a un modèle ?",
    )
    on_a = pair.wait_posts(a, community, lambda posts: len(posts) == 2)
    assert remote_post["ap_id"] in [p["ap_id"] for p in on_a], b.read_log()

    # A's owner removes B's post (moderation): a moderator's Delete is a removal elsewhere
    # (Lemmy's "removed"), so B keeps its person's post hidden, with the reason.
    a.run(DELETE_POST, username=pair.owner, post_ap_id=remote_post["ap_id"])
    removed = poll(
        lambda: b.run(POST_STATE, post_ap_id=remote_post["ap_id"]),
        until=lambda state: state is not None and state["hidden"],
    )
    assert removed == {"locked": False, "hidden": True}, b.read_log()

    # A's author deletes the post: gone on B (only the removed one stays there, hidden).
    a.run(DELETE_POST, username=pair.owner, post_ap_id=post["ap_id"])
    left = pair.wait_posts(b, community, lambda posts: len(posts) == 1)
    assert [p["ap_id"] for p in left] == [remote_post["ap_id"]]


def test_vote_across_instances(instances):
    a, b = instances
    pair = Pair(a, b, "v1")
    community = pair.setup()
    pair.follow(community)
    post = a.run(
        CREATE_POST,
        username=pair.owner,
        slug=community["slug"],
        title="Sondage",
        body="Pour ou contre ?",
    )
    assert pair.wait_posts(b, community, lambda posts: len(posts) == 1)
    assert b.run(REACT, username=pair.follower, post_ap_id=post["ap_id"]) is True
    assert a.wait_for(REACTIONS_OF, post_ap_id=post["ap_id"]) == 1, b.read_log()
    # Taking the vote back (Undo{Like}) removes it on A.
    assert b.run(REACT, username=pair.follower, post_ap_id=post["ap_id"]) is False
    assert poll(lambda: a.run(REACTIONS_OF, post_ap_id=post["ap_id"]), until=lambda n: n == 0) == 0


ALLOW = """
from maillage.federation.transport.models import Instance
row = db.session.scalar(db.select(Instance).filter_by(domain=domain))
if row is None:
    row = Instance(domain=domain)
    db.session.add(row)
row.policy = "allowed"
"""

RETRY_NOW = """
# What the transport's periodic sweeper does once the backoff has passed, run at once: due
# rows of the host, circuit closed, then the per-host delivery task.
from maillage.platform.db import utcnow
from maillage.federation.transport.models import Delivery, Instance
from maillage.federation.transport.tasks import deliver_host
for row in db.session.scalars(db.select(Delivery).filter_by(host=host, status="pending")):
    row.next_attempt_at = utcnow()
    row.lease = None
instance = db.session.scalar(db.select(Instance).filter_by(domain=host))
if instance is not None:
    instance.circuit_open_until = None
db.session.commit()
deliver_host.run(host)
db.session.expire_all()
result = {status: count for status, count in db.session.execute(
    db.select(Delivery.status, db.func.count()).filter_by(host=host).group_by(Delivery.status))}
"""


def test_private_community_between_allow_listed_instances(instances):
    a, b = instances
    pair = Pair(a, b, "p1")
    community = pair.setup(visibility="private")
    a.run(ALLOW, domain=b.address)
    b.run(ALLOW, domain=a.address)
    pair.follow(community)
    post = a.run(
        CREATE_POST, username=pair.owner, slug=community["slug"], title="Note interne", body="…"
    )
    seen = pair.wait_posts(b, community, lambda posts: len(posts) == 1)
    assert [p["ap_id"] for p in seen] == [post["ap_id"]]
    # Never addressed to the public, at any level of what A sent.
    payloads = a.run(
        "from maillage.federation.transport.models import Delivery\n"
        "result = [row.payload for row in db.session.scalars(db.select(Delivery))]"
    )
    mine = [p for p in payloads if community["ap_id"] in json.dumps(p)]
    assert mine
    assert all("activitystreams#Public" not in json.dumps(p) for p in mine)


def test_instance_stopped_then_restarted_gets_everything_once(instances):
    a, b = instances
    pair = Pair(a, b, "r1")
    community = pair.setup()
    pair.follow(community)
    b.stop()
    try:
        sent = [
            a.run(CREATE_POST, username=pair.owner, slug=community["slug"], title=title, body=".")
            for title in ("Pendant la panne 1", "Pendant la panne 2")
        ]
        pending = a.run(RETRY_NOW, host=b.address)
        assert pending.get("pending"), pending
    finally:
        b.start()
    delivered = a.run(RETRY_NOW, host=b.address)
    assert not delivered.get("pending"), (delivered, a.read_log())
    # The inbox's periodic sweeper, run at once: an activity whose processing failed for a
    # passing reason (two deliveries racing) is processed again.
    b.run(INBOX_SWEEP)
    seen = pair.wait_posts(b, community, lambda posts: len(posts) == 2)
    rows = a.run(
        "from maillage.federation.transport.models import Delivery\n"
        "result = [(r.activity_id, r.status, r.attempts, r.last_error) for r in "
        "db.session.scalars(db.select(Delivery).filter_by(host=host))]",
        host=b.address,
    )
    assert sorted(p["ap_id"] for p in seen) == sorted(p["ap_id"] for p in sent), (
        rows,
        b.run(INBOX_ROWS),
    )
    # Running the retries again sends and applies nothing twice.
    a.run(RETRY_NOW, host=b.address)
    b.run(INBOX_SWEEP)
    assert len(pair.posts_on(b, community)) == 2


INBOX_ROWS = """
from maillage.federation.groups.models import InboxActivity
result = [(r.type, r.status, r.error, (r.payload.get("object") or {}).get("id"))
          for r in db.session.scalars(db.select(InboxActivity))]
"""


INBOX_SWEEP = """
import datetime as dt
from maillage.federation.groups.processing import sweep
from maillage.platform.db import utcnow
result = sweep(now=utcnow() + dt.timedelta(hours=7))
"""


# -- moderation across instances ---------------------------------------------------------------

JOIN = """
from maillage.communities.community.models import Community
from maillage.communities.community.operations import add_membership
from maillage.communities.users.models import User
user = db.session.scalar(db.select(User).filter_by(username=username))
add_membership(db.session.scalar(db.select(Community).filter_by(slug=slug)), user, "member")
"""

MODERATE = """
from maillage.communities.moderation import operations
from maillage.communities.posts.models import Post
from maillage.communities.users.models import User
actor = db.session.scalar(db.select(User).filter_by(username=username))
post = db.session.scalar(db.select(Post).filter_by(ap_id=post_ap_id))
getattr(operations, decision)(actor, post, *reasons)
"""

POST_STATE = """
from maillage.communities.posts.models import Post
post = db.session.scalar(db.select(Post).filter_by(ap_id=post_ap_id))
result = post and {"locked": post.locked_at is not None, "hidden": post.hidden_at is not None}
"""

LIFT = (
    ON_MEMBER
    + """
from maillage.communities.moderation.operations import lift
from maillage.communities.moderation.queries import active_sanction
lift(actor, active_sanction(member, community, "ban"))
"""
)

STANDING = """
from maillage.communities.community.models import Community
from maillage.communities.community.operations import membership_of
from maillage.communities.moderation.queries import is_banned
from maillage.communities.users.models import User
user = db.session.scalar(db.select(User).filter_by(username=username))
community = db.session.scalar(db.select(Community).filter_by(slug=slug))
membership = membership_of(community, user)
result = {"banned": is_banned(user, community), "role": membership and str(membership.role)}
"""

CHANGE_ROLE = (
    ON_MEMBER
    + """
from maillage.communities.community.operations import change_role
change_role(community, actor, member, role)
"""
)

UNDO_RECEIVED = """
from maillage.federation.groups.models import InboxActivity
def undone(payload):
    undo = payload.get("object")
    inner = undo.get("object") if isinstance(undo, dict) else None
    return isinstance(inner, dict) and (inner.get("type"), inner.get("object")) == ("Delete", ap_id)
rows = db.session.scalars(db.select(InboxActivity).filter_by(type="Announce"))
result = [row.status for row in rows if row.status != "pending" and undone(row.payload)]
"""

USER_AP_ID = """
from maillage.communities.users.models import User
result = db.session.scalar(db.select(User).filter_by(username=name)).ap_id
"""


def _moderated_pair(instances, suffix: str):
    """A's community followed from B, with a post by A's member ``claire`` seen on B."""
    a, b = instances
    pair = Pair(a, b, suffix)
    community = pair.setup()
    slug = pair.follow(community)
    a.run(CREATE_USER, username=f"claire{suffix}", organisation_name=f"Direction {suffix}")
    a.run(JOIN, username=f"claire{suffix}", slug=community["slug"])
    post = a.run(
        CREATE_POST, username=f"claire{suffix}", slug=community["slug"], title="Débat", body="…"
    )
    assert pair.wait_posts(b, community, lambda posts: len(posts) == 1), a.read_log()
    return pair, community, slug, post


def moderate(instance: Instance, user: str, post: dict, decision: str, *reasons) -> None:
    ap_id = post["ap_id"]
    instance.run(MODERATE, username=user, post_ap_id=ap_id, decision=decision, reasons=reasons)


def _state_on(instance: Instance, post: dict, expected) -> dict | None:
    return poll(
        lambda: instance.run(POST_STATE, post_ap_id=post["ap_id"]), until=lambda s: s == expected
    )


def test_lock_and_unlock_federate(instances):
    a, b = instances
    pair, _community, _slug, post = _moderated_pair(instances, "l1")
    moderate(a, pair.owner, post, "lock")
    locked = {"locked": True, "hidden": False}
    assert _state_on(b, post, locked) == locked, a.read_log()
    moderate(a, pair.owner, post, "unlock")
    unlocked = {"locked": False, "hidden": False}
    assert _state_on(b, post, unlocked) == unlocked


def test_hide_and_restore_federate(instances):
    """Hide = Lemmy's removal (``Delete`` with the reason); restore = ``Undo{Delete}``."""
    a, b = instances
    pair, _community, _slug, post = _moderated_pair(instances, "h1")
    moderate(a, pair.owner, post, "hide", "HS")
    hidden = poll(
        lambda: b.run(POST_STATE, post_ap_id=post["ap_id"]),
        until=lambda state: state is not None and state["hidden"],
    )
    assert hidden == {"locked": False, "hidden": True}, (hidden, b.read_log())
    moderate(a, pair.owner, post, "restore")
    undone = b.wait_for(UNDO_RECEIVED, ap_id=post["ap_id"])
    assert undone, "B received the Undo{Delete}"
    # The Undo was processed on B: what B shows now is final, no need to wait more.
    restored = b.run(POST_STATE, post_ap_id=post["ap_id"])
    assert restored == {"locked": False, "hidden": False}, b.read_log()


def _standing(pair: Pair, slug: str, until) -> dict:
    """The follower's standing on B in the shadow community, polled until ``until`` holds."""
    return poll(lambda: pair.b.run(STANDING, username=pair.follower, slug=slug), until=until)


def test_ban_across_instances(instances):
    """The ban on A is a Block that B applies: B refuses the post; lifting undoes it."""
    a, b = instances
    pair = Pair(a, b, "b2")
    community = pair.setup()
    slug = pair.follow(community)
    on_a = {"username": pair.owner, "member_ap_id": b.run(USER_AP_ID, name=pair.follower)}
    a.run(BAN, slug=community["slug"], **on_a)
    standing = _standing(pair, slug, lambda state: state["banned"])
    assert standing == {"banned": True, "role": None}, b.read_log()
    with pytest.raises(AssertionError):  # refused on B itself: no post leaves
        b.run(CREATE_POST, username=pair.follower, slug=slug, title="Après", body="…")
    a.run(LIFT, slug=community["slug"], **on_a)
    assert _standing(pair, slug, lambda state: not state["banned"])["banned"] is False


def test_role_change_to_moderator_is_seen_remotely(instances):
    a, b = instances
    pair = Pair(a, b, "m1")
    community = pair.setup()
    slug = pair.follow(community)
    bruno = b.run(USER_AP_ID, name=pair.follower)
    on_a = {"username": pair.owner, "member_ap_id": bruno, "slug": community["slug"]}
    a.run(CHANGE_ROLE, role="moderator", **on_a)
    moderators = requests.get(
        f"{community['ap_id']}/moderators",
        headers={"Accept": "application/activity+json"},
        timeout=10,
    ).json()
    assert bruno in moderators["orderedItems"]
    standing = _standing(pair, slug, lambda state: state["role"] == "moderator")
    assert standing["role"] == "moderator", b.read_log()
    a.run(CHANGE_ROLE, role="member", **on_a)
    assert _standing(pair, slug, lambda state: state["role"] == "member")["role"] == "member"
