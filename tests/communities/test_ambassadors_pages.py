"""Ambassadors: named by admins only (admin page and profile button, audit-logged), listed per
organisation on the public help page « Qui peut m'aider ? »."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from tests.communities.test_training_support import send, text

pytest_plugins = ("tests.communities.test_training_support",)


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 302), ("member", 403), ("trainer", 403), ("admin", 302)]
)
def test_only_admins_name_ambassadors(client, login_as, roles, role, status):
    person = roles["member"]
    login_as(roles[role])
    response = send(client, f"/admin/ambassadeurs/{person.id}", {"ambassador": "1"})
    assert response.status_code == status
    db.session.refresh(person)
    assert person.is_ambassador == (status == 302 and role == "admin")
    page = client.get("/admin/ambassadeurs")
    assert page.status_code == (200 if role == "admin" else status)


def test_admin_names_then_removes_with_audit(
    client, login_as, roles, create_user, create_organisation
):
    org = create_organisation("Préfecture du Gers")
    person = create_user("amina", display_name="Amina Ambassadrice", organisation=org)
    login_as(roles["admin"])
    found = client.get("/admin/ambassadeurs?q=amina")
    assert "Amina Ambassadrice" in text(found)
    send(client, f"/admin/ambassadeurs/{person.id}", {"ambassador": "1"})
    db.session.refresh(person)
    assert person.is_ambassador
    help_page = client.get("/aide/ambassadeurs")
    login_as(None)
    public = client.get("/aide/ambassadeurs")
    assert public.status_code == 200
    assert "Qui peut m" in text(public)
    assert "Préfecture du Gers" in text(public)
    assert f'href="/u/{person.username}"' in text(public)
    assert help_page.status_code == 200
    profile = client.get(f"/u/{person.username}")
    assert "Ambassadeur de la plateforme" in text(profile)

    login_as(roles["admin"])
    back = send(client, f"/admin/ambassadeurs/{person.id}", {"ambassador": "0", "next": "profile"})
    assert back.headers["Location"] == f"/u/{person.username}"
    db.session.refresh(person)
    assert not person.is_ambassador
    actions = db.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.object_id == person.id, AuditEntry.action.like("user.ambassador%")
        )
    ).all()
    assert sorted(actions) == ["user.ambassador_set", "user.ambassador_unset"]
    client.get("/")  # the flash message is shown there
    assert "Amina" not in text(client.get("/aide/ambassadeurs"))


def test_profile_button_only_for_admins(client, login_as, roles):
    person = roles["member"]
    login_as(roles["admin"])
    assert "Nommer ambassadeur" in text(client.get(f"/u/{person.username}"))
    login_as(roles["trainer"])
    assert "Nommer ambassadeur" not in text(client.get(f"/u/{person.username}"))


def test_unknown_person_is_404(client, login_as, roles):
    login_as(roles["admin"])
    assert send(client, "/admin/ambassadeurs/9999", {"ambassador": "1"}).status_code == 404


def test_grouped_by_organisation(client, create_user, create_organisation):
    from maillage.communities.training.queries import ambassadors_by_organisation

    a, b = create_organisation("Alpha"), create_organisation("Beta")
    for name, org in [("amb1", b), ("amb2", a), ("amb3", a)]:
        create_user(name, organisation=org).is_ambassador = True
    db.session.commit()
    groups = ambassadors_by_organisation()
    assert [(org.name, len(people)) for org, people in groups] == [("Alpha", 2), ("Beta", 1)]
