"""Bulk invitations (pasted list, CSV), the invitations page with states, revoking."""

import datetime as dt
import io
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from maillage.communities.community.models import Invitation
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import utcnow
from maillage.platform.extensions import db


def csrf_token(client) -> str:
    page = client.get("/communities").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, url, data=None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def invitation_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Invitation))


@pytest.fixture
def setup(create_user, create_community):
    facilitator = create_user()
    member = create_user(email="deja.membre@example.gouv.fr")
    community = create_community(slug="reseau", members=[(facilitator, "facilitator"), member])
    return community, facilitator, member


def test_bulk_invite_from_a_pasted_list_reports_each_line(client, login_as, setup, outbox_mail):
    community, facilitator, _member = setup
    from maillage.communities.community.operations import invite

    invite(community, facilitator, "attend@example.org")
    db.session.commit()
    login_as(facilitator)
    pasted = "\n".join(
        [
            "alice@example.org",
            "pas-une-adresse",
            "deja.membre@example.gouv.fr",
            "attend@example.org",
            "ALICE@example.org",
            "",
            "bob@example.org",
        ]
    )
    response = post(client, "/c/reseau/invite/bulk", {"addresses": pasted, "role": "member"})
    assert response.status_code == 200
    page = text(response)
    assert "2 invitations envoyées." in page
    for expected in (
        "Invitation envoyée",
        "Adresse invalide",
        "Déjà membre",
        "Déjà invitée",
        "Ligne en double",
    ):
        assert expected in page
    emails = set(db.session.scalars(select(Invitation.email)))
    assert {"alice@example.org", "bob@example.org", "attend@example.org"} == emails
    recipients = {message["To"] for message in outbox_mail()}
    assert {"alice@example.org", "bob@example.org"} <= recipients
    audited = db.session.scalar(select(func.count()).where(AuditEntry.action == "community.invite"))
    assert audited == 3  # the one invitation before, and the two new ones


