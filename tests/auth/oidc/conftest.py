"""OIDC sign-in against real providers: npm ``oidc-provider`` run from ``tests/oidc`` in two
profiles (generic, ProConnect-like), the application served on a fixed loopback port (the
redirect URIs registered at the providers name it), and a browser-less agent (``requests``)
that follows redirects and fills in forms as a person would.
"""

from __future__ import annotations

import contextlib
import html
import random
import re
import selectors
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from maillage.platform.app import create_app
from maillage.platform.extensions import db

NODE_PROJECT = Path(__file__).resolve().parents[2] / "oidc"
CLIENT_ID = "maillage"
CLIENT_SECRET = "maillage-test-secret-0123456789-abcdefghijklmnop"
# Node loads oidc-provider and makes its keys in about a second, but a busy 2-core CI machine
# (two pytest workers plus browsers) once held it past 20 s: a generous bound costs nothing when
# it starts quickly.
START_TIMEOUT = 90
HTTP_TIMEOUT = 15


def free_port() -> int:
    """A free loopback port below the usual ephemeral range (32768+), so that no client socket
    of the run takes it between two tests that serve the application on it."""
    rng = random.SystemRandom()
    for _attempt in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port")


def _install_node_project() -> None:
    """``make test`` runs ``npm ci`` in tests/oidc; a bare ``pytest`` does it here."""
    if (NODE_PROJECT / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for the OIDC tests (tests/oidc)"
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_PROJECT, check=True
    )


class NodeProvider:
    """One ``tests/oidc/server.js`` process: ``profile`` and the relying party's provider names
    (for its registered redirect URIs)."""

    def __init__(self, profile: str, rp_url: str, names: list[str], log: Path) -> None:
        node = shutil.which("node")
        assert node, "node is needed for the OIDC tests"
        command = [node, "server.js", "--port", "0", "--profile", profile, "--rp", rp_url]
        for name in names:
            command += ["--name", name]
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=NODE_PROJECT,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )
        self.issuer = self.discovery_url = ""

    def wait(self) -> NodeProvider:
        """Once it listens and serves its discovery document."""
        self.issuer = self._wait_ready()
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self._wait_discovery()
        return self

    def _wait_ready(self) -> str:
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                line = self.process.stdout.readline()
                if line.startswith("READY "):
                    return line.split()[1]
            if self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"oidc-provider did not start: {self.log.read_text()[-2000:]}")

    def _wait_discovery(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.discovery_url, timeout=2).ok:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"no discovery document at {self.discovery_url}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process.stdout.close()
        self._log_file.close()


@pytest.fixture(scope="session")
def rp_port() -> int:
    """The application's port for the whole run (the providers redirect to it)."""
    return free_port()


@pytest.fixture(scope="session")
def rp_url(rp_port) -> str:
    return f"http://127.0.0.1:{rp_port}"


@pytest.fixture(scope="session")
def oidc_servers(rp_url, tmp_path_factory):
    _install_node_project()
    logs = tmp_path_factory.mktemp("oidc-provider")
    started = {}
    try:  # both start at once, then are waited for
        started["generic"] = NodeProvider("generic", rp_url, ["keycloak"], logs / "generic.log")
        started["proconnect"] = NodeProvider(
            "proconnect", rp_url, ["proconnect"], logs / "proconnect.log"
        )
        for server in started.values():
            server.wait()
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture
def spare_provider(rp_url, tmp_path):
    """A generic provider of this test's own (``secours``), that the test may stop."""
    server = NodeProvider("generic", rp_url, ["secours"], tmp_path / "secours.log")
    yield server.wait()
    server.stop()


@pytest.fixture
def provider_settings(oidc_servers) -> dict[str, dict]:
    """``AUTH_PROVIDERS`` by name: a Keycloak-like provider and a ProConnect-like one."""
    return {
        "keycloak": {
            "name": "keycloak",
            "type": "oidc",
            "title": "Keycloak du ministère",
            "discovery_url": oidc_servers["generic"].discovery_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "client_auth_method": "client_secret_basic",
            "scopes": ["openid", "email", "profile", "organisation"],
            "claims_mapping": {
                "organisation_siret": "siret",
                "organisation_name": "organisation_name",
            },
            "organisation_kind": "local_authority",
            "timeout": 5,
        },
        "proconnect": {
            "name": "proconnect",
            "type": "proconnect",
            "server_metadata_url": oidc_servers["proconnect"].discovery_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": "openid given_name usual_name email uid siret idp_id organizational_unit",
            "timeout": 5,
        },
    }


def merged(settings: dict[str, dict], changes: dict | None) -> list[dict]:
    """``settings`` with ``changes`` (name -> settings to update, or None to remove)."""
    result = {name: dict(values) for name, values in settings.items()}
    for name, change in (changes or {}).items():
        if change is None:
            result.pop(name, None)
        else:
            result[name] = {**result.get(name, {"name": name}), **change}
    return list(result.values())


