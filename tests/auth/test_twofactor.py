"""The TOTP second factor of local accounts: set-up from the account page (QR code, text key, a
first code, recovery codes shown once), the code step of sign-in (nobody is signed in before the
code, a new session after it, codes single-use and rate-limited), password reset that still asks
the code, removal, new recovery codes, and the instance-wide requirement."""

from __future__ import annotations

import hashlib
import re
from html import unescape

import pyotp
import pytest
from sqlalchemy import func, select

from maillage.auth.twofactor import operations as totp
from maillage.auth.twofactor import pending
from maillage.auth.twofactor.models import RecoveryCode
from maillage.communities.users.operations import create_user as create_account
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db

PASSWORD = "correct horse battery"
WRONG = "Code incorrect, expiré ou déjà utilisé."


class Clock:
    """The clock the TOTP code reads, moved by the test instead of waiting for the next step."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: int = 30) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    # In the middle of a step, so codes of the previous and next steps are unambiguous.
    fixed = Clock(1_900_000_000 - 1_900_000_000 % 30 + 15)
    monkeypatch.setattr(totp, "_clock", fixed)
    return fixed


def code_at(secret: str, clock: Clock, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now + offset)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def actions(user=None) -> list[str]:
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    if user is not None:
        query = query.where(AuditEntry.object_id == user.id, AuditEntry.object_type == "user")
    return list(db.session.scalars(query))


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def protected(create_user, clock):
    """An account with a second factor: ``(user, secret, recovery codes)``."""
    user = create_user("dominique", email="dominique@numerique.gouv.fr")
    secret = totp.pending_secret(user)
    codes = totp.enable(user, code_at(secret, clock))
    db.session.commit()
    clock.tick()  # the set-up code is spent; the next step's code is fresh
    return user, secret, codes


def enter_code(submit, code, **kwargs):
    return submit("/login/code", {"code": code}, **kwargs)


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


# -- set-up ------------------------------------------------------------------------------------


def test_setup_shows_a_qr_code_and_the_key_and_needs_a_first_code(
    client, create_user, sign_in, submit, mails, clock
):
    user = create_user("dominique", email="dominique@numerique.gouv.fr")
    sign_in("dominique")
    assert "Désactivée : seul votre mot de passe protège votre compte." in text(
        client.get("/account")
    )

    page = client.get("/account/two-factor/setup")
    html = text(page)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert re.search(
        r'<img class="twofactor-qr" src="data:image/svg\+xml;charset=utf-8,[^"]+" alt="QR', html
    )
    assert "img-src 'self' https: data:" in page.headers["Content-Security-Policy"]
    key = re.search(r'<code class="twofactor-key" id="setup-key">([A-Z2-7 ]+)</code>', html)[1]
    secret = key.replace(" ", "")
    db.session.refresh(user)
    assert user.totp_secret == secret
    assert user.totp_enabled_at is None
    # The same key on a second visit: a person may reload the page while scanning.
    assert key in text(client.get("/account/two-factor/setup"))

    refused = submit("/account/two-factor/setup", {"code": "000000"})
    assert refused.status_code == 400
    assert WRONG in text(refused)
    db.session.refresh(user)
    assert user.totp_enabled_at is None

    done = submit("/account/two-factor/setup", {"code": code_at(secret, clock)})
    assert done.status_code == 201
    assert done.headers["Cache-Control"] == "no-store"
    shown = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", text(done))
    assert len(set(shown)) == 10
    db.session.refresh(user)
    assert user.totp_enabled_at is not None
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert stored == {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in shown}
    assert "auth.totp_enabled" in actions(user)
    assert [subject for subject, _b, _l in mails(user.email)] == ["Double authentification activée"]

    manage = text(client.get("/account/two-factor"))
    assert "Il vous reste 10 codes de secours." in manage
    assert "twofactor-key" not in manage  # the key is never shown again
    assert "Activée : un code de votre application" in text(client.get("/account"))


def test_a_new_key_replaces_the_pending_one(client, create_user, sign_in, submit):
    user = create_user("dominique")
    sign_in("dominique")
    client.get("/account/two-factor/setup")
    db.session.refresh(user)
    first = user.totp_secret
    response = submit("/account/two-factor/setup", {}, action="/account/two-factor/setup/new-key")
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.totp_secret not in (None, first)
    assert user.totp_enabled_at is None


def test_accounts_without_a_password_have_nothing_to_set_up(client, app, login_as):
    user = create_account("agent.sso", "Agent SSO", "agent@interieur.gouv.fr", None)
    db.session.commit()
    login_as(user)
    response = client.get("/account/two-factor/setup", follow_redirects=True)
    assert "La double authentification protège les comptes à mot de passe" in text(response)
    assert "gère chez elle" in text(response)
    db.session.refresh(user)
    assert user.totp_secret is None


# -- the code step -----------------------------------------------------------------------------


def test_sign_in_asks_the_code_before_signing_in(client, submit, sign_in, protected, clock):
    _user, secret, _codes = protected
    response = sign_in("dominique")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/code"
    assert not signed_in(client)  # the password alone opens nothing
    page = client.get("/login/code")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text
    assert "auth.login" not in actions()

    wrong = enter_code(submit, "123456")
    assert wrong.status_code == 400
    assert WRONG in text(wrong)
    assert not signed_in(client)
    assert audit("auth.login_failed")[-1].data == {"provider": "local", "reason": "bad_code"}

    done = enter_code(submit, code_at(secret, clock))
    assert done.status_code == 302
    assert done.headers["Location"] == "/"
    assert signed_in(client)
    assert audit("auth.login")[-1].data == {"provider": "local"}
    assert "connexion par mot de passe" in text(client.get("/account"))


def test_the_code_step_keeps_next_and_remember(client, submit, protected, clock):
    _user, secret, _codes = protected
    submit(
        "/login?next=/members",
        {"login": "dominique", "password": PASSWORD, "next": "/members", "remember": "y"},
    )
    assert client.get_cookie("remember_token") is None  # not before the code
    done = enter_code(submit, code_at(secret, clock))
    assert done.headers["Location"] == "/members"
    assert client.get_cookie("remember_token") is not None


def test_the_session_is_new_at_each_step(client, new_client, submit, sign_in, protected, clock):
    _user, secret, _codes = protected
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in("dominique")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "_user_id" not in session
    half_way = client.get_cookie("session").value
    enter_code(submit, code_at(secret, clock))
    assert client.get_cookie("session").value != half_way
    with client.session_transaction() as session:
        assert pending.PENDING_KEY not in session
    assert not signed_in(new_client(half_way))


def test_a_code_is_accepted_once(client, submit, sign_in, protected, clock):
    _user, secret, _codes = protected
    code = code_at(secret, clock)
    sign_in("dominique")
    assert enter_code(submit, code).status_code == 302
    submit("/account", {}, action="/logout")

    sign_in("dominique")
    again = enter_code(submit, code)
    assert again.status_code == 400
    assert WRONG in text(again)
    # The code of the previous step is older than the one spent: refused too.
    assert enter_code(submit, code_at(secret, clock, -30)).status_code == 400
    clock.tick()
    assert enter_code(submit, code_at(secret, clock)).status_code == 302


def test_codes_of_the_next_step_are_accepted_for_slow_clocks(client, submit, sign_in, protected):
    _user, secret, _codes = protected
    sign_in("dominique")
    assert enter_code(submit, code_at(secret, totp._clock, +30)).status_code == 302
    submit("/account", {}, action="/logout")
    sign_in("dominique")
    assert enter_code(submit, code_at(secret, totp._clock, +60)).status_code == 400


def test_a_recovery_code_works_once(client, submit, sign_in, protected):
    _user, _secret, codes = protected
    sign_in("dominique")
    typed = " " + codes[0].upper().replace("-", " - ") + " "  # as read from paper
    done = enter_code(submit, typed)
    assert done.status_code == 302
    assert "il vous en reste 9" in text(client.get("/"))
    assert signed_in(client)
    assert audit("auth.recovery_code_used")[-1].data == {"remaining": 9}
    submit("/account", {}, action="/logout")

    sign_in("dominique")
    assert enter_code(submit, codes[0]).status_code == 400
    assert enter_code(submit, codes[1]).status_code == 302


def test_the_code_step_expires(client, submit, sign_in, protected, clock, monkeypatch):
    _user, secret, _codes = protected
    sign_in("dominique")
    monkeypatch.setattr(pending, "MAX_AGE", -1)  # five minutes have passed
    response = submit(
        "/login", {"code": code_at(secret, clock)}, action="/login/code", follow_redirects=True
    )
    assert "Votre connexion a expiré" in text(response)
    assert not signed_in(client)


def test_the_code_step_without_a_password_leads_to_sign_in(client):
    response = client.get("/login/code")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_a_password_change_elsewhere_voids_the_code_step(client, submit, sign_in, protected, clock):
    from maillage.communities.users.operations import end_other_sessions

    user, secret, _codes = protected
    sign_in("dominique")
    end_other_sessions(user)
    db.session.commit()
    response = submit("/login", {"code": code_at(secret, clock)}, action="/login/code")
    assert response.headers["Location"] == "/login"
    assert not signed_in(client)


def test_code_attempts_are_limited_per_address_and_per_account(
    app, client, submit, sign_in, protected, create_user, clock
):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    _user, secret, _codes = protected
    sign_in("dominique", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    for number in range(3):
        address = {"REMOTE_ADDR": f"198.51.100.{number}"}
        assert enter_code(submit, "000000", environ_base=address).status_code == 400
    # The account's budget is spent, from any address, even with the right code.
    blocked = enter_code(
        submit, code_at(secret, clock), environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert blocked.status_code == 429
    assert not signed_in(client)


def test_code_attempts_are_limited_per_address(app, client, submit, sign_in, create_user, clock):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    secrets = {}
    for name in ("alix", "bao", "chloe", "dara"):
        user = create_user(name)
        secrets[name] = totp.pending_secret(user)
        totp.enable(user, code_at(secrets[name], clock))
    db.session.commit()
    clock.tick()
    address = {"REMOTE_ADDR": "192.0.2.7"}
    for name in ("alix", "bao", "chloe"):
        sign_in(name, environ_base=address)
        assert enter_code(submit, "000000", environ_base=address).status_code == 400
    sign_in("dara", environ_base=address)
    assert (
        enter_code(submit, code_at(secrets["dara"], clock), environ_base=address).status_code == 429
    )


# -- password reset ----------------------------------------------------------------------------


def test_a_password_reset_still_asks_the_code(client, submit, mails, protected, clock):
    user, secret, _codes = protected
    submit("/password/forgot", {"email": user.email})
    ((_subject, _body, links),) = [m for m in mails(user.email) if "Réinitialiser" in m[0]]
    link = next(link for link in links if "/password/reset/" in link)
    link = link.removeprefix("https://maillage.test")
    new_password = "a brand new passphrase"
    response = submit(link, {"password": new_password, "confirm": new_password})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/code"
    assert not signed_in(client)
    assert enter_code(submit, code_at(secret, clock)).status_code == 302
    assert signed_in(client)


# -- removal and new recovery codes ------------------------------------------------------------


def disable(submit, password, code):
    return submit(
        "/account/two-factor",
        {"disable-password": password, "disable-code": code},
        action="/account/two-factor/disable",
        prefix="disable-",
    )


def test_disable_needs_the_password_and_a_code(client, submit, sign_in, mails, protected, clock):
    user, secret, _codes = protected
    sign_in("dominique")
    enter_code(submit, code_at(secret, clock))
    clock.tick()

    response = disable(submit, "not my password", code_at(secret, clock))
    assert response.status_code == 400
    assert "Le mot de passe est incorrect." in text(response)
    response = disable(submit, PASSWORD, "999999")
    assert response.status_code == 400
    assert WRONG in text(response)
    response = disable(submit, "", "")
    assert response.status_code == 400
    assert "Indiquez votre mot de passe." in text(response)
    db.session.refresh(user)
    assert user.totp_enabled_at is not None

    assert disable(submit, PASSWORD, code_at(secret, clock)).status_code == 302
    db.session.refresh(user)
    assert (user.totp_secret, user.totp_enabled_at) == (None, None)
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0
    assert "auth.totp_disabled" in actions(user)
    assert "Double authentification désactivée" in [s for s, _b, _l in mails(user.email)]

    submit("/account", {}, action="/logout")
    assert sign_in("dominique").headers["Location"] == "/"  # the password is enough again


def test_new_recovery_codes_replace_the_old_ones(client, submit, sign_in, protected, clock):
    user, secret, codes = protected
    sign_in("dominique")
    enter_code(submit, code_at(secret, clock))
    clock.tick()

    refused = submit(
        "/account/two-factor",
        {"regenerate-code": codes[0]},  # a recovery code does not make new ones
        action="/account/two-factor/recovery-codes",
        prefix="regenerate-",
    )
    assert refused.status_code == 400
    response = submit(
        "/account/two-factor",
        {"regenerate-code": code_at(secret, clock)},
        action="/account/two-factor/recovery-codes",
        prefix="regenerate-",
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    new_codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", text(response))
    assert len(new_codes) == 10
    assert "les anciens ne fonctionnent plus" in text(response)
    assert "auth.recovery_codes_regenerated" in actions(user)
    submit("/account", {}, action="/logout")

    sign_in("dominique")
    assert enter_code(submit, codes[2]).status_code == 400
    assert enter_code(submit, new_codes[0]).status_code == 302


# -- required by the instance ------------------------------------------------------------------


@pytest.fixture
def required(app):
    app.config["AUTH_REQUIRE_TOTP_FOR_LOCAL"] = True


def test_required_second_factor_comes_before_anything_else(
    client, submit, sign_in, create_user, create_community, required, clock
):
    user = create_user("dominique")
    create_community(slug="reseau")
    assert sign_in("dominique").status_code == 302
    for path in ("/", "/c/reseau", "/account", "/account/identities"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/two-factor/setup"
    api = client.get("/api/v1/communities")
    assert api.status_code == 403
    assert api.json["error"]["message"].startswith("Configurez d'abord la double")
    page = text(client.get("/account/two-factor/setup"))
    assert "L'administrateur de la plateforme exige la double authentification" in page

    db.session.refresh(user)
    response = submit("/account/two-factor/setup", {"code": code_at(user.totp_secret, clock)})
    assert response.status_code == 201
    assert client.get("/c/reseau").status_code == 200
    assert client.get("/account").status_code == 200


def test_required_second_factor_leaves_the_way_out_open(
    client, submit, sign_in, create_user, required
):
    create_user("dominique")
    sign_in("dominique")
    assert client.get("/theme.css").status_code == 200
    assert submit("/account/two-factor/setup", {}, action="/logout").status_code == 302
    assert client.get("/").status_code == 200  # signed out: the public home


def test_required_second_factor_is_for_password_sessions_only(client, login_as, required):
    agent = create_account("agent.sso", "Agent SSO", "agent@interieur.gouv.fr", None)
    db.session.commit()
    login_as(agent)
    with client.session_transaction() as session:
        session["auth_provider"] = "proconnect"
    assert client.get("/").status_code == 200


# -- in a real browser -------------------------------------------------------------------------


@pytest.mark.browser
def test_setup_and_sign_in_in_a_browser(page, live_server, create_user):
    import time

    from tests.conftest import axe_violations, browser_sign_in

    create_user("dominique")
    browser_sign_in(page, live_server, "dominique")
    page.goto(f"{live_server}/account/two-factor/setup")
    assert page.locator("h1").count() == 1
    assert page.locator("img.twofactor-qr").evaluate("image => image.naturalWidth") > 0
    assert axe_violations(page) == []
    secret = page.locator("#setup-key").inner_text().replace(" ", "")
    page.get_by_label("Code à 6 chiffres de l'application").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer", exact=True).click()
    assert page.locator("ul.twofactor-codes li").count() == 10
    assert axe_violations(page) == []

    page.get_by_role("button", name="Se déconnecter").click()
    browser_sign_in(page, live_server, "dominique")
    assert page.url == f"{live_server}/login/code"
    assert axe_violations(page) == []
    page.get_by_label("Code de vérification").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Valider").click()
    page.goto(f"{live_server}/account/two-factor")
    assert "Il vous reste 10 codes de secours." in page.content()
    assert axe_violations(page) == []
