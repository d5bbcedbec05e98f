"""The application factory."""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from flask import Flask, Request, g, request, session
from flask.globals import request_ctx
from flask.sessions import NullSession
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.exc import OperationalError
from werkzeug.routing import IntegerConverter, ValidationError

from maillage.platform import config as config_module
from maillage.platform.celery_app import apply_beat_schedule, init_celery
from maillage.platform.db import (
    MAX_DATABASE_INTEGER,
    database_failure,
    retry_once_if_busy,
    use_busy_timeout,
)
from maillage.platform.errors import (
    UnstorableText,
    refuse_unstorable_url,
    register_error_handlers,
    unstorable,
    unstorable_fields,
)
from maillage.platform.extensions import babel, csrf, db, limiter, login_manager, migrate
from maillage.platform.logging import configure_logging

T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

#: Feature areas, in dependency order.  Each is a package with the same file names (see
#: DESIGN.md); the app imports, when the package has them: ``models`` (so Alembic sees the whole
#: schema), ``rules`` (their rules in the one permission policy, communities.permissions),
#: ``subscribers`` (signal subscribers, outbox handlers, search providers), ``tasks``
#: (Celery tasks, periodic ones included), ``personal_data`` (how their models' personal data is
#: exported and erased, platform.personal_data.registry) and ``blueprint`` (registered on the app).
FEATURE_PACKAGES = (
    "maillage.communities.organisations",
    "maillage.communities.users",
    "maillage.communities.community",
    "maillage.communities.posts",
    "maillage.communities.discussions",
    "maillage.communities.events",
    "maillage.communities.documents",
    "maillage.communities.wiki",
    "maillage.communities.polls",
    "maillage.communities.kanban",
    "maillage.communities.moderation",
    "maillage.communities.animation",
    "maillage.communities.analytics",
    "maillage.communities.training",
    "maillage.communities.oversight",
    "maillage.communities.search",
    "maillage.platform.portal",
    "maillage.platform.api",
    "maillage.platform.audit",
    "maillage.platform.outbox",
    "maillage.platform.health",
    "maillage.platform.notifications",
    "maillage.platform.admin",
    "maillage.platform.firstrun",
    "maillage.platform.people",
    "maillage.platform.legal",
    "maillage.platform.personal_data",
    "maillage.platform.account_deletion",
    "maillage.auth.local",
    "maillage.auth.tokens",
    "maillage.auth.identities",
    "maillage.auth.providers",
    "maillage.auth.twofactor",
    "maillage.auth.sessions",
    "maillage.auth.directory",
    "maillage.auth.oidc",
    "maillage.auth.ldap",
    "maillage.federation.transport",
    "maillage.federation.actors",
    "maillage.federation.groups",
    "maillage.federation.outgoing",
)

#: Modules outside that convention whose import registers subscribers and handlers.
SUBSCRIBERS = (
    "maillage.platform.mail",
    "maillage.platform.search.indexing",
    "maillage.communities.search.providers",
)


def feature_modules(part: str) -> list[str]:
    """The ``<package>.<part>`` modules that exist, in FEATURE_PACKAGES order."""
    from importlib.util import find_spec

    return [
        f"{package}.{part}"
        for package in FEATURE_PACKAGES
        if find_spec(package) is not None and find_spec(f"{package}.{part}") is not None
    ]


