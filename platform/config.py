"""Configuration: defaults, then ``instance/config.py``, then ``MAILLAGE_*`` environment variables.

Validated once at start-up by :func:`validate`; a production instance refuses to start with a
short secret key or cookies that travel over plain HTTP.  No instance ever runs on the published
default key: without a configured key, a random one is generated once into
``instance/secret_key`` (see :func:`instance_secret_key`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

#: The key published in the source: never used to sign anything (replaced at start-up).
DEFAULT_SECRET_KEY = "dev-secret-key-change-me"  # noqa: S105 - the value never used
#: Where a generated secret key is kept, in the instance folder.
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name
#: Shortest secret key accepted: in production when configured, always in the key file.
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot run safely."""


def defaults(instance_path: Path) -> dict:
    """The embedded defaults: everything on one machine, nothing to install."""
    return {
        "ENV": "development",
        "SECRET_KEY": DEFAULT_SECRET_KEY,
        "BASE_URL": "http://127.0.0.1:5000",
        "INSTANCE_NAME": "Maillage",
        "INSTANCE_LOGO_URL": "",
        "BRAND_COLOR": "#000091",
        "BRAND_COLOR_TEXT": "#ffffff",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_path / 'maillage.sqlite'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "CELERY_BROKER_URL": f"sqla+sqlite:///{instance_path / 'celery-broker.sqlite'}",
        "CELERY_ALWAYS_EAGER": False,
        "SEARCH_BACKEND": "whoosh",
        "SEARCH_INDEX_PATH": str(instance_path / "search-index"),
        "MAIL_SERVER": "",
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_FROM": "Maillage <no-reply@maillage.localhost>",
        "MAIL_FOLDER": str(instance_path / "mail"),
        "SIGNUP_ENABLED": True,
        # Sign-in: providers by type (see the README), instance-wide access rules, local
        # passwords, and whether local accounts must use a second factor.
        "AUTH_PROVIDERS": [],
        "AUTH_ACCESS_RULES": {},
        "AUTH_LOCAL_ENABLED": True,
        "AUTH_REQUIRE_TOTP_FOR_LOCAL": False,
        # Seconds the admin providers page waits for each provider's live check.
        "AUTH_PROVIDER_CHECK_TIMEOUT": 5,
        # E-mail of notifications: immediate, daily, weekly or off until a person chooses.
        "NOTIFICATIONS_DEFAULT_MODE": "daily",
        "NOTIFICATIONS_UNSUBSCRIBE_VALID_DAYS": 180,
        "NOTIFICATIONS_RETENTION_DAYS": 180,
        "PASSWORD_HASH_TIME_COST": 3,
        "PASSWORD_HASH_MEMORY_COST": 65536,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "MAX_MARKDOWN_LENGTH": 50_000,
        # Documents: files under instance/ (never named after the upload), types checked on
        # content, previews bounded.
        "FILES_PATH": str(instance_path / "files"),
        "DOCUMENT_MAX_SIZE": 25 * 1024 * 1024,
        "DOCUMENT_ALLOWED_TYPES": [
            "pdf",
            "png",
            "jpeg",
            "gif",
            "webp",
            "odt",
            "ods",
            "odp",
            "docx",
            "xlsx",
            "pptx",
            "txt",
            "csv",
            "md",
        ],
        "DOCUMENT_PREVIEW_MAX_PIXELS": 30_000_000,
        "DOCUMENT_TEXT_PREVIEW_BYTES": 64 * 1024,
        "DOCUMENT_INDEX_TEXT_LIMIT": 50_000,
        "DOCUMENT_PDF_PREVIEW": True,
        "DOCUMENTS_PAGE_SIZE": 50,
        "INVITATION_VALID_DAYS": 14,
        "PASSWORD_RESET_VALID_SECONDS": 3600,
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "LANGUAGES": ["fr", "en"],
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_LOGIN": "10 per minute;50 per hour",
        "RATELIMIT_SIGNUP": "10 per minute;50 per hour",
        "RATELIMIT_PASSWORD_RESET": "10 per minute;50 per hour",
        "RATELIMIT_PASSWORD_RESET_PER_ADDRESS": "5 per hour",
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # None: secure in production, not on the development server (plain http).
        "SESSION_COOKIE_SECURE": None,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "FEED_PAGE_SIZE": 20,
        "DIRECTORY_PAGE_SIZE": 24,
        # Facilitators: the training certificate may be required before someone is made
        # facilitator or owner of a community.
        "TRAINING_REQUIRED_FOR_FACILITATOR": False,
        # Federation (ActivityPub): open, allowlist (the default between administrations) or
        # denylist; admins refine it on /admin/federation.  Loopback peers are for tests only.
        "FEDERATION_ENABLED": True,
        "FEDERATION_MODE": "allowlist",
        "FEDERATION_ALLOW_LOOPBACK": False,
        "FEDERATION_GENERATE_KEYS_ON_CREATE": True,
        "FEDERATION_SIGNATURE_WINDOW": 3600,
        "FEDERATION_DEAD_AFTER_DAYS": 7,
        "FEDERATION_MAX_BODY": 1024 * 1024,
        "FEDERATION_FETCH_TIMEOUT": 10,
        "FEDERATION_DELIVERY_CONCURRENCY": 4,
        # Seconds a fetched remote actor is trusted before it is fetched again.
        "FEDERATION_ACTOR_MAX_AGE": 86400,
        # Moderation: reports one person may file per hour (beyond: a clear refusal).
        "MODERATION_REPORTS_PER_HOUR": 10,
        "RATELIMIT_REPORT": "30 per hour",
        "RATELIMIT_INVITE": "30 per hour",
        "RATELIMIT_BULK_INVITE": "10 per hour",
        # Legal pages (platform/legal): what the default texts say until admins edit them; an
        # empty value shows « à compléter ».  Publisher: the organisation that runs the instance.
        "LEGAL_PUBLISHER": "",
        "LEGAL_PUBLISHER_ADDRESS": "",
        "LEGAL_PUBLICATION_DIRECTOR": "",
        "LEGAL_HOST": "",
        "LEGAL_HOST_ADDRESS": "",
        "LEGAL_CONTACT_EMAIL": "",
        "LEGAL_DPO_EMAIL": "",
        # Days the web server's and application's logs are kept (said on the privacy page).
        "LEGAL_SERVER_LOG_DAYS": 365,
        # Seconds each process keeps the accessibility state the footer shows (read at start-up).
        "LEGAL_STATE_CACHE_SECONDS": 300,
        # Personal data: days an export archive stays downloadable before it is removed.
        "PERSONAL_DATA_EXPORT_DAYS": 7,
        # Account deletion: days a requested deletion waits (cancellable) before it runs.
        "ACCOUNT_DELETION_DELAY_DAYS": 7,
        # Inactive accounts: anonymised after this many days without a visit (0: never), once
        # warned by e-mail this many days before.
        "INACTIVE_ACCOUNT_RETENTION_DAYS": 1095,
        "INACTIVE_ACCOUNT_WARNING_DAYS": 30,
        # Sessions (auth/sessions): every sign-in is a server-side record that sign-out deletes;
        # it ends after this many hours whatever happens, or after this many idle minutes.
        "SESSION_ABSOLUTE_LIFETIME_HOURS": 720,
        "SESSION_IDLE_TIMEOUT_MINUTES": 1440,
        # Error paths: seconds a client is told to wait (Retry-After) when the database or the
        # broker is unreachable; SQLite's busy timeout before a write is retried once.
        "OUTAGE_RETRY_AFTER": 30,
        "SQLITE_BUSY_TIMEOUT": 5,
        # The worker (platform/outbox): lease a claimed item for this many seconds (extended while
        # it works); /health answers 503 when the worker's heartbeat or the oldest pending outbox
        # item is older than these many seconds.
        "OUTBOX_LEASE_SECONDS": 60,
        "HEALTH_WORKER_MAX_SILENCE": 180,
        "HEALTH_OUTBOX_MAX_AGE": 900,
        # Seconds each process reuses its /health figures (its broker check may wait 2 s).
        "HEALTH_CACHE_SECONDS": 5,
        # LDAP directory sync: what happens to a person the directory no longer finds
        # ("suspend" the account and end its sessions, or "keep" it).
        "DIRECTORY_DEPROVISION": "suspend",
        # Federation: an extra PEM bundle of certificate authorities trusted for outgoing requests
        # (an administration's own CA), on top of certifi's.
        "FEDERATION_EXTRA_CA_BUNDLE": "",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted
        # (1 behind the shipped nginx; 0 when the app faces clients directly).
        "PROXY_COUNT": 0,
        # Backups (flask maillage backup): where archives go by default.
        "BACKUP_PATH": str(instance_path / "backups"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }


# Environment variables that are not prefixed, as deployment tools commonly set them.
UNPREFIXED_ALIASES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "CELERY_BROKER_URL": "CELERY_BROKER_URL",
}


