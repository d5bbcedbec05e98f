"""Test fixtures: a real database (SQLite file, or PostgreSQL when ``MAILLAGE_TEST_DATABASE_URL``
says so), migrated once per run with Alembic, emptied after each test; an app per test with its
own instance folder (mail folder, Whoosh index) and Celery in eager mode.

Factories (``create_user``, ``create_community``, ``create_post``) call the real operations.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, make_url, text

from maillage.platform.app import create_app
from maillage.platform.extensions import db

TEST_DATABASE_URL = os.environ.get("MAILLAGE_TEST_DATABASE_URL", "")
TEST_BROKER_URL = os.environ.get("MAILLAGE_TEST_BROKER_URL", "")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The test database, migrated to head once for the whole run."""
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    url = _reset_schema(url)
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "CELERY_ALWAYS_EAGER": True},
        instance_path=tmp_path_factory.mktemp("migrate-instance"),
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def _reset_schema(url: str) -> str:
    """An empty PostgreSQL schema for this run: ``public``, or one per pytest-xdist worker (the
    workers share the ``test`` database); returns the URL that selects it."""
    if not url.startswith("postgresql"):
        return url
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    # Several runs may share the database (two checkouts, parallel work): a prefix keeps apart.
    prefix = os.environ.get("MAILLAGE_TEST_SCHEMA_PREFIX", "")
    schema = f"{prefix or 'test'}_{worker or 'main'}" if (worker or prefix) else "public"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    if schema == "public":
        return url
    return (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """Override to change one test's configuration."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-with-enough-length-123456",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CELERY_ALWAYS_EAGER": True,
        "CELERY_BROKER_URL": TEST_BROKER_URL or "memory://",
        "BASE_URL": "https://maillage.test",
        "SEARCH_INDEX_PATH": str(tmp_path / "index"),
        "MAIL_FOLDER": str(tmp_path / "mail"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOG_LEVEL": "WARNING",
        # Real Argon2id, at the lowest cost: the suite hashes hundreds of passwords.
        "PASSWORD_HASH_TIME_COST": 1,
        # RSA keys of actors are made on first use instead (one test checks creation time).
        "FEDERATION_GENERATE_KEYS_ON_CREATE": False,
        "PASSWORD_HASH_MEMORY_COST": 1024,
    }


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The ``app`` fixture keeps an app context pushed for the test's own code; without this, Flask
    would reuse it for requests and ``g`` (current user, cached roles) and the database session
    would leak from one request to the next.  After a request, the test's session forgets what
    it had loaded, so the test reads what the request wrote.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture
def app(app_config, tmp_path, request):
    app = create_app(app_config, instance_path=tmp_path / "instance")
    app.test_client_class = IsolatedClient
    with app.app_context():
        if "fresh_install" not in request.fixturenames:
            _mark_setup_done(app)
        yield app
        db.session.remove()
        _empty_database()
        db.engine.dispose()


def _mark_setup_done(app) -> None:
    """Tests create their data directly: their instance counts as set up (first-run setup is
    tested with ``fresh_install``).  One row in the database (a live server reads it) and the
    app's memory of it, so requests make no query for it."""
    from maillage.platform.firstrun.operations import mark_setup_done
    from maillage.platform.firstrun.queries import remember_setup_done

    mark_setup_done()
    db.session.commit()
    remember_setup_done(app)


@pytest.fixture
def fresh_install(app):
    """Ask for it to get an instance whose first-run setup is not done (the ``app`` fixture
    then does not mark it done)."""
    return app


def _empty_database() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            _empty_postgresql(connection, tables)
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


def _empty_postgresql(connection, tables: list[str]) -> None:
    """Empty what the test filled and restart the sequences it used, as a fresh database.

    A TRUNCATE of every table costs about a second on PostgreSQL (each table gets new files)
    whatever they hold; one query finds the few tables a test wrote to, and deleting their rows
    (children first) costs milliseconds.
    """
    probe = " UNION ALL ".join(
        f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM \"{table}\")" for table in tables
    )
    filled = {name for (name,) in connection.execute(text(probe))}
    for table in tables:
        if table in filled:
            connection.execute(text(f'DELETE FROM "{table}"'))
    used = connection.execute(
        text(
            "SELECT sequencename FROM pg_sequences"
            " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        )
    ).scalars()
    for sequence in list(used):
        connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_client(client):
    """Every test client enforces CSRF, as production does; this name says a test relies on it."""
    return client


# -- factories ---------------------------------------------------------------------------------

_sequence = itertools.count(1)


@pytest.fixture
def create_organisation(app):
    from maillage.communities.organisations.operations import create_organisation as create

    def factory(name=None, kind="state_service", siret=None):
        organisation = create(name or f"Organisation {next(_sequence)}", kind, siret)
        db.session.commit()
        return organisation

    return factory


@pytest.fixture
def create_user(app, create_organisation):
    from maillage.communities.users.operations import create_user as create

    def factory(
        username=None,
        *,
        password="correct horse battery",
        organisation=None,
        email=None,
        display_name=None,
        is_admin=False,
        locale=None,
    ):
        username = username or f"user{next(_sequence)}"
        user = create(
            username,
            display_name or username.capitalize(),
            email or f"{username}@example.gouv.fr",
            password,
            organisation=organisation or create_organisation(),
            is_admin=is_admin,
        )
        user.locale = locale
        db.session.commit()
        return user

    return factory


@pytest.fixture
def create_community(app, create_user):
    from maillage.communities.community.operations import add_membership
    from maillage.communities.community.operations import create_community as create

    def factory(
        name=None,
        *,
        owner=None,
        visibility="public",
        join_policy="open",
        members=(),
        slug=None,
        description="",
    ):
        owner = owner or create_user()
        community = create(
            owner,
            name or f"Communauté {next(_sequence)}",
            slug=slug,
            description=description,
            visibility=visibility,
            join_policy=join_policy,
        )
        for member in members:
            user, role = member if isinstance(member, tuple) else (member, "member")
            add_membership(community, user, role)
        db.session.commit()
        return community

    return factory


@pytest.fixture
def create_post(app):
    from maillage.communities.posts.operations import create_post as create

    def factory(community, author, title="Une publication", body="Du **texte**."):
        post = create(community, author, title, body)
        db.session.commit()
        return post

    return factory


def login(client, user) -> None:
    """Sign ``user`` in on ``client`` without going through the login form (``None``: sign out).

    Sets the session identifier Flask-Login's strong session protection checks, computed for
    the client's own address and user agent.
    """
    from maillage.platform.extensions import login_manager

    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = login_manager._session_identifier_generator()
    value = open_test_session(client.application, user) if user is not None else None
    with client.session_transaction() as session:
        session.clear()
        if value is not None:
            session.update(_user_id=value, _fresh=True, _id=identifier)


def open_test_session(app, user) -> str:
    """Open a real server-side session record for ``user``; return its Flask-Login login id."""
    from maillage.auth.session import login_id
    from maillage.auth.sessions.operations import open_session
    from maillage.communities.users.models import User
    from maillage.platform.extensions import db

    # Read the id in the caller's context: loading it inside ``app``'s context would bind the
    # caller's session to ``app``'s engine (which may be another app's, e.g. one cut off).
    user_id = user.id
    with app.app_context():
        person = db.session.get(User, user_id)
        token, _record = open_session(person, user_agent="pytest", ip_address="127.0.0.1")
        value = login_id(person, token)
        db.session.commit()
    return value


@pytest.fixture
def login_as(client):
    """``login_as(user)`` (or ``login_as(None)``) makes the test's client browse as that person."""

    def do(user):
        login(client, user)
        return client

    return do


@pytest.fixture
def count_queries(app):
    """``with count_queries() as queries: ...`` then ``len(queries)``."""

    @contextlib.contextmanager
    def counter():
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK)", statement, re.IGNORECASE):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counter


@pytest.fixture
def outbox_mail(app):
    from maillage.platform.mail import read_folder

    return read_folder


# -- browser (Playwright driving Debian's chromium; never a downloaded browser) -----------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# axe-core impacts that fail a test (RGAA / WCAG 2.1 AA).
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture
def live_server(app, app_config, tmp_path):
    """The app served over real HTTP on a free loopback port (same database), CSRF enforced."""
    import threading

    from werkzeug.serving import make_server

    served = create_app({**app_config, "WTF_CSRF_ENABLED": True}, instance_path=tmp_path / "live")
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with served.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    yield context.new_page()
    context.close()


def browser_sign_in(page, base_url, username, password="correct horse battery"):
    """Sign in through the real form, as a person would."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Identifiant ou adresse e-mail").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core violations on the current page, readable in a diff."""
    from axe_playwright_python.sync_playwright import Axe

    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        f"{[node['target'] for node in violation['nodes']][:3]}"
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
