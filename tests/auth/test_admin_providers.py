"""The administrators' page of sign-in providers: each configured provider with its type, title,
a live check (OK, the error, or no answer in time) and the stored status; local accounts; never a
secret.  Minimal provider classes stand in for the real types here (whose checks against real
OIDC and LDAP servers are tested with them)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from html import unescape

import pyotp
import pytest

from maillage.auth.providers.base import AuthProvider
from maillage.auth.providers.operations import record_error, statuses
from maillage.auth.providers.registry import EXTENSION_KEY
from maillage.auth.twofactor import operations as totp
from maillage.platform.extensions import db

CLIENT_SECRET = "client-secret-value-42"
BIND_PASSWORD = "bind-password-value-17"

release = threading.Event()


class Healthy(AuthProvider):
    type = "healthy"
    login_template = "auth/sign_in_refused.html"

    def check(self) -> None:
        return None


class Failing(AuthProvider):
    type = "failing"
    login_template = "auth/sign_in_refused.html"

    def check(self) -> None:
        # A careless message quoting a secret: the page must not show it.
        raise ConnectionError(f"connexion refusée par ldap://cn=svc:{BIND_PASSWORD}@annuaire.test")


class Silent(AuthProvider):
    type = "silent"
    login_template = "auth/sign_in_refused.html"

    def check(self) -> None:
        release.wait(5)


class Unchecked(AuthProvider):
    """A type that does not implement ``check`` (the base raises NotImplementedError)."""

    type = "unchecked"
    login_template = "auth/sign_in_refused.html"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "AUTH_PROVIDER_CHECK_TIMEOUT": 0.5}


@pytest.fixture
def configured(app):
    release.clear()
    app.extensions[EXTENSION_KEY] = {
        "proconnect": Healthy(
            "proconnect",
            {
                "type": "healthy",
                "title": "ProConnect",
                "client_id": "maillage-client",
                "client_secret": CLIENT_SECRET,
                "access_rules": {"email_domains": ["*.gouv.fr"]},
            },
        ),
        "annuaire": Failing(
            "annuaire",
            {
                "type": "failing",
                "title": "Annuaire du ministère",
                "url": f"ldap://cn=svc:{BIND_PASSWORD}@annuaire.test",
                "bind_password": BIND_PASSWORD,
            },
        ),
        "lent": Silent("lent", {"type": "silent", "title": "Fournisseur lent"}),
        "brut": Unchecked("brut", {"type": "unchecked", "title": "Sans vérification"}),
    }
    yield
    release.set()


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def section(html: str, name: str) -> str:
    return re.search(rf'<section aria-labelledby="provider-{name}".*?</section>', html, re.S)[0]


@pytest.fixture
def admin_page(client, create_user, login_as, configured):
    def load():
        login_as(create_user(is_admin=True))
        return client.get("/admin/auth/providers")

    return load


def test_only_administrators_see_the_page(client, create_user, login_as, configured):
    assert client.get("/admin/auth/providers").status_code == 302  # to sign in
    login_as(create_user())
    assert client.get("/admin/auth/providers").status_code == 403


def test_each_provider_with_its_live_check(admin_page):
    response = admin_page()
    html = text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert html.count("<h1") == 1

    healthy = section(html, "proconnect")
    assert '<h2 id="provider-proconnect">ProConnect</h2>' in healthy
    assert "<code>healthy</code>" in healthy
    assert "<strong>OK</strong>" in healthy

    failing = section(html, "annuaire")
    assert (
        "<strong>Erreur</strong> : ConnectionError: connexion refusée par ldap://cn=svc:••••••@annuaire.test"
        in failing
    )

    silent = section(html, "lent")
    assert "<strong>Erreur</strong> : Pas de réponse en 0.5 s." in silent
    assert "<strong>Erreur</strong> : NotImplementedError" in section(html, "brut")


def test_no_secret_is_ever_shown(admin_page):
    html = text(admin_page())
    assert CLIENT_SECRET not in html
    assert BIND_PASSWORD not in html
    settings = section(html, "proconnect")
    assert "<dt><code>client_secret</code></dt><dd><code>••••••</code></dd>" in settings
    assert "<dt><code>client_id</code></dt><dd><code>maillage-client</code></dd>" in settings
    assert '{"email_domains": ["*.gouv.fr"]}' in settings
    directory = section(html, "annuaire")
    assert "<dt><code>bind_password</code></dt><dd><code>••••••</code></dd>" in directory
    assert "ldap://cn=svc:••••••@annuaire.test" in directory


def test_live_checks_are_kept_as_the_stored_status(admin_page):
    """The page shows the last status other processes recorded, then keeps what its own live
    check found (masked like everything else on the page)."""
    record_error("proconnect", "délai dépassé à la synchronisation")
    html = text(admin_page())
    db.session.expire_all()
    statuses_now = statuses()
    assert statuses_now["proconnect"].last_success_at is not None
    assert "délai dépassé à la synchronisation" in section(html, "proconnect")
    assert statuses_now["annuaire"].last_error.startswith("ConnectionError")
    assert BIND_PASSWORD not in statuses_now["annuaire"].last_error
    again = section(text(admin_page()), "annuaire")
    assert re.search(r"Dernière erreur enregistrée</dt>\s*<dd><time datetime=\"[^\"]+\">", again)
    assert "Dernier succès enregistré</dt>\n      <dd>aucun" in again


def test_local_accounts_are_summed_up(app, client, login_as, configured, create_user):
    app.config["AUTH_REQUIRE_TOTP_FOR_LOCAL"] = True
    app.config["SIGNUP_ENABLED"] = False
    create_user("dominique")
    admin = create_user("admin.plateforme", is_admin=True)  # required: the admin has TOTP
    totp.enable(admin, pyotp.TOTP(totp.pending_secret(admin)).now())
    db.session.commit()
    login_as(admin)
    html = text(client.get("/admin/auth/providers"))
    local = re.search(r'<section aria-labelledby="providers-local">.*?</section>', html, re.S)[0]
    assert "<dt>Connexion par mot de passe</dt><dd>activée</dd>" in local
    assert "<dt>Création de compte libre</dt><dd>fermée (sur invitation seulement)</dd>" in local
    assert "<dt>Double authentification</dt><dd>exigée</dd>" in local
    assert "<dt>Comptes à mot de passe</dt><dd>2</dd>" in local  # dominique and the admin
    assert "<dt>dont avec double authentification</dt><dd>1</dd>" in local


def test_no_provider_configured(client, create_user, login_as):
    login_as(create_user(is_admin=True))
    html = text(client.get("/admin/auth/providers"))
    assert "Aucun fournisseur d'identité n'est configuré" in html


def test_the_checks_run_together_within_the_time_limit(admin_page):
    started = dt.datetime.now(dt.UTC)
    admin_page()
    assert (dt.datetime.now(dt.UTC) - started).total_seconds() < 3