BOOLEAN_WORDS = {"1", "true", "yes", "on", "0", "false", "no", "off"}


def _coerce(raw: str, current: object) -> object:
    """Read an environment string as the type of the default it replaces."""
    if isinstance(current, bool) or (current is None and raw.lower() in BOOLEAN_WORDS):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"expected a boolean, got {raw!r}")
    if isinstance(current, int) and not isinstance(current, bool):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"expected an integer, got {raw!r}") from exc
    if isinstance(current, (list, dict)):
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"expected JSON, got {raw!r}") from exc
    return raw


def from_environment(config: dict, environ: dict[str, str] | None = None) -> dict:
    """Overlay ``MAILLAGE_<KEY>`` (and a few unprefixed aliases) onto ``config``."""
    environ = os.environ if environ is None else environ
    overrides: dict = {}
    for name, key in UNPREFIXED_ALIASES.items():
        if name in environ:
            overrides[key] = environ[name]
    for name, raw in environ.items():
        if name.startswith("MAILLAGE_"):
            overrides[name.removeprefix("MAILLAGE_")] = raw
    for key, raw in overrides.items():
        try:
            config[key] = _coerce(raw, config.get(key, ""))
        except ConfigError as exc:
            raise ConfigError(f"MAILLAGE_{key}: {exc}") from exc
    return config