class CheckedRequest(Request):
    """The request, refusing text no database can store (NUL, lone surrogates) the moment its
    body is parsed — form fields, upload names, JSON — whoever reads it first (the CSRF check, a
    view, the API).  With :func:`maillage.platform.errors.refuse_unstorable_url` for the URL, the
    one place every form, API call and lookup goes through."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        names = [upload.filename or "" for upload in self.files.values()]
        if unstorable_fields(self.form) or unstorable(names):
            raise UnstorableText  # (the uploads are closed with the request, as always)

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        data = super().get_json(force=force, silent=silent, cache=cache)
        if unstorable(data):
            raise UnstorableText
        return data


class MaillageFlask(Flask):
    """Flask, with the request's steps retried once when SQLite is busy (see
    :func:`maillage.platform.db.retry_once_if_busy` for when that is safe), each retry starting
    from the browser session the step found (:class:`SessionSnapshot`)."""

    request_class = CheckedRequest

    def preprocess_request(self):
        return retry_once_if_busy(SessionSnapshot.around(super().preprocess_request))

    def dispatch_request(self):
        return retry_once_if_busy(SessionSnapshot.around(super().dispatch_request))


class SessionSnapshot:
    """The browser session as a request step found it, put back when the step fails on a busy
    SQLite having committed nothing — before its retry, and before the 503 if the retry fails.

    The failed attempt's transaction is rolled back, but not what it did to the Flask session:
    an OpenID Connect callback that had popped its ``state`` would, run again, find it gone
    (« Ce retour de connexion n'est plus valable » instead of the 503), and messages flashed by
    the first attempt would show twice.  So the session's contents (flashed messages included,
    copied deeply: :func:`flask.flash` appends to the stored list), its ``modified`` and
    ``accessed`` flags, the messages already taken out for this page and the user Flask-Login
    holds for the request are put back."""

    _LOGIN_USER = "_login_user"  # where Flask-Login keeps the request's user, in ``g``
    _MISSING = object()

    def __init__(self) -> None:
        stored = request_ctx.session
        self.contents = copy.deepcopy(dict.copy(stored))  # (no read: ``accessed`` unchanged)
        self.modified, self.accessed = stored.modified, stored.accessed
        self.flashes = copy.deepcopy(request_ctx.flashes)
        self.login_user = g.get(self._LOGIN_USER, self._MISSING)

    @classmethod
    def around(cls, step: Callable[[], T]) -> Callable[[], T]:
        """``step``, leaving the session as it found it when it fails busy without a commit."""
        if isinstance(request_ctx.session, NullSession):  # no secret key: nothing to restore
            return step
        snapshot = cls()

        def run() -> T:
            commits = g.get("database_commits", 0)
            try:
                return step()
            except OperationalError as error:
                if database_failure(error) == "busy" and g.get("database_commits", 0) == commits:
                    snapshot.restore()
                raise

        return run

    def restore(self) -> None:
        stored = request_ctx.session
        dict.clear(stored)
        dict.update(stored, copy.deepcopy(self.contents))
        stored.modified, stored.accessed = self.modified, self.accessed
        request_ctx.flashes = copy.deepcopy(self.flashes)
        if self.login_user is self._MISSING:
            g.pop(self._LOGIN_USER, None)
        else:
            setattr(g, self._LOGIN_USER, self.login_user)


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` for every route: values outside the INTEGER column range do not match (404),
    like any unknown id; route options (``min``, ``max``) can narrow the range, never widen it."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, *args, **kwargs)
        lowest, highest = -MAX_DATABASE_INTEGER - 1, MAX_DATABASE_INTEGER
        self.min = lowest if self.min is None else max(self.min, lowest)
        self.max = highest if self.max is None else min(self.max, highest)

    def to_python(self, value: str) -> int:
        if len(value.lstrip("-").lstrip("0")) > len(str(MAX_DATABASE_INTEGER)):
            raise ValidationError  # out of range whatever the digits: no need to convert
        return super().to_python(value)


def default_instance_path() -> Path:
    return Path(os.environ.get("MAILLAGE_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def create_app(
    overrides: dict | None = None, instance_path: str | os.PathLike | None = None
) -> Flask:
    instance = Path(instance_path).resolve() if instance_path else default_instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    app = MaillageFlask("maillage.platform.app", instance_path=str(instance))
    app.config.update(config_module.load(instance, overrides))
    configure_logging(app)
    app.url_map.converters["int"] = BoundedIntegerConverter  # before any route is added
    _init_extensions(app)
    _register_blueprints(app)
    register_error_handlers(app)
    _register_template_helpers(app)
    _register_request_hooks(app)
    from maillage.platform.cli import maillage_cli

    app.cli.add_command(maillage_cli)
    return app


def _init_extensions(app: Flask) -> None:
    import importlib

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            use_busy_timeout(engine, app.config["SQLITE_BUSY_TIMEOUT"])
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(app.root_path) / "translations"),
    )
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    from maillage.auth.session import init_login

    init_login(app, login_manager)
    init_celery(app)
    _init_auth_providers(app)
    for module in (
        feature_modules("models")
        + feature_modules("rules")
        + feature_modules("personal_data")
        + list(SUBSCRIBERS)
        + feature_modules("subscribers")
    ):
        importlib.import_module(module)
    for module in feature_modules("tasks"):
        importlib.import_module(module)
    apply_beat_schedule()


def _init_auth_providers(app: Flask) -> None:
    from maillage.auth.identities.access import validate_rules
    from maillage.auth.providers.registry import init_providers, providers

    validate_rules(app.config["AUTH_ACCESS_RULES"], "AUTH_ACCESS_RULES")
    init_providers(app)
    with app.app_context():
        for provider in providers().values():
            validate_rules(provider.access_rules, f"auth provider {provider.name!r}")
    app.jinja_env.globals["auth_providers"] = providers


def _register_blueprints(app: Flask) -> None:
    import importlib

    for module in feature_modules("blueprint"):
        app.register_blueprint(importlib.import_module(module).blueprint)


def select_locale() -> str:
    """The person's choice (account, then the language switch's cookie), else French.

    Web pages do not follow the browser's Accept-Language: agents often run English-configured
    browsers and the platform is French by default.  The JSON API, used by programs, does.
    While the database is unavailable (outage page), the account is not looked up.
    """
    from flask import current_app, has_request_context

    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    signed_in = not g.get("database_unavailable") and current_user.is_authenticated
    if signed_in and current_user.locale in languages:
        return current_user.locale
    chosen = request.cookies.get("lang")
    if chosen in languages:
        return chosen
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(languages) or default
    return default


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import format_datetime, get_locale

    from maillage.communities.modules import enabled_modules
    from maillage.communities.permissions import can

    app.jinja_env.globals.update(
        can=can,
        enabled_modules=enabled_modules,
        get_locale=get_locale,
        format_datetime=format_datetime,
        instance_name=lambda: app.config["INSTANCE_NAME"],
        person_link=person_link,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def person_link(person) -> Markup:
    """A person's name linking to their profile; a deleted account (« Ancien membre ») is a name
    without a link, since its profile is gone.  A function, not a macro: feeds call it per item."""
    from flask import url_for
    from flask_babel import gettext

    if person.deleted_at is not None:
        return Markup('<span class="former-member">{}</span>').format(gettext("Ancien membre"))
    name = escape(person.display_name)
    href = url_for("users.profile", username=person.username)
    return Markup('<a href="{}">{}</a>').format(href, name)


def _register_request_hooks(app: Flask) -> None:
    # First of all hooks, those of extensions and blueprints included: some look things up by
    # the URL's path before any view runs (federation content negotiation).
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unstorable_url)

    @app.before_request
    def assign_request_id():
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        if session.modified:
            response.headers["Cache-Control"] = "no-store"
        return response
