"""The instance configuration in the archive: without its secrets by default, with them on
``--with-secrets``; archives are private files in BACKUP_PATH by default."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from maillage.platform.backup.configuration import redact
from tests.platform.backup.conftest import run_cli

SECRETS = [
    "cle-secrete-de-l-instance-0123456789abcdef",
    "mot-de-passe-smtp",
    "secret-client-oidc-abcdef",
    "mot-de-passe-ldap",
    "mdp-dans-l-url",
    "mot-de-passe-de-l-environnement",
    "cle-generee-dans-le-dossier-instance-0123456789",
]
CONFIG_PY = f"""
SECRET_KEY = "{SECRETS[0]}"
INSTANCE_NAME = "Réseau des acheteurs"
MAIL_SERVER = "smtp.example.gouv.fr"
MAIL_PASSWORD = "{SECRETS[1]}"
AUTH_PROVIDERS = [
    {{"name": "agents", "type": "oidc", "client_id": "maillage", "client_secret": "{SECRETS[2]}"}},
    {{
        "name": "annuaire",
        "type": "ldap",
        "bind_dn": "cn=maillage",
        "bind_password": "{SECRETS[3]}",
    }},
]
RATELIMIT_STORAGE_URI = "redis://:{SECRETS[4]}@cache.example:6379/2"
"""


@pytest.fixture
def configured(app, monkeypatch) -> Path:
    """The instance folder holds a config.py with secrets and a generated secret_key file; the
    environment sets a password too."""
    instance = Path(app.instance_path)
    (instance / "config.py").write_text(CONFIG_PY)
    (instance / "secret_key").write_text(SECRETS[6] + "\n")
    monkeypatch.setenv("MAILLAGE_MAIL_PASSWORD", SECRETS[5])
    monkeypatch.setenv("MAILLAGE_MAIL_PORT", "587")
    return instance


def _archive_in(folder: Path) -> Path:
    (path,) = folder.glob("*.tar")
    return path


def _member(path: Path, name: str) -> str:
    with tarfile.open(path) as tar:
        return tar.extractfile(name).read().decode()


def test_by_default_the_archive_holds_no_secret(app, configured):
    result = run_cli(app, "backup")
    assert result.exit_code == 0, result.output
    folder = Path(app.config["BACKUP_PATH"])
    assert folder.stat().st_mode & 0o777 == 0o700
    path = _archive_in(folder)
    assert path.stat().st_mode & 0o777 == 0o600
    data = path.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in data
    with tarfile.open(path) as tar:
        assert "config/secret_key" not in tar.getnames()
    config = _member(path, "config/config.py")
    assert "INSTANCE_NAME = 'Réseau des acheteurs'" in config
    assert "# SECRET_KEY = …  (secret retiré de la sauvegarde : à redéfinir)" in config
    assert "'client_id': 'maillage'" in config
    assert "'client_secret': '<secret retiré de la sauvegarde : à redéfinir>'" in config
    assert "redis://:***@cache.example:6379/2" in config
    environment = _member(path, "config/environment.env")
    assert "MAILLAGE_MAIL_PORT=587" in environment
    assert "# MAILLAGE_MAIL_PASSWORD=…" in environment
    compile(config, "config.py", "exec")  # still a Python file


def test_with_secrets_the_archive_holds_them_and_the_restore_installs_the_key(
    app, configured, new_instance, tmp_path
):
    result = run_cli(app, "backup", "--with-secrets", "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "AVEC ses secrets" in result.output
    path = _archive_in(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    data = path.read_bytes()
    for secret in SECRETS:
        assert secret.encode() in data
    assert _member(path, "config/config.py") == CONFIG_PY
    target = new_instance("with-secrets")
    restored = run_cli(target, "restore", str(path))
    assert restored.exit_code == 0, restored.output
    key_file = Path(target.instance_path) / "secret_key"
    assert key_file.read_text().strip() == SECRETS[6]
    assert key_file.stat().st_mode & 0o777 == 0o600
    copied = Path(target.instance_path) / "restored-config" / "config.py"
    assert copied.read_text() == CONFIG_PY  # beside the instance's configuration, not over it
    assert not (Path(target.instance_path) / "config.py").exists()


def test_secrets_are_found_at_any_depth():
    assert redact(
        {"providers": [{"Client_Secret": "x", "private_key": "y", "scope": "openid"}]}
    ) == {
        "providers": [
            {
                "Client_Secret": "<secret retiré de la sauvegarde : à redéfinir>",
                "private_key": "<secret retiré de la sauvegarde : à redéfinir>",
                "scope": "openid",
            }
        ]
    }
    assert redact("postgresql://maillage:pw@db/maillage") == "postgresql://maillage:***@db/maillage"
    assert redact("https://example.gouv.fr/a@b") == "https://example.gouv.fr/a@b"