def normalise(config: dict) -> dict:
    """Derive dependent settings so the rest of the code reads one value."""
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgres://")
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    config["SQLALCHEMY_DATABASE_URI"] = uri
    config["BASE_URL"] = config["BASE_URL"].rstrip("/")
    if config["SESSION_COOKIE_SECURE"] is None:
        config["SESSION_COOKIE_SECURE"] = config["ENV"] == "production"
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    return config


def validate(config: dict) -> None:
    """Refuse configurations that cannot run, or cannot run safely in production."""
    problems = []
    if config["BABEL_DEFAULT_LOCALE"] not in config["LANGUAGES"]:
        problems.append("BABEL_DEFAULT_LOCALE must be one of LANGUAGES")
    if not config["BASE_URL"].startswith(("http://", "https://")):
        problems.append("BASE_URL must start with http:// or https://")
    if not config["SQLALCHEMY_DATABASE_URI"].startswith(("sqlite", "postgresql")):
        problems.append("DATABASE_URL must be a SQLite or PostgreSQL URL")
    if config["FEDERATION_MODE"] not in {"open", "allowlist", "denylist"}:
        problems.append("FEDERATION_MODE must be open, allowlist or denylist")
    if config["ACCOUNT_DELETION_DELAY_DAYS"] < 0 or config["INACTIVE_ACCOUNT_RETENTION_DAYS"] < 0:
        problems.append("ACCOUNT_DELETION_DELAY_DAYS and INACTIVE_ACCOUNT_RETENTION_DAYS: >= 0")
    retention = config["INACTIVE_ACCOUNT_RETENTION_DAYS"]
    if config["INACTIVE_ACCOUNT_WARNING_DAYS"] <= 0 or (
        retention and config["INACTIVE_ACCOUNT_WARNING_DAYS"] >= retention
    ):
        problems.append("INACTIVE_ACCOUNT_WARNING_DAYS must be > 0 and below the retention")
    if config["SECRET_KEY"] in {DEFAULT_SECRET_KEY, ""}:
        problems.append("SECRET_KEY must not be the published default")
    if config["ENV"] == "production":
        problems.extend(_production_problems(config))
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems))


