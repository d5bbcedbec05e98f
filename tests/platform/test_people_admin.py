"""People administration: the filtered list (bounded statements), a person's file, and the
actions — suspension (every way in refused), forced password reset, second factor removal,
platform roles (never the last administrator), ending sessions — each audited and confirmed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from maillage.auth.identities.info import IdentityInfo
from maillage.auth.identities.models import Identity
from maillage.auth.identities.operations import establish_identity
from maillage.auth.local.operations import authenticate
from maillage.auth.tokens.operations import create_token
from maillage.auth.twofactor.models import RecoveryCode
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.people import operations
from maillage.platform.people.queries import PeopleFilters, people_page

PASSWORD = "correct horse battery"
TOKEN_RE = re.compile(r'name="(?:[\w-]*-)?csrf_token"[^>]*value="([^"]+)"')


def csrf(client, page="/admin/people") -> str:
    match = TOKEN_RE.search(client.get(page).get_data(as_text=True))
    assert match, "no CSRF token"
    return match.group(1)


def post(client, url, data=None, page="/admin/people"):
    return client.post(url, data={**(data or {}), "csrf_token": csrf(client, page)})


def actions(user) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "user", AuditEntry.object_id == user.id)
            .order_by(AuditEntry.id)
        )
    )


def fresh(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


@pytest.fixture
def admin(create_user):
    return create_user("alix", is_admin=True)


# -- access ------------------------------------------------------------------------------------


def test_only_admins_reach_the_pages(client, login_as, create_user, admin):
    person = create_user("camille")
    login_as(None)
    assert client.get("/admin/people").status_code == 302  # to the sign-in page
    login_as(person)
    assert client.get("/admin/people").status_code == 403
    assert client.get(f"/admin/people/{admin.id}").status_code == 403
    assert client.post(f"/admin/people/{admin.id}/suspend", data={}).status_code in (400, 403)
    login_as(admin)
    home = client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/people"' in home
    assert "Personnes" in home
    assert client.get("/admin/people").status_code == 200


def test_operations_refuse_a_non_admin(create_user):
    actor, person = create_user(), create_user()
    with pytest.raises(NotAllowed):
        operations.suspend(actor, person, "raison")
    with pytest.raises(NotAllowed):
        operations.set_role(actor, actor, "admin", True)


# -- list --------------------------------------------------------------------------------------


def test_list_searches_and_filters(app, client, login_as, admin, create_user, create_organisation):
    mairie = create_organisation("Mairie de Lille", kind="local_authority")
    dominique = create_user("dominique", organisation=mairie, display_name="Dominique Martin")
    dominique.job_title = "Cheffe de projet numérique"
    dominique.last_seen_at = utcnow() - dt.timedelta(days=100)
    dominique.is_trainer = True
    sam = create_user("sam", display_name="Sam Durand")
    sam.last_seen_at = utcnow()
    sam.password_hash = None
    db.session.add(Identity(user=sam, provider="keycloak", identifier="sub-sam"))
    remote = create_user("lointain", display_name="Dominique Lointaine")
    remote.local = False
    db.session.commit()

    def names(**filters):
        rows, _ = people_page(PeopleFilters(**filters))
        return {row.user.username for row in rows}

    assert names(q="dominique") == {"dominique"}  # the remote one is left out by default
    assert names(q="dominique", remote=True) == {"dominique", "lointain"}
    assert names(q="numérique") == {"dominique"}
    assert names(q="sam@example") == {"sam"}
    assert names(organisation=mairie.id) == {"dominique"}
    assert names(provider="keycloak") == {"sam"}
    assert "sam" not in names(provider="local")
    assert names(role="trainer") == {"dominique"}
    assert names(role="admin") == {"alix"}
    assert names(last_visit="90") >= {"dominique"}
    assert "sam" not in names(last_visit="90")
    assert names(last_visit="never") == {"alix"}
    operations.suspend(admin, sam, "Usurpation signalée")
    db.session.commit()
    assert names(status="suspended") == {"sam"}
    assert "sam" not in names(status="active")

    login_as(admin)
    page = client.get("/admin/people?q=sam&provider=keycloak").get_data(as_text=True)
    assert "Sam Durand" in page
    assert "Suspendu" in page
    assert "<caption" in page
    assert 'scope="col"' in page
    assert 'for="q"' in page  # every filter labelled
    # An unknown choice is ignored, never an error page.
    assert client.get("/admin/people?role=pape&last_visit=x&page=-3").status_code == 200


def test_list_costs_the_same_statements_whatever_the_page_size(
    client, login_as, admin, create_user, count_queries
):
    login_as(admin)
    client.get("/admin/people")  # warm up (first request work)
    with count_queries() as few:
        assert client.get("/admin/people").status_code == 200
    for number in range(30):
        user = create_user(f"agent{number:02d}")
        db.session.add(Identity(user=user, provider="keycloak", identifier=f"sub-{number}"))
    db.session.commit()
    with count_queries() as many:
        page = client.get("/admin/people").get_data(as_text=True)
    assert "Agent29" in page
    assert len(many) == len(few)


def test_list_is_paginated(client, login_as, admin, create_user):
    for number in range(55):
        create_user(f"agent{number:02d}")
    login_as(admin)
    first = client.get("/admin/people").get_data(as_text=True)
    assert 'rel="next"' in first
    assert "Agent49" in first
    assert "Agent50" not in first
    second = client.get("/admin/people?page=2").get_data(as_text=True)
    assert "Agent54" in second
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second


# -- profile -----------------------------------------------------------------------------------


def test_profile_shows_identities_memberships_roles_and_audit(
    client, login_as, admin, create_user, create_community
):
    person = create_user("dominique")
    db.session.add(Identity(user=person, provider="keycloak", identifier="sub-dominique"))
    db.session.commit()
    create_community("Acheteurs publics", members=[(person, "facilitator")])
    operations.set_role(admin, person, "trainer", True)
    db.session.commit()
    login_as(admin)
    page = client.get(f"/admin/people/{person.id}").get_data(as_text=True)
    assert "sub-dominique" in page
    assert "keycloak" in page
    assert "Acheteurs publics" in page
    assert "Animateur" in page
    assert "people.role_granted" in page
    assert "Alix" in page
    assert "non activée" in page  # 2FA state
    assert client.get("/admin/people/999999").status_code == 404


def test_profile_keeps_secret_member_lists_secret(
    client, login_as, admin, create_user, create_community
):
    """An administrator without an access grant learns a secret community's owners, never its
    members: the person's file counts those memberships without naming the communities."""
    person, owner = create_user("dominique"), create_user("karim")
    create_community("Cellule de crise", owner=owner, visibility="secret", members=[person])
    create_community("Groupe RH", owner=person, visibility="secret")
    create_community("Réseau ouvert", members=[person])
    login_as(admin)
    page = client.get(f"/admin/people/{person.id}").get_data(as_text=True)
    assert "Cellule de crise" not in page
    assert "Groupe RH" in page  # an owner is a public fact of a community
    assert "Réseau ouvert" in page
    assert "Et 1 communauté privée ou secrète" in page


