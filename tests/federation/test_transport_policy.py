"""Trust policy: modes, allow/deny lists, our own host; the /admin/federation page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.federation.transport import operations
from maillage.federation.transport.models import FederationSetting, Instance
from maillage.federation.transport.policy import (
    domain_allow_listed,
    domain_allowed,
    federation_mode,
    normalize_domain,
)
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from tests.conftest import login


def csrf(client, path="/admin/federation") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


@pytest.fixture
def admin(create_user):
    return create_user("chef", is_admin=True)


def test_normalize_domain():
    assert normalize_domain("https://Lemmy.Example:8443/c/x") == "lemmy.example"
    assert normalize_domain("Lemmy.Example.") == "lemmy.example"
    assert normalize_domain("127.0.0.2:5000") == "127.0.0.2"
    assert normalize_domain("[::1]:80") == "::1"
    assert normalize_domain("") == ""


def test_default_mode_is_allowlist_and_config_is_read(app, admin):
    assert federation_mode() == "allowlist"
    app.config["FEDERATION_MODE"] = "open"
    assert federation_mode() == "open"
    app.config["FEDERATION_MODE"] = "nonsense"
    assert federation_mode() == "allowlist"
    operations.set_federation_mode(admin, "denylist")
    db.session.commit()
    app.config["FEDERATION_MODE"] = "open"
    assert federation_mode() == "denylist"  # the admins' choice wins over the configuration


@pytest.mark.parametrize(
    ("mode", "unknown", "allowed", "denied"),
    [
        ("allowlist", False, True, False),
        ("denylist", True, True, False),
        ("open", True, True, False),
    ],
)
def test_domain_allowed_by_mode(app, admin, mode, unknown, allowed, denied):
    app.config["FEDERATION_MODE"] = mode
    operations.set_instance_policy(admin, "ok.example", "allowed", "partenaire")
    operations.set_instance_policy(admin, "bad.example", "denied", "spam")
    db.session.commit()
    assert domain_allowed("unknown.example") is unknown
    assert domain_allowed("https://OK.example/inbox") is allowed
    assert domain_allowed("bad.example") is denied
    assert domain_allowed("maillage.test") is True  # our own host
    assert domain_allowed("") is False
    # Private communities: explicit allow-list entries only, whatever the mode.
    assert domain_allow_listed("ok.example") is True
    assert domain_allow_listed("unknown.example") is False
    assert domain_allow_listed("bad.example") is False


def test_policy_operations_validate_and_audit(admin):
    with pytest.raises(Exception, match="invalide"):
        operations.set_instance_policy(admin, "not a domain!", "allowed")
    with pytest.raises(Exception, match="cette instance"):
        operations.set_instance_policy(admin, "https://maillage.test/", "denied")
    with pytest.raises(Exception, match="inconnue"):
        operations.set_instance_policy(admin, "x.example", "maybe")
    with pytest.raises(Exception, match="trop long"):
        operations.set_instance_policy(admin, "x.example", "denied", "x" * 501)
    with pytest.raises(Exception, match="inconnu"):
        operations.set_federation_mode(admin, "closed")
    instance = operations.set_instance_policy(admin, "https://X.example:443/u/a", "denied", "abus")
    operations.clear_instance_policy(admin, instance)
    db.session.commit()
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("federation.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["federation.instance_policy_set", "federation.instance_policy_cleared"]
    assert instance.domain == "x.example"
    assert instance.policy is None


# -- the admin page ----------------------------------------------------------------------------


def test_admin_page_access(client, create_user, admin):
    assert client.get("/admin/federation").status_code == 302  # to sign in
    login(client, create_user())
    assert client.get("/admin/federation").status_code == 403
    assert client.post("/admin/federation/mode", data={"mode": "open"}).status_code in {400, 403}
    login(client, admin)
    page = client.get("/admin/federation")
    assert page.status_code == 200
    assert "<h1>Fédération</h1>" in page.text
    assert "Aucune instance autorisée" in page.text
    from maillage.platform.admin.sections import admin_sections

    with client.application.test_request_context():
        assert "/admin/federation" in [url for _section, url in admin_sections()]


def test_admin_changes_mode_and_lists(client, admin):
    login(client, admin)
    response = client.post(
        "/admin/federation/mode", data={"mode": "open", "csrf_token": csrf(client)}
    )
    assert response.status_code == 302
    assert db.session.get(FederationSetting, "mode").value == "open"

    response = client.post(
        "/admin/federation/instances",
        data={
            "domain": "Lemmy.Example",
            "policy": "denied",
            "reason": "Contenus illicites",
            "confirmed": "1",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 302
    page = client.get("/admin/federation").text
    assert "lemmy.example" in page
    assert "Contenus illicites" in page
    instance = db.session.scalar(select(Instance).where(Instance.domain == "lemmy.example"))
    assert instance.policy == "denied"
    assert not domain_allowed("lemmy.example")

    response = client.post(
        f"/admin/federation/instances/{instance.id}/remove",
        data={"confirmed": "1", "csrf_token": csrf(client)},
    )
    assert response.status_code == 302
    db.session.refresh(instance)
    assert instance.policy is None
    assert domain_allowed("lemmy.example")  # open mode


def test_admin_bad_input_stores_nothing(client, admin):
    login(client, admin)
    response = client.post(
        "/admin/federation/instances",
        data={"domain": "pas un domaine", "policy": "allowed", "csrf_token": csrf(client)},
    )
    assert response.status_code == 422
    assert (
        "Nom d&#39;instance invalide" in response.text or "Nom d'instance invalide" in response.text
    )
    response = client.post(
        "/admin/federation/mode", data={"mode": "closed", "csrf_token": csrf(client)}
    )
    assert response.status_code == 422
    assert db.session.scalar(select(Instance)) is None
    assert db.session.get(FederationSetting, "mode") is None
    assert (
        client.post("/admin/federation/instances", data={"domain": "a.example"}).status_code == 400
    )
    assert (
        client.post(
            "/admin/federation/instances/999/remove",
            data={"confirmed": "1", "csrf_token": csrf(client)},
        ).status_code
        == 404
    )


def test_admin_health_table_and_reset(client, admin):
    from maillage.federation.transport.operations import get_or_create_instance
    from maillage.platform.db import utcnow

    instance = get_or_create_instance("down.example")
    instance.failures, instance.failing_since = 12, utcnow()
    instance.last_failure_at, instance.last_error = utcnow(), "HTTP 503"
    instance.dead_since = utcnow()
    db.session.commit()
    login(client, admin)
    page = client.get("/admin/federation").text
    assert "down.example" in page
    assert "injoignable depuis le" in page
    assert "HTTP 503" in page
    response = client.post(
        f"/admin/federation/instances/{instance.id}/reset", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 302
    db.session.refresh(instance)
    assert (instance.failures, instance.dead_since, instance.circuit_open_until) == (0, None, None)
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "federation.instance_reset")
    )