def _production_problems(config: dict) -> list[str]:
    """What production refuses: default secrets, plain-HTTP cookies or URLs, test-only knobs."""
    problems = []
    if config["FEDERATION_ALLOW_LOOPBACK"]:
        problems.append("FEDERATION_ALLOW_LOOPBACK is for tests only, never in production")
    if len(config["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"production needs MAILLAGE_SECRET_KEY of {MIN_SECRET_KEY_LENGTH} characters or more"
            " (or none: a random one is then generated in the instance folder)"
        )
    if not config["SESSION_COOKIE_SECURE"]:
        problems.append("production needs secure cookies (MAILLAGE_SESSION_COOKIE_SECURE=true)")
    if not config["BASE_URL"].startswith("https://"):
        problems.append("production needs an https:// MAILLAGE_BASE_URL")
    return problems


def load(instance_path: Path, overrides: dict | None = None) -> dict:
    """Build the validated configuration for an app whose instance folder is ``instance_path``."""
    config = defaults(instance_path)
    instance_file = instance_path / "config.py"
    if instance_file.is_file():
        namespace: dict = {}
        exec(compile(instance_file.read_text(), str(instance_file), "exec"), namespace)  # noqa: S102
        config.update({k: v for k, v in namespace.items() if k.isupper()})
    from_environment(config)
    config.update(overrides or {})
    if not is_configured_secret(config.get("SECRET_KEY")):
        config["SECRET_KEY"] = instance_secret_key(instance_path)
    normalise(config)
    validate(config)
    return config


# -- the secret key -----------------------------------------------------------------------------


def is_configured_secret(key: object) -> bool:
    """Whether ``key`` was really chosen: not missing, not empty, not the published default."""
    if isinstance(key, bytes):
        return bool(key.strip())
    return isinstance(key, str) and key.strip() not in {"", DEFAULT_SECRET_KEY}


def instance_secret_key(instance_path: Path) -> str:
    """The instance's own secret key from ``instance/secret_key``, generated on first use.

    The file is created once, readable by its owner only (0600), and atomically: the key is
    written to a private temporary file which is then hard-linked to its final name, an
    operation that fails if the name exists.  So two processes starting together (web server
    and worker) agree: the second one to link reads the first one's complete key.
    """
    path = Path(instance_path) / SECRET_KEY_FILE
    try:
        if not path.exists():
            _create_secret_key_file(path)
        return _read_secret_key_file(path)
    except OSError as exc:
        raise ConfigError(
            f"no MAILLAGE_SECRET_KEY configured and {path} cannot be created or read ({exc})"
        ) from exc


def _create_secret_key_file(path: Path) -> None:
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: keep theirs
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_secret_key_file(path: Path) -> str:
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(OSError):
            path.chmod(0o600)  # restored by hand or by a loose umask: owner only again
    key = path.read_text().strip()
    if len(key) < MIN_SECRET_KEY_LENGTH or key == DEFAULT_SECRET_KEY:
        raise ConfigError(
            f"{path} holds no usable secret key ({MIN_SECRET_KEY_LENGTH} characters or more):"
            " remove it to have a new one generated (every session then ends)"
        )
    return key