@pytest.fixture
def app_config(app_config, provider_settings, rp_url):
    return {
        **app_config,
        "BASE_URL": rp_url,
        "AUTH_PROVIDERS": merged(provider_settings, None),
        "LOG_LEVEL": "ERROR",
    }


@dataclass
class Live:
    url: str
    app: object

    def provider(self, name: str):
        return self.app.extensions["maillage.auth.providers"][name]


@pytest.fixture
def serve(app, app_config, provider_settings, rp_port, tmp_path):
    """``serve(changes=None)``: the app over HTTP on the registered port (same database),
    with provider settings changed as ``merged`` says."""
    from werkzeug.serving import make_server

    running = []

    def start(changes: dict | None = None) -> Live:
        assert not running, "one served app per test (one registered port)"
        served = app  # the test's own app, unless the providers change (faster)
        if changes:
            config = {**app_config, "AUTH_PROVIDERS": merged(provider_settings, changes)}
            served = create_app(config, instance_path=tmp_path / "live")
        server = make_server("127.0.0.1", rp_port, served, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread, served))
        return Live(f"http://127.0.0.1:{rp_port}", served)

    yield start
    for server, thread, served in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        if served is not app:
            with served.app_context():
                db.engine.dispose()


# -- a browser without a browser ---------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict
    attrs: dict


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                Form(attrs.get("action", ""), (attrs.get("method") or "get").lower(), {}, attrs)
            )
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1].fields[attrs["name"]] = attrs.get("value", "")


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Agent:
    """A person's browser: cookies, redirects followed, forms filled in.

    Every response gets ``page``: its text with HTML entities decoded (what a person reads);
    ``visited`` lists every URL requested, redirects included.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.visited: list[str] = []
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "maillage-tests/1.0"
        self.http.hooks["response"].append(self._seen)

    def _seen(self, response: requests.Response, *args, **kwargs) -> None:
        self.visited.append(response.url)
        response.page = html.unescape(response.text)

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url(path), timeout=HTTP_TIMEOUT, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        return self.http.post(self.url(path), data=data, timeout=HTTP_TIMEOUT, **kwargs)

    def start(self, provider: str, **params) -> requests.Response:
        """Click the provider's button: the provider's login form (or wherever it leads)."""
        return self.get(f"/login/oidc/{provider}", params=params)

    def provider_login(self, page: requests.Response, login: str, **kwargs) -> requests.Response:
        """Fill in the test provider's login form on ``page``."""
        form = next(form for form in forms(page.text) if form.action.endswith("/login"))
        return self.http.post(
            urljoin(page.url, form.action), data={"login": login}, timeout=HTTP_TIMEOUT, **kwargs
        )

    def provider_abort(self, page: requests.Response) -> requests.Response:
        form = next(form for form in forms(page.text) if form.action.endswith("/abort"))
        return self.http.post(urljoin(page.url, form.action), timeout=HTTP_TIMEOUT)

    def sign_in(self, provider: str, login: str, **params) -> requests.Response:
        return self.provider_login(self.start(provider, **params), login)

    def callback_url(self, provider: str, login: str, authorize_url: str | None = None) -> str:
        """Sign in at the provider (from ``authorize_url``, a redirect the application made, or a
        new click on the button) but stop at the redirect back to the application."""
        page = self.http.get(authorize_url, timeout=HTTP_TIMEOUT) if authorize_url else None
        response = self.provider_login(page or self.start(provider), login, allow_redirects=False)
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(self.url(f"/login/oidc/{provider}/callback")):
                return location
            response = self.http.get(location, timeout=HTTP_TIMEOUT, allow_redirects=False)
        raise AssertionError(f"no redirect to the callback: {response.status_code} {response.url}")

    def csrf_token(self, path: str = "/") -> str:
        match = CSRF_RE.search(self.get(path).text)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def logout(self) -> requests.Response:
        """The header's sign-out button, then the provider's confirmation if it asks."""
        response = self.post("/logout", {"csrf_token": self.csrf_token()})
        confirm = [form for form in forms(response.text) if form.attrs.get("id") == "op.logoutForm"]
        if confirm:
            form = confirm[0]
            response = self.http.post(
                urljoin(response.url, form.action),
                data={**form.fields, "logout": "yes"},
                timeout=HTTP_TIMEOUT,
            )
        return response

    @staticmethod
    def query(url: str) -> dict[str, str]:
        """The query arguments of ``url``."""
        return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}

    @staticmethod
    def forms(html: str) -> list[Form]:
        return forms(html)


@pytest.fixture
def agent():
    """``agent(live)``: a new browser for the served app."""
    made = []

    def make(live: Live) -> Agent:
        made.append(Agent(live.url))
        return made[-1]

    yield make
    for one in made:
        one.http.close()


@pytest.fixture
def audit(app):
    """``audit(action)``: the audit entries of that action, oldest first."""
    from sqlalchemy import select

    from maillage.platform.audit.models import AuditEntry

    def read(action: str):
        db.session.expire_all()
        return list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )

    return read


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (a provider that is down)."""
    return free_port()