def test_delete_form_posts_to_account_deletion(app, client, login_as, admin, create_user):
    person = create_user("dominique")
    login_as(admin)
    url = f"/admin/people/{person.id}"
    page = client.get(url).get_data(as_text=True)
    served = "account_deletion.admin_request" in app.view_functions
    assert (f'action="{url}/delete"' in page) == served
    if not served:
        return
    assert post(client, f"{url}/delete", {"reason": "Départ"}, url).status_code == 200  # asks
    assert fresh(person).deletion_requested_at is None
    post(client, f"{url}/delete", {"reason": "Départ", "confirmed": "1"}, url)
    assert fresh(person).deletion_requested_at is not None
    assert "Suppression programmée" in client.get(url).get_data(as_text=True)
    rows, _ = people_page(PeopleFilters(status="deletion"))
    assert [row.user.username for row in rows] == ["dominique"]


# -- suspension --------------------------------------------------------------------------------


def test_suspension_needs_a_reason_and_a_confirmation(
    client, login_as, admin, create_user, outbox_mail
):
    person = create_user("dominique")
    login_as(admin)
    page = f"/admin/people/{person.id}"
    empty = post(client, f"{page}/suspend", {"suspend-reason": " "}, page)
    assert empty.status_code == 400
    assert "Indiquez un motif." in empty.get_data(as_text=True)
    asked = post(client, f"{page}/suspend", {"suspend-reason": "Comportement abusif"}, page)
    assert asked.status_code == 200
    assert 'name="confirmed" value="1"' in asked.get_data(as_text=True)
    assert fresh(person).is_active
    assert fresh(person).suspended_at is None
    done = post(
        client, f"{page}/suspend", {"suspend-reason": "Comportement abusif", "confirmed": "1"}, page
    )
    assert done.status_code == 302
    person = fresh(person)
    assert not person.is_active
    assert person.suspended_by_id == admin.id
    assert person.suspension_reason == "Comportement abusif"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "people.suspend"))
    assert entry.data["reason"] == "Comportement abusif"
    assert entry.actor_id == admin.id
    [mail] = [m for m in outbox_mail() if m["To"] == person.email]
    assert "suspendu" in mail["Subject"]
    assert "Comportement abusif" in mail.get_content()


