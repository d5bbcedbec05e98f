import pytest

from maillage.platform.app import create_app
from maillage.platform.config import DEFAULT_SECRET_KEY, ConfigError, from_environment, load


def test_environment_variables_override_defaults_with_types(tmp_path):
    config = from_environment(
        {"SIGNUP_ENABLED": True, "FEED_PAGE_SIZE": 20, "LANGUAGES": ["fr"], "INSTANCE_NAME": "M"},
        {
            "MAILLAGE_SIGNUP_ENABLED": "false",
            "MAILLAGE_FEED_PAGE_SIZE": "50",
            "MAILLAGE_LANGUAGES": '["fr", "en"]',
            "MAILLAGE_INSTANCE_NAME": "Réseau Sud",
            "OTHER": "ignored",
        },
    )
    assert config == {
        "SIGNUP_ENABLED": False,
        "FEED_PAGE_SIZE": 50,
        "LANGUAGES": ["fr", "en"],
        "INSTANCE_NAME": "Réseau Sud",
    }


def test_bad_typed_environment_value_is_a_clear_start_up_error():
    with pytest.raises(ConfigError, match="MAILLAGE_FEED_PAGE_SIZE"):
        from_environment({"FEED_PAGE_SIZE": 20}, {"MAILLAGE_FEED_PAGE_SIZE": "many"})


def test_database_url_alias_is_normalised_to_psycopg(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.internal/maillage")
    assert (
        load(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.internal/maillage"
    )


def test_instance_file_is_read(tmp_path):
    (tmp_path / "config.py").write_text('INSTANCE_NAME = "Maillage Occitanie"\nlowercase = 1\n')
    config = load(tmp_path)
    assert config["INSTANCE_NAME"] == "Maillage Occitanie"
    assert "lowercase" not in config


def test_production_never_runs_on_the_default_secret_key(tmp_path):
    app = create_app({"ENV": "production", "BASE_URL": "https://m.gouv.fr"}, instance_path=tmp_path)
    assert app.config["SECRET_KEY"] != DEFAULT_SECRET_KEY
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load(tmp_path, {"ENV": "production", "SECRET_KEY": "short", "BASE_URL": "https://m.fr"})


def test_production_refuses_plain_http_base_url(tmp_path):
    with pytest.raises(ConfigError, match="https"):
        load(tmp_path, {"ENV": "production", "SECRET_KEY": "x" * 40, "BASE_URL": "http://m.fr"})


def test_production_with_a_real_secret_starts_with_secure_cookies(tmp_path):
    config = load(
        tmp_path,
        {"ENV": "production", "SECRET_KEY": "s" * 40, "BASE_URL": "https://maillage.gouv.fr"},
    )
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SECRET_KEY"] != DEFAULT_SECRET_KEY


def test_unknown_database_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load(tmp_path, {"SQLALCHEMY_DATABASE_URI": "mysql://root@localhost/m"})


def test_production_refuses_cookies_explicitly_made_insecure(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILLAGE_SESSION_COOKIE_SECURE", "false")
    with pytest.raises(ConfigError, match="secure cookies"):
        load(
            tmp_path,
            {"ENV": "production", "SECRET_KEY": "s" * 40, "BASE_URL": "https://maillage.gouv.fr"},
        )


def test_development_cookies_work_over_plain_http(tmp_path):
    assert load(tmp_path)["SESSION_COOKIE_SECURE"] is False


def test_unknown_federation_mode_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="FEDERATION_MODE"):
        load(tmp_path, {"FEDERATION_MODE": "everyone"})


def test_loopback_federation_is_refused_in_production(tmp_path):
    settings = {"ENV": "production", "SECRET_KEY": "x" * 40, "BASE_URL": "https://m.gouv.fr"}
    with pytest.raises(ConfigError, match="LOOPBACK"):
        load(tmp_path, {**settings, "FEDERATION_ALLOW_LOOPBACK": True})


def test_federation_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILLAGE_FEDERATION_MODE", "open")
    monkeypatch.setenv("MAILLAGE_FEDERATION_ALLOW_LOOPBACK", "true")
    config = load(tmp_path)
    assert config["FEDERATION_MODE"] == "open"
    assert config["FEDERATION_ALLOW_LOOPBACK"] is True
