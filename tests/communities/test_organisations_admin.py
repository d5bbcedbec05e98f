"""Organisations administration: listing, creation, edition, logo, validation, merge, rejection,
deactivation; admins only, confirmation before destructive actions."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from PIL import Image
from sqlalchemy import func, select

from maillage.communities.community.models import Community
from maillage.communities.organisations.models import Organisation
from maillage.communities.organisations.operations import (
    create_organisation as create_org_op,
)
from maillage.communities.organisations.operations import (
    merge_organisations,
    organisation_for_siret,
    propose_organisation,
)
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db


@pytest.fixture
def admin(create_user, login_as):
    user = create_user("admin.plateforme", is_admin=True)
    login_as(user)
    return user


def token(client) -> str:
    page = client.get("/admin/organisations").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, url, data=None, **kwargs):
    value = token(client)
    return client.post(
        url, data={"csrf_token": value, "merge-csrf_token": value, **(data or {})}, **kwargs
    )


def png(size=(40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


def org(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def test_only_admins_reach_the_pages(client, create_user, login_as, create_organisation):
    organisation = create_organisation("DINUM")
    assert client.get("/admin/organisations").status_code == 302  # to the sign-in page
    login_as(create_user("simple.membre"))
    assert client.get("/admin/organisations").status_code == 403
    assert client.get(f"/admin/organisations/{organisation.id}").status_code == 403
    assert client.post(f"/admin/organisations/{organisation.id}/deactivate").status_code in (
        400,
        403,
    )
    assert org("DINUM").status == "active"


def test_listing_searches_filters_and_counts_members(
    client, admin, create_organisation, create_user
):
    dinum = create_organisation("DINUM", siret="11000201100044")
    paris = create_organisation("Ville de Paris", "local_authority", siret="21750001600019")
    create_organisation("Association vide", "association")
    create_user("anne", organisation=paris)
    create_user("bruno", organisation=paris)
    create_user("chloe", organisation=dinum)

    html = unescape(client.get("/admin/organisations").text)
    assert "Organisations" in html
    assert "<caption>" in html
    row = re.search(r"Ville de Paris</a></th>(.*?)</tr>", html, re.S).group(1)
    assert "<td>2</td>" in row

    found = unescape(client.get("/admin/organisations?q=217 500 016").text)
    assert "Ville de Paris" in found
    assert "DINUM" not in found
    found = unescape(client.get("/admin/organisations?q=paris").text)
    assert "Ville de Paris" in found
    assert "DINUM" not in found
    found = unescape(client.get("/admin/organisations?kind=local_authority").text)
    assert "Ville de Paris" in found
    assert "DINUM" not in found
    found = unescape(client.get("/admin/organisations?members=without").text)
    assert "Association vide" in found
    assert "Ville de Paris" not in found
    found = unescape(client.get("/admin/organisations?members=with").text)
    assert "Association vide" not in found
    assert "DINUM" in found


def test_listing_runs_the_same_queries_whatever_the_page_holds(
    client, admin, create_organisation, create_user, count_queries
):
    def run() -> int:
        with count_queries() as queries:
            assert client.get("/admin/organisations").status_code == 200
        return len(queries)

    create_user("anne", organisation=create_organisation("Une"))
    run()  # the first request of the day also notes the visit
    few = run()
    for index in range(12):
        parent = create_organisation(f"Parent {index}")
        child = create_organisation(f"Fille {index}")
        child.parent = parent
        create_user(f"membre{index}", organisation=child)
    db.session.commit()
    assert run() == few


def test_create_with_a_bad_siret_stores_nothing(client, admin):
    before = db.session.scalar(select(func.count()).select_from(Organisation))
    response = post(
        client,
        "/admin/organisations/new",
        {"name": "Mairie", "kind": "local_authority", "siret": "732 829 320 00075"},
    )
    assert response.status_code == 400
    assert "Ce SIRET n'est pas valide" in unescape(response.text)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == before


def test_create_then_edit_with_parent_and_logo(client, admin, app):
    response = post(
        client,
        "/admin/organisations/new",
        {"name": "Région Occitanie", "kind": "local_authority", "siret": "200 052 264 00013"},
    )
    assert response.status_code == 303
    region = org("Région Occitanie")
    assert (region.siret, region.siren, region.source) == ("20005226400013", "200052264", "admin")

    post(client, "/admin/organisations/new", {"name": "Département", "kind": "local_authority"})
    department = org("Département")
    response = post(
        client,
        f"/admin/organisations/{department.id}",
        {
            "name": "Département de l'Hérault",
            "kind": "local_authority",
            "parent": str(region.id),
            "logo": (io.BytesIO(png()), "logo.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, unescape(response.text)
    db.session.expire_all()
    department = db.session.get(Organisation, department.id)
    assert department.parent_id == region.id
    assert department.logo_key
    logo = client.get(f"/organisations/{department.id}/logo")
    assert logo.status_code == 200
    assert logo.mimetype == "image/png"
    assert Image.open(io.BytesIO(logo.data)).size == (40, 20)

    # the région cannot be attached under its own département: no loop
    response = post(
        client,
        f"/admin/organisations/{region.id}",
        {"name": region.name, "kind": "local_authority", "parent": str(department.id)},
    )
    assert response.status_code == 400
    assert "ni à l'une de ses filles" in unescape(response.text)
    db.session.expire_all()
    assert db.session.get(Organisation, region.id).parent_id is None


def test_a_logo_that_is_not_an_image_is_refused(client, admin, create_organisation):
    organisation = create_organisation("DINUM")
    response = post(
        client,
        f"/admin/organisations/{organisation.id}",
        {
            "name": "DINUM",
            "kind": "state_service",
            "logo": (io.BytesIO(b"%PDF-1.4 not an image"), "logo.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Le logo doit être une image PNG, JPEG ou WebP." in unescape(response.text)
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).logo_key is None


def test_pending_organisation_is_validated(client, admin, create_user):
    proposer = create_user("claire")
    proposed, known = propose_organisation("Les Amis", "association", None, proposer)
    db.session.commit()
    assert not known
    home = unescape(client.get("/admin").text)
    assert "1 organisation à valider." in home
    page = unescape(client.get(f"/admin/organisations/{proposed.id}").text)
    assert "Proposée par" in page
    assert "Claire" in page
    response = post(client, f"/admin/organisations/{proposed.id}/validate")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Organisation, proposed.id).status == "active"
    assert "à valider" not in unescape(client.get("/admin").text)


def test_merge_asks_first_then_moves_members_communities_and_children(
    client, admin, create_organisation, create_user, create_community
):
    source = create_organisation("DINUM (doublon)", siret="11000201100044")
    target = create_organisation("DINUM")
    child = create_organisation("Pôle Data")
    child.parent = source
    member = create_user("anne", organisation=source)
    community = create_community("Achats")
    community.organisation_id = source.id
    db.session.commit()
    source_id = source.id

    asked = post(client, f"/admin/organisations/{source.id}/merge", {"merge-target": target.id})
    assert asked.status_code == 200
    assert "Fusionner « DINUM (doublon) » dans « DINUM » ?" in unescape(asked.text)
    assert org("DINUM (doublon)") is not None

    done = post(
        client,
        f"/admin/organisations/{source.id}/merge",
        {"merge-target": target.id, "confirmed": "1"},
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert org("DINUM (doublon)") is None
    assert db.session.get(User, member.id).organisation_id == target.id
    assert db.session.get(Community, community.id).organisation_id == target.id
    assert db.session.get(Organisation, child.id).parent_id == target.id
    assert db.session.get(Organisation, target.id).siret == "11000201100044"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.merge"))
    assert entry.object_id == target.id
    assert entry.data["merged"] == source_id


def test_merge_into_itself_or_a_descendant_is_refused(app, create_organisation):
    ministry = create_organisation("Ministère")
    direction = create_organisation("Direction")
    direction.parent = ministry
    db.session.commit()
    with pytest.raises(OperationError, match="avec elle-même"):
        merge_organisations(ministry, ministry, None)
    with pytest.raises(OperationError, match="l'une de ses filles"):
        merge_organisations(ministry, direction, None)
    db.session.rollback()
    assert org("Ministère") is not None


def test_merge_into_itself_through_the_page_is_refused(client, admin, create_organisation):
    organisation = create_organisation("DINUM")
    response = post(
        client,
        f"/admin/organisations/{organisation.id}/merge",
        {"merge-target": organisation.id, "confirmed": "1"},
        follow_redirects=True,
    )
    assert "Choisissez une organisation dans la liste." in unescape(response.text)
    assert org("DINUM") is not None


def test_reject_moves_members_to_the_replacement(client, admin, create_user, create_organisation):
    replacement = create_organisation("Association réelle", "association")
    proposer = create_user("claire")
    proposed, _known = propose_organisation("Asso (faute de frappe)", "association", None, proposer)
    proposer.organisation = proposed
    db.session.commit()
    unconfirmed = post(
        client, f"/admin/organisations/{proposed.id}/reject", {"merge-target": replacement.id}
    )
    assert "Refuser « Asso (faute de frappe) » ?" in unescape(unconfirmed.text)
    response = post(
        client,
        f"/admin/organisations/{proposed.id}/reject",
        {"merge-target": replacement.id, "confirmed": "1"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert org("Asso (faute de frappe)") is None
    claire = db.session.get(User, proposer.id)
    assert claire.organisation_id == replacement.id
    assert claire.is_active


def test_deactivate_asks_first_and_members_keep_working(
    client, admin, create_organisation, create_user
):
    organisation = create_organisation("Ancienne DDT")
    member = create_user("anne", organisation=organisation)
    asked = post(client, f"/admin/organisations/{organisation.id}/deactivate")
    assert "Désactiver « Ancienne DDT » ?" in unescape(asked.text)
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).status == "active"

    post(client, f"/admin/organisations/{organisation.id}/deactivate", {"confirmed": "1"})
    db.session.expire_all()
    deactivated = db.session.get(Organisation, organisation.id)
    assert deactivated.status == "deactivated"
    assert deactivated.deactivated_at is not None
    assert db.session.get(User, member.id).is_active
    client.get("/logout")
    assert "Ancienne DDT" not in client.get("/signup").text

    post(client, f"/admin/organisations/{organisation.id}/reactivate")
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).status == "active"


def test_sso_created_organisations_are_marked_as_such(client, admin):
    organisation = organisation_for_siret("17750001000019", "Préfecture de police")
    db.session.commit()
    assert organisation.source == "sso"  # the provider's SIRET is taken as given
    html = unescape(client.get("/admin/organisations?q=Préfecture").text)
    assert "Connexion (SSO, annuaire)" in html


def test_a_duplicate_siret_is_refused(app, create_organisation):
    create_organisation("DINUM", siret="11000201100044")
    with pytest.raises(OperationError, match="existe déjà : DINUM"):
        create_org_op("Autre", "state_service", siret="110 002 011 00044")


def test_the_proposer_link_is_personal_data(app, create_user):
    from maillage.platform.personal_data.registry import HOLDERS, Erasure

    proposer = create_user("claire")
    proposed, _known = propose_organisation("Les Amis", "association", None, proposer)
    db.session.commit()
    holder = HOLDERS[Organisation]
    assert holder.export(proposer) == [
        {"name": "Les Amis", "kind": "association", "siret": None, "status": "pending"}
    ]
    holder.erase(proposer, Erasure.KEEP_CONTENT)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Organisation, proposed.id).proposed_by_id is None


def test_logo_size_cap_and_removal(app, create_organisation):
    from maillage.communities.organisations.operations import remove_logo, set_logo

    organisation = create_organisation("DINUM")
    with pytest.raises(OperationError, match="2 Mo au plus"):
        set_logo(organisation, io.BytesIO(b"\0" * (2 * 1024 * 1024 + 1)), None)
    db.session.rollback()
    set_logo(organisation, io.BytesIO(png((2000, 1000))), None)
    db.session.commit()
    key = organisation.logo_key
    assert key
    with app.test_client() as anonymous:
        logo = anonymous.get(f"/organisations/{organisation.id}/logo")
        assert Image.open(io.BytesIO(logo.data)).size == (512, 256)
    remove_logo(organisation, None)
    db.session.commit()
    assert organisation.logo_key is None
    with app.test_client() as anonymous:
        assert anonymous.get(f"/organisations/{organisation.id}/logo").status_code == 404