def test_bulk_invite_from_a_csv_file_with_roles(client, login_as, setup):
    _community, facilitator, _member = setup
    login_as(facilitator)
    csv_data = (
        "nom;email;role\n"
        "Alice;alice@example.org;animateur\n"
        "Bob;bob@example.org;\n"
        "Eve;eve@example.org;propriétaire\n"
    )
    response = post(
        client,
        "/c/reseau/invite/bulk",
        {"file": (io.BytesIO(csv_data.encode()), "liste.csv"), "role": "guest"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Rôle inconnu" in text(response)
    roles = dict(db.session.execute(select(Invitation.email, Invitation.role)).all())
    assert roles == {"alice@example.org": "facilitator", "bob@example.org": "guest"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("nom,prenom\nDupont,Jean\n", "colonne « email »"),
        ("", "Collez des adresses"),
        ("\n".join(f"p{i}@example.org" for i in range(501)), "500 adresses au plus"),
    ],
)
def test_bulk_invite_refuses_bad_input_and_stores_nothing(client, login_as, setup, data, message):
    _community, facilitator, _member = setup
    login_as(facilitator)
    response = post(client, "/c/reseau/invite/bulk", {"addresses": data, "role": "member"})
    assert response.status_code == 400
    assert message in text(response)
    assert invitation_count() == 0


def test_bulk_invite_refuses_a_binary_or_huge_file(client, login_as, setup):
    _community, facilitator, _member = setup
    login_as(facilitator)
    response = post(
        client,
        "/c/reseau/invite/bulk",
        {"file": (io.BytesIO(b"x" * 200_001), "gros.csv"), "role": "member"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "trop volumineux" in text(response)
    assert invitation_count() == 0


def test_bulk_invite_refuses_an_unknown_default_role(client, login_as, setup):
    _community, facilitator, _member = setup
    login_as(facilitator)
    response = post(
        client, "/c/reseau/invite/bulk", {"addresses": "a@example.org", "role": "owner"}
    )
    assert response.status_code == 400
    assert invitation_count() == 0


@pytest.fixture
def others(create_user, create_community, setup):
    community, _facilitator, member = setup
    from maillage.communities.community.operations import add_membership

    people = {"member": member}
    for role in ("moderator", "guest"):
        people[role] = create_user()
        add_membership(community, people[role], role)
    people["outsider"] = create_user()
    create_community(members=[(people["outsider"], "facilitator")])
    db.session.commit()
    return people


@pytest.mark.parametrize("who", ["member", "moderator", "guest", "outsider"])
def test_only_facilitators_invite_in_bulk_list_or_revoke(client, login_as, setup, others, who):
    community, facilitator, _member = setup
    from maillage.communities.community.operations import invite

    invitation, _token = invite(community, facilitator, "x@example.org")
    db.session.commit()
    login_as(others[who])
    assert client.get("/c/reseau/invite/bulk").status_code == 403
    assert client.get("/c/reseau/invitations").status_code == 403
    assert post(client, "/c/reseau/invite/bulk", {"addresses": "y@example.org"}).status_code == 403
    assert (
        post(
            client, f"/c/reseau/invitations/{invitation.id}/revoke", {"confirmed": "1"}
        ).status_code
        == 403
    )
    assert invitation_count() == 1
    assert db.session.get(Invitation, invitation.id).revoked_at is None


def test_anonymous_cannot_open_invitation_tools(client, setup):
    for path in ("/c/reseau/invite/bulk", "/c/reseau/invitations"):
        assert client.get(path).status_code in (302, 401)


def test_invitations_page_shows_states_and_filters(client, login_as, setup, create_user):
    community, facilitator, _member = setup
    from maillage.communities.community.operations import (
        accept_invitation,
        invite,
        revoke_invitation,
    )

    _pending, _ = invite(community, facilitator, "pending@example.org")
    expired, _ = invite(community, facilitator, "expired@example.org")
    expired.expires_at = utcnow() - dt.timedelta(days=1)
    revoked, _ = invite(community, facilitator, "revoked@example.org")
    revoke_invitation(revoked, facilitator)
    invitee = create_user(email="accepted@example.org")
    _accepted, token = invite(community, facilitator, "accepted@example.org")
    accept_invitation(token, invitee)
    db.session.commit()
    login_as(facilitator)
    page = text(client.get("/c/reseau/invitations"))
    for label in ("En attente", "Acceptée", "Expirée", "Retirée"):
        assert label in page
    assert "4 invitations" in page
    only_expired = text(client.get("/c/reseau/invitations?state=expired"))
    assert "expired@example.org" in only_expired
    assert "pending@example.org" not in only_expired
    assert "4 invitations" in text(client.get("/c/reseau/invitations?state=martian"))
    console = text(client.get("/c/reseau/console"))
    assert "1 invitation en attente" in console


def test_revoking_an_invitation_refuses_its_link(client, login_as, setup, create_user):
    community, facilitator, _member = setup
    from maillage.communities.community.operations import invite

    invitee = create_user(email="invitee@example.org")
    invitation, token = invite(community, facilitator, "invitee@example.org")
    db.session.commit()
    login_as(facilitator)
    response = post(client, f"/c/reseau/invitations/{invitation.id}/revoke", {"confirmed": "1"})
    assert response.status_code == 303
    assert db.session.get(Invitation, invitation.id).revoked_at is not None
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "community.invitation_revoked")
    )
    assert entry.actor_id == facilitator.id
    # Revoking twice: a clear refusal, nothing changes.
    again = post(
        client,
        f"/c/reseau/invitations/{invitation.id}/revoke",
        {"confirmed": "1"},
        follow_redirects=True,
    )
    assert "Seule une invitation en attente" in text(again)
    login_as(invitee)
    response = client.get(f"/invitations/{token}")
    assert response.status_code == 410
    assert "Invitation retirée" in text(response)
    assert post(client, f"/invitations/{token}").status_code == 410
    from maillage.communities.community.operations import accept_invitation
    from maillage.platform.errors import OperationError

    with pytest.raises(OperationError):
        accept_invitation(token, invitee)


def test_revoking_an_invitation_of_another_community_is_404(
    client, login_as, setup, create_community, create_user
):
    _community, facilitator, _member = setup
    other_owner = create_user()
    other = create_community(owner=other_owner)
    from maillage.communities.community.operations import invite

    invitation, _ = invite(other, other_owner, "z@example.org")
    db.session.commit()
    login_as(facilitator)
    assert (
        post(
            client, f"/c/reseau/invitations/{invitation.id}/revoke", {"confirmed": "1"}
        ).status_code
        == 404
    )
    assert db.session.get(Invitation, invitation.id).revoked_at is None