def test_a_suspended_person_is_shut_out_everywhere(
    app, client, create_user, admin, login_as, new_client_factory
):
    person = create_user("dominique")
    _token, secret = create_token(person, "Script")
    db.session.add(Identity(user=person, provider="keycloak", identifier="sub-dominique"))
    db.session.commit()
    browser = new_client_factory()
    from tests.conftest import login

    login(browser, person)
    assert browser.get("/account").status_code == 200
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/communities", headers=headers).status_code == 200

    operations.suspend(admin, fresh(person), "Compte compromis")
    db.session.commit()

    assert browser.get("/account").status_code == 302  # the open session ended at once
    assert client.get("/api/v1/communities", headers=headers).status_code == 401
    # Password sign-in: the right password gets the clear message, a wrong one the usual one.
    login_page = client.get("/login").get_data(as_text=True)
    token = TOKEN_RE.search(login_page).group(1)
    answer = client.post(
        "/login", data={"login": "dominique", "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 400
    assert "Ce compte est suspendu" in answer.get_data(as_text=True)
    wrong = client.post(
        "/login", data={"login": "dominique", "password": "pas le bon", "csrf_token": token}
    )
    assert "Ce compte est suspendu" not in wrong.get_data(as_text=True)
    # OIDC and LDAP end in establish_identity: refused with the same words.
    info = IdentityInfo(provider="keycloak", identifier="sub-dominique", given_name="D")
    with pytest.raises(NotAllowed, match="suspendu"):
        establish_identity(info)
    db.session.rollback()

    operations.reactivate(admin, fresh(person))
    db.session.commit()
    assert authenticate("dominique", PASSWORD).id == person.id
    assert client.get("/api/v1/communities", headers=headers).status_code == 200
    done = [action for action in actions(person) if action.startswith("people.")]
    assert done == ["people.suspend", "people.reactivate"]
    refused = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "auth.login_failed", AuditEntry.object_id == person.id
        )
    )
    assert refused.data["reason"] == "suspended"


@pytest.fixture
def new_client_factory(app):
    return app.test_client


def test_nobody_suspends_themselves_nor_the_last_admin(admin, create_user):
    with pytest.raises(OperationError, match="propre compte"):
        operations.suspend(admin, admin, "test")
    with pytest.raises(OperationError, match="dernier compte administrateur"):
        operations.set_role(admin, admin, "admin", False)
    other = create_user("camille")
    operations.set_role(admin, other, "admin", True)
    db.session.commit()
    # Two admins: one may step down, then the other is the last.
    assert operations.set_role(admin, admin, "admin", False)
    db.session.commit()
    with pytest.raises(OperationError, match="dernier compte administrateur"):
        operations.set_role(other, other, "admin", False)


