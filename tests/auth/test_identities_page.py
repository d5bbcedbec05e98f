"""The account's ways in: linked identities (provider, address, last sign-in), a button to link
each configured provider not linked yet, unlinking (never the last way in), and the current
session's provider and time of sign-in on the account page."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import select

from maillage.auth.identities.models import Identity
from maillage.auth.providers.base import AuthProvider
from maillage.auth.providers.registry import EXTENSION_KEY
from maillage.communities.users.operations import create_user as create_account
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db


class LinkableProvider(AuthProvider):
    """A provider type that links through its own endpoint (as OIDC and LDAP do)."""

    type = "linkable"
    login_template = "auth/sign_in_refused.html"

    def link_url(self) -> str:
        return f"/login/linkable/{self.name}/link"


class FixedProvider(AuthProvider):
    """A type that cannot link: no button for it."""

    type = "fixed"
    login_template = "auth/sign_in_refused.html"


@pytest.fixture
def configured(app):
    app.extensions[EXTENSION_KEY] = {
        "proconnect": LinkableProvider("proconnect", {"title": "ProConnect"}),
        "annuaire": LinkableProvider("annuaire", {"title": "Annuaire du ministère"}),
        "fixe": FixedProvider("fixe", {"title": "Fournisseur fixe"}),
    }


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def add_identity(user, provider, identifier="sub-1", email=None, last_login_at=None):
    identity = Identity(
        user=user,
        provider=provider,
        identifier=identifier,
        email=email,
        data={},
        last_login_at=last_login_at,
    )
    db.session.add(identity)
    db.session.commit()
    return identity


def unlink(submit, identity_id, **kwargs):
    return submit(
        "/account/identities",
        {"confirmed": "1"},
        action=f"/account/identities/{identity_id}/unlink",
        **kwargs,
    )


def test_the_page_needs_sign_in(client):
    response = client.get("/account/identities")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_identities_and_link_buttons(client, create_user, sign_in, configured):
    user = create_user("dominique")
    when = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
    add_identity(user, "proconnect", email="dominique@interieur.gouv.fr", last_login_at=when)
    add_identity(user, "ancien", identifier="x")  # a provider no longer configured
    sign_in("dominique")

    page = client.get("/account/identities")
    html = text(page)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert html.count("<h1") == 1
    row = re.search(r"<th scope=\"row\">ProConnect</th>.*?</tr>", html, re.S)[0]
    assert "dominique@interieur.gouv.fr" in row
    assert '<time datetime="2026-03-02T08:30:00+00:00">' in row
    assert 'ancien <span class="meta">(n\'est plus proposé)</span>' in html
    # One button per configured provider not linked yet, for types that can link.
    assert 'action="/login/linkable/annuaire/link"' in html
    assert "Lier « Annuaire du ministère »" in html
    assert "/login/linkable/proconnect/link" not in html
    assert "Fournisseur fixe" not in html
    assert re.search(
        r'action="/login/linkable/annuaire/link"[^>]*>\s*<input type="hidden" name="csrf_token"',
        html,
    )
    assert "Votre compte a un mot de passe propre à cette plateforme." in html


def test_the_list_costs_the_same_queries_for_many_identities(
    client, create_user, sign_in, configured, count_queries
):
    user = create_user("dominique")
    sign_in("dominique")
    add_identity(user, "proconnect")
    client.get("/account/identities")  # today's visits are recorded once (analytics)
    with count_queries() as one:
        client.get("/account/identities")
    for number in range(5):
        add_identity(user, f"ancien{number}", identifier=f"id-{number}")
    with count_queries() as six:
        assert "ancien4" in text(client.get("/account/identities"))
    assert len(six) == len(one)


def test_unlink_an_identity(client, create_user, sign_in, submit, configured):
    user = create_user("dominique")
    identity = add_identity(user, "proconnect", email="dominique@interieur.gouv.fr")
    identity_id, user_id = identity.id, user.id
    sign_in("dominique")
    response = unlink(submit, identity_id)
    assert response.status_code == 303
    db.session.expunge_all()
    assert db.session.get(Identity, identity_id) is None
    page = text(client.get("/account/identities"))
    assert "L'identité « ProConnect » n'est plus liée à votre compte." in page
    assert 'action="/login/linkable/proconnect/link"' in page  # it can be linked again
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "auth.identity_unlinked")
    )
    assert (entry.actor_id, entry.data) == (user_id, {"provider": "proconnect"})


def test_the_last_way_in_stays(client, login_as, submit, configured):
    agent = create_account("agent.sso", "Agent SSO", "agent@interieur.gouv.fr", None)
    db.session.commit()
    identity = add_identity(agent, "proconnect")
    login_as(agent)
    assert "Votre compte n'a pas de mot de passe" in text(client.get("/account/identities"))
    response = unlink(submit, identity.id)
    assert response.status_code == 400
    assert "C'est votre seul moyen de connexion" in text(response)
    assert 'role="alert"' in text(response)
    assert db.session.get(Identity, identity.id) is not None

    second = add_identity(agent, "annuaire", identifier="uid=agent")
    identity_id, second_id = identity.id, second.id
    assert unlink(submit, identity_id).status_code == 303
    db.session.expunge_all()
    assert db.session.get(Identity, identity_id) is None
    assert db.session.get(Identity, second_id) is not None


def test_another_persons_identity_is_not_found(client, create_user, sign_in, submit, configured):
    someone = create_user("someone")
    theirs = add_identity(someone, "proconnect")
    create_user("dominique")
    sign_in("dominique")
    assert unlink(submit, theirs.id).status_code == 404
    assert unlink(submit, 999_999).status_code == 404
    assert db.session.get(Identity, theirs.id) is not None


def test_link_url_contract(app):
    class WithEndpoint(AuthProvider):
        type = "with-endpoint"
        login_template = "auth/sign_in_refused.html"
        link_endpoint = "identities.index"  # any endpoint taking the provider's name

    with app.test_request_context():
        assert WithEndpoint("mon-idp", {}).link_url() == "/account/identities?name=mon-idp"
        with pytest.raises(NotImplementedError):
            FixedProvider("fixe", {}).link_url()


def test_the_account_page_says_how_and_when_this_session_began(
    client, create_user, sign_in, submit, configured
):
    create_user("dominique")
    sign_in("dominique")
    html = text(client.get("/account"))
    assert 'href="/account/identities"' in html
    match = re.search(
        r"Session actuelle : connexion par mot de passe, le <time datetime=\"([^\"]+)\"", html
    )
    assert match
    started = dt.datetime.fromisoformat(match[1])
    assert abs((dt.datetime.now(dt.UTC) - started).total_seconds()) < 60
    # Closing the other sessions keeps this one's story.
    submit("/account", {"confirmed": "1"}, action="/account/sessions/end")
    assert match[0] in text(client.get("/account"))


def test_a_session_through_a_provider_names_it(client, login_as, configured):
    agent = create_account("agent.sso", "Agent SSO", "agent@interieur.gouv.fr", None)
    db.session.commit()
    login_as(agent)
    with client.session_transaction() as session:
        session["auth_provider"] = "proconnect"
    assert "Session actuelle : connexion par ProConnect" in text(client.get("/account"))


@pytest.mark.browser
def test_the_identities_page_in_a_browser(page, live_server, create_user):
    from playwright.sync_api import expect

    from tests.conftest import axe_violations, browser_sign_in

    user = create_user("dominique")
    add_identity(user, "ancien", email="dominique@interieur.gouv.fr")
    browser_sign_in(page, live_server, "dominique")
    page.goto(f"{live_server}/account/identities")
    assert page.locator("h1").count() == 1
    assert axe_violations(page) == []
    page.get_by_role("button", name="Retirer ancien").click()
    expect(page.locator("h1")).to_be_focused()  # the confirmation step names what will be lost
    assert axe_violations(page) == []
    page.get_by_role("button", name="Délier").click()
    assert "n'est plus liée à votre compte" in page.content()
    assert axe_violations(page) == []
