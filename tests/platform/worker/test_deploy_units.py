"""The systemd units and the nginx example in deploy/: checked by ``systemd-analyze verify``
(where it exists) on a copy whose paths point at this checkout, and read for what they promise;
the environment file example: the same for systemd and sh, only settings the application reads."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from maillage.platform.cli import WORKER_OPTIONS

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
UNITS = ("maillage-web.service", "maillage-worker.service", "maillage-beat.service")
HARDENING = {
    "NoNewPrivileges": "yes",
    "PrivateTmp": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
}


def read_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys keep their case
    parser.read(DEPLOY / name)
    return parser


def local_copy(name: str, folder: Path) -> Path:
    """The unit with the installation's paths replaced by this checkout's, so that its
    ExecStart binaries (the virtualenv's gunicorn and celery) resolve here."""
    venv_bin = str(Path(sys.executable).parent)
    checkout = str(DEPLOY.parent)
    text = (DEPLOY / name).read_text()
    text = text.replace("/opt/maillage/.venv/bin", venv_bin).replace("/opt/maillage", checkout)
    text = text.replace("/etc/maillage/maillage.env", str(folder / "maillage.env"))
    text = text.replace("/var/lib/maillage", str(folder))
    (folder / "maillage.env").write_text((DEPLOY / "maillage.env.example").read_text())
    target = folder / name
    target.write_text(text)
    return target


@pytest.mark.parametrize("name", UNITS)
def test_units_restart_always_with_hardening_and_an_environment_file(name):
    service = read_unit(name)["Service"]
    assert service["Restart"] == "always"
    assert service["EnvironmentFile"] == "/etc/maillage/maillage.env"
    assert service["User"] == "maillage"
    for key, value in HARDENING.items():
        assert service[key] == value, key
    assert service["ReadWritePaths"] == "/var/lib/maillage"


@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify_accepts_the_units(name, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    unit = local_copy(name, tmp_path)
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Unknown keys and the like are only warnings: any output at all fails the test.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_worker_and_beat_run_the_celery_app_that_serve_runs():
    worker = read_unit("maillage-worker.service")["Service"]["ExecStart"]
    beat = read_unit("maillage-beat.service")["Service"]["ExecStart"]
    web = read_unit("maillage-web.service")["Service"]["ExecStart"]
    assert "maillage.platform.worker:celery worker" in worker
    assert all(option in worker.split() for option in WORKER_OPTIONS)
    assert "maillage.platform.worker:celery beat" in beat
    assert "--schedule /var/lib/maillage/" in beat
    assert web.endswith("maillage.platform.wsgi:app")
    assert "--bind 127.0.0.1:" in web  # only nginx talks to gunicorn


def test_the_nginx_example_proxies_with_tls_and_forwarded_headers():
    conf = (DEPLOY / "nginx" / "maillage.conf").read_text()
    for directive in (
        "listen 443 ssl",
        "ssl_certificate ",
        "return 301 https://",
        "Strict-Transport-Security",
        "proxy_set_header X-Forwarded-For",
        "proxy_set_header X-Forwarded-Proto $scheme",
        "client_max_body_size",
        "alias /opt/maillage/platform/static/",
        "proxy_pass http://maillage_web",
    ):
        assert directive in conf, directive
    env = (DEPLOY / "maillage.env.example").read_text()
    assert "MAILLAGE_PROXY_COUNT=1" in env  # the app trusts exactly the one proxy


def test_nginx_accepts_the_example_where_nginx_exists(tmp_path):
    """``nginx -t`` on the example, with a throwaway certificate in place of the real one."""
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx (or openssl) is not installed here")
    certificate, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subject = ["-subj", "/CN=maillage.test", "-keyout", str(key), "-out", str(certificate)]
    subprocess.run(
        [openssl, *request, *subject],
        capture_output=True,
        check=True,
        timeout=60,
    )
    site = (DEPLOY / "nginx" / "maillage.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/maillage.example.gouv.fr", str(tmp_path))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"error_log {tmp_path}/error.log;\npid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{\n  access_log {tmp_path}/access.log;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr


# -- the environment file -----------------------------------------------------------------------

ENV_EXAMPLE = DEPLOY / "maillage.env.example"


def systemd_environment(path: Path) -> dict[str, str]:
    """The variables as systemd's ``EnvironmentFile=`` reads them (the subset the example may
    use: ``NAME=value`` lines, ``#`` comments, a value optionally in double quotes)."""
    variables = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        assert not set(value) & set("\"'\\$`"), line  # no escapes or expansions to compare
        variables[name.strip()] = value
    return variables


def shell_environment(path: Path) -> dict[str, str]:
    """The variables a POSIX shell exports after sourcing the file (``set -a; . file``)."""
    script = 'set -a; . "$1"; exec env -0'
    result = subprocess.run(
        ["/bin/sh", "-c", script, "sh", str(path)],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin"},
        check=True,
        timeout=30,
    )
    pairs = (entry.partition("=") for entry in result.stdout.decode().split("\0") if entry)
    return {name: value for name, _, value in pairs}


def test_the_environment_example_reads_the_same_for_systemd_and_sh():
    """Regression: an unquoted ``MAILLAGE_MAIL_FROM=Maillage <…>`` is a redirection to sh."""
    check = subprocess.run(
        ["/bin/sh", "-n", str(ENV_EXAMPLE)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    expected = systemd_environment(ENV_EXAMPLE)
    sourced = shell_environment(ENV_EXAMPLE)
    assert {name: sourced.get(name) for name in expected} == expected
    assert expected["MAILLAGE_MAIL_FROM"] == "Maillage <no-reply@maillage.example.gouv.fr>"


def test_every_variable_of_the_environment_example_is_a_setting():
    """No typo nobody would notice: each variable is read by the application."""
    from maillage.platform import app as app_module
    from maillage.platform.config import UNPREFIXED_ALIASES, defaults

    settings = set(defaults(Path("/var/lib/maillage")))
    read_before_the_config = {"INSTANCE_PATH"}  # where the instance folder (and config) is
    assert all(
        f"MAILLAGE_{name}" in Path(app_module.__file__).read_text()
        for name in read_before_the_config
    )
    for name in systemd_environment(ENV_EXAMPLE):
        if name.startswith("MAILLAGE_"):
            key = name.removeprefix("MAILLAGE_")
            assert key in settings | read_before_the_config, name
        else:
            assert name in UNPREFIXED_ALIASES, name


def test_the_environment_example_sets_no_placeholder_secret():
    """Regression: ``MAILLAGE_SECRET_KEY=change-me`` (a short, published key) was the example;
    unset, each process reads the key generated in the shared instance folder."""
    variables = systemd_environment(ENV_EXAMPLE)
    assert "MAILLAGE_SECRET_KEY" not in variables
    assert "secrets.token_urlsafe(48)" in ENV_EXAMPLE.read_text()


def test_several_gunicorn_workers_share_the_rate_limit_counts():
    variables = systemd_environment(ENV_EXAMPLE)
    assert variables["MAILLAGE_RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert variables["MAILLAGE_PROXY_COUNT"] == "1"
    assert "--workers 3" in read_unit("maillage-web.service")["Service"]["ExecStart"]


def test_the_units_point_at_documentation_that_exists():
    """Regression: the web unit sent readers to a deploy/README.md that does not exist."""
    readme = (DEPLOY.parent / "README.md").read_text()
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        assert "deploy/README.md" not in text, name
        for section in re.findall(r'"(Deploying[^"]*)"', text):
            assert f"## {section}\n" in readme, section
    assert "## Deploying on PostgreSQL + Redis\n" in readme