# -- password, second factor, sessions, roles --------------------------------------------------


def test_forced_password_reset(client, login_as, admin, create_user, outbox_mail):
    person = create_user("dominique")
    version = person.session_version
    login_as(admin)
    page = f"/admin/people/{person.id}"
    assert post(client, f"{page}/password-reset", {}, page).status_code == 200  # asks first
    assert authenticate("dominique", PASSWORD) is not None
    db.session.commit()
    done = post(client, f"{page}/password-reset", {"reset-reason": "Fuite", "confirmed": "1"}, page)
    assert done.status_code == 302
    assert authenticate("dominique", PASSWORD) is None  # the old password stops working
    db.session.rollback()
    assert fresh(person).session_version > version
    [mail] = [m for m in outbox_mail() if m["To"] == person.email]
    link = re.search(r"https://maillage.test(/password/reset/\S+)", mail.get_content()).group(1)
    login_as(None)
    token = TOKEN_RE.search(client.get(link).get_data(as_text=True)).group(1)
    new = "un tout nouveau mot de passe"
    answer = client.post(link, data={"password": new, "confirm": new, "csrf_token": token})
    assert answer.status_code == 302
    assert authenticate("dominique", new) is not None
    assert "people.password_reset" in actions(person)


def test_remove_two_factor(client, login_as, admin, create_user, outbox_mail):
    person = create_user("dominique")
    person.totp_secret = "JBSWY3DPEHPK3PXP"
    person.totp_enabled_at = utcnow()
    db.session.add(RecoveryCode(user_id=person.id, code_hash="x"))
    db.session.commit()
    login_as(admin)
    page = f"/admin/people/{person.id}"
    assert post(client, f"{page}/two-factor/remove", {}, page).status_code == 400
    data = {"totp-reason": "Téléphone perdu, identité vérifiée", "confirmed": "1"}
    assert post(client, f"{page}/two-factor/remove", data, page).status_code == 302
    person = fresh(person)
    assert person.totp_enabled_at is None
    assert person.totp_secret is None
    assert db.session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == person.id)) is None
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "people.two_factor_removed")
    )
    assert entry.data["reason"] == "Téléphone perdu, identité vérifiée"
    assert any("Téléphone perdu" in m.get_content() for m in outbox_mail())
    with pytest.raises(OperationError):
        operations.remove_two_factor(admin, person, "encore")


def test_end_sessions_and_roles_through_the_pages(client, login_as, admin, create_user):
    person = create_user("dominique")
    version = person.session_version
    login_as(admin)
    page = f"/admin/people/{person.id}"
    assert post(client, f"{page}/sessions/end", {}, page).status_code == 200  # asks first
    assert fresh(person).session_version == version
    assert post(client, f"{page}/sessions/end", {"confirmed": "1"}, page).status_code == 302
    assert fresh(person).session_version == version + 1
    for role in ("admin", "trainer", "ambassador"):
        granted = post(client, f"{page}/role", {"role": role, "granted": "1"}, page)
        assert granted.status_code == 302
    person = fresh(person)
    assert person.is_admin
    assert person.is_trainer
    assert person.is_ambassador
    asked = post(client, f"{page}/role", {"role": "trainer", "granted": "0"}, page)
    assert asked.status_code == 200
    assert fresh(person).is_trainer
    post(client, f"{page}/role", {"role": "trainer", "granted": "0", "confirmed": "1"}, page)
    assert not fresh(person).is_trainer
    assert post(client, f"{page}/role", {"role": "pape", "granted": "1"}, page).status_code == 400
    assert actions(person).count("people.role_granted") == 3
    assert "people.role_revoked" in actions(person)
    assert "people.sessions_ended" in actions(person)
