"""The secret key: never the published default, whatever the mode.  Without a configured key, a
random one is generated once into ``instance/secret_key`` (0600, created atomically) and reused.

Regression: started without ``MAILLAGE_ENV=production``, the app signed sessions with the
published default key, so anyone could forge a signed-in session cookie or a reset link.
"""

from __future__ import annotations

import hashlib
import hmac
import stat
import threading

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from maillage.platform.config import (
    DEFAULT_SECRET_KEY,
    SECRET_KEY_FILE,
    ConfigError,
    instance_secret_key,
    load,
)
from tests.conftest import open_test_session

HTTPS = {"BASE_URL": "https://maillage.test"}


@pytest.fixture
def no_secret_key(app_config):
    """The test app as an instance that configures no secret key."""
    del app_config["SECRET_KEY"]
    return app_config


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_without_a_key_one_is_generated_once_owner_only(tmp_path):
    key = load(tmp_path)["SECRET_KEY"]
    path = tmp_path / SECRET_KEY_FILE
    assert key != DEFAULT_SECRET_KEY
    assert len(key) >= 32
    assert path.read_text().strip() == key
    assert _mode(path) == 0o600
    assert load(tmp_path)["SECRET_KEY"] == key  # reused at the next start
    assert load(tmp_path / "other")["SECRET_KEY"] != key  # each instance its own


@pytest.mark.parametrize("env", ["development", "production"])
def test_the_published_key_is_never_used(tmp_path, monkeypatch, env):
    monkeypatch.setenv("MAILLAGE_SECRET_KEY", DEFAULT_SECRET_KEY)
    config = load(tmp_path, {"ENV": env, **HTTPS})
    assert config["SECRET_KEY"] != DEFAULT_SECRET_KEY
    assert config["SECRET_KEY"] == (tmp_path / SECRET_KEY_FILE).read_text().strip()


def test_a_configured_key_is_used_and_no_file_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILLAGE_SECRET_KEY", "k" * 40)
    assert load(tmp_path, {"ENV": "production", **HTTPS})["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def test_production_still_refuses_a_short_configured_key(tmp_path):
    with pytest.raises(ConfigError, match="32 characters"):
        load(tmp_path, {"ENV": "production", "SECRET_KEY": "too-short", **HTTPS})


def test_processes_starting_together_agree_on_one_key(tmp_path):
    """Web server and worker start at once on a new instance: one key, whoever links first."""
    start = threading.Barrier(12)
    keys: list[str] = []

    def start_up():
        start.wait()
        keys.append(instance_secret_key(tmp_path))

    threads = [threading.Thread(target=start_up) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 12
    assert len(set(keys)) == 1
    assert [path.name for path in tmp_path.iterdir()] == [SECRET_KEY_FILE]  # no leftovers


def test_loose_permissions_are_tightened(tmp_path):
    key = instance_secret_key(tmp_path)
    path = tmp_path / SECRET_KEY_FILE
    path.chmod(0o644)
    assert instance_secret_key(tmp_path) == key
    assert _mode(path) == 0o600


def test_an_unusable_key_file_is_a_clear_start_up_error(tmp_path):
    (tmp_path / SECRET_KEY_FILE).write_text(DEFAULT_SECRET_KEY)
    with pytest.raises(ConfigError, match="no usable secret key"):
        load(tmp_path)


def _identifier(client) -> str:
    """What Flask-Login's strong session protection expects for this client."""
    from maillage.platform.extensions import login_manager

    with client.application.test_request_context(environ_base=client.environ_base):
        return login_manager._session_identifier_generator()


def test_a_session_forged_with_the_published_key_opens_nothing(
    no_secret_key, app, client, create_user
):
    admin = create_user("alix", is_admin=True)
    assert app.config["SECRET_KEY"] != DEFAULT_SECRET_KEY
    interface = SecureCookieSessionInterface()
    forged = URLSafeTimedSerializer(
        DEFAULT_SECRET_KEY,
        salt=interface.salt,
        serializer=interface.serializer,
        signer_kwargs={
            "key_derivation": interface.key_derivation,
            "digest_method": interface.digest_method,
        },
    ).dumps(
        # a live server-side session: only the key stands between the forger and the admin
        {"_user_id": open_test_session(app, admin), "_fresh": True, "_id": _identifier(client)}
    )
    client.set_cookie("session", forged)
    assert client.get("/admin/people").status_code in (302, 403)
    assert client.get("/account").status_code == 302


def test_a_reset_link_forged_with_the_published_key_opens_nothing(
    no_secret_key, client, create_user
):
    from maillage.auth.local import operations

    user = create_user("dominique")
    message = f"{user.id}|{user.password_hash}|{user.email}".encode()
    fingerprint = hmac.new(DEFAULT_SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]
    forged = URLSafeTimedSerializer(DEFAULT_SECRET_KEY, salt=operations.RESET_SALT).dumps(
        {"u": user.id, "f": fingerprint}
    )
    assert client.get(f"/password/reset/{forged}").status_code == 400
