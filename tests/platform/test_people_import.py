"""Pre-provisioning accounts from a CSV: a dry run first, then the valid lines created, a report
line per input line, an e-mail with a link to choose a password."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from maillage.auth.local.operations import authenticate
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.people import importing

TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SIRET = "13002526500013"


@pytest.fixture
def admin(create_user):
    return create_user("alix", is_admin=True)


@pytest.fixture
def organisations(create_organisation):
    return (
        create_organisation("Direction du numérique", siret=SIRET),
        create_organisation("Mairie de Lille", kind="local_authority"),
    )


def users_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


CSV = (
    "email;nom;organisation;identifiant;role\n"
    "zoe.lefevre@numerique.gouv.fr;Zoé Lefèvre;13002526500013;;formateur\n"
    "jean@lille.fr;;mairie de lille;jean.dupont;\n"
    "pas-une-adresse;X;Mairie de Lille;;\n"
    "zoe.lefevre@numerique.gouv.fr;Doublon;Mairie de Lille;;\n"
    "alix@example.gouv.fr;Alix;Mairie de Lille;;\n"
    "autre@lille.fr;Autre;Organisation fantôme;;\n"
    "mauvais@lille.fr;Mauvais;Mairie de Lille;Nom Invalide!;\n"
    "pris@lille.fr;Pris;Mairie de Lille;alix;\n"
    "role@lille.fr;Rôle;Mairie de Lille;;pape\n"
)


def outcomes(report) -> list[tuple[int, str]]:
    return [(line.number, line.outcome) for line in report]


def test_dry_run_reports_each_line_and_creates_nothing(admin, organisations, outbox_mail):
    before = users_count()
    report = importing.import_people(admin, CSV, dry_run=True)
    assert outcomes(report) == [
        (2, importing.WOULD_CREATE),
        (3, importing.WOULD_CREATE),
        (4, importing.INVALID_EMAIL),
        (5, importing.DUPLICATE),
        (6, importing.EXISTS),
        (7, importing.UNKNOWN_ORGANISATION),
        (8, importing.INVALID_USERNAME),
        (9, importing.USERNAME_TAKEN),
        (10, importing.BAD_ROLE),
    ]
    assert report[0].username == "zoe.lefevre"
    assert report[0].organisation == "Direction du numérique"
    assert report[1].username == "jean.dupont"
    db.session.rollback()
    assert users_count() == before
    assert outbox_mail() == []


def test_confirmed_import_creates_valid_lines_and_mails_a_set_up_link(
    app, client, admin, organisations, outbox_mail
):
    report = importing.import_people(admin, CSV, dry_run=False)
    db.session.commit()
    assert [line.outcome for line in report[:2]] == [importing.CREATED, importing.CREATED]
    zoe = db.session.scalar(select(User).where(User.username == "zoe.lefevre"))
    assert zoe.display_name == "Zoé Lefèvre"
    assert zoe.organisation.siret == SIRET
    assert zoe.is_trainer
    assert zoe.password_hash is None
    assert zoe.email_verified_at is None  # never linked to an SSO identity by this address
    jean = db.session.scalar(select(User).where(User.username == "jean.dupont"))
    assert jean.display_name == "Jean"  # derived from the address
    assert jean.organisation.name == "Mairie de Lille"
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "people.import"))
    assert {entry.object_id for entry in audit} == {zoe.id, jean.id}

    [mail] = [m for m in outbox_mail() if m["To"] == zoe.email]
    link = re.search(r"https://maillage.test(/password/reset/\S+)", mail.get_content()).group(1)
    page = client.get(link)
    assert page.status_code == 200
    token = TOKEN_RE.search(page.get_data(as_text=True)).group(1)
    password = "mon premier mot de passe"
    answer = client.post(
        link, data={"password": password, "confirm": password, "csrf_token": token}
    )
    assert answer.status_code == 302
    assert authenticate("zoe.lefevre", password).id == zoe.id
    db.session.expire_all()
    assert db.session.get(User, zoe.id).email_verified_at is not None  # the link proved it
    assert client.get(link).status_code == 400  # used once


def test_comma_separated_utf8_with_bom_and_derived_usernames(admin, organisations):
    data = importing.decode(
        (
            "\ufeffEmail,Name,Organisation\n"
            "marie.curie@numerique.gouv.fr,Marie Curie,Direction du numérique\n"
            "marie.curie@lille.fr,Marie Curie,Mairie de Lille\n"
        ).encode()
    )
    report = importing.import_people(admin, data, dry_run=False)
    db.session.commit()
    assert [line.username for line in report] == ["marie.curie", "marie.curie2"]


def test_bad_files_are_refused_whole(admin, organisations):
    with pytest.raises(OperationError, match="colonne « email »"):
        importing.import_people(admin, "nom;organisation\nA;B\n")
    with pytest.raises(OperationError, match="aucune ligne"):
        importing.import_people(admin, "email\n\n")
    many = "email;organisation\n" + "".join(
        f"a{n}@lille.fr;Mairie de Lille\n" for n in range(importing.MAX_LINES + 1)
    )
    with pytest.raises(OperationError, match="Trop de lignes"):
        importing.import_people(admin, many)
    with pytest.raises(OperationError, match="trop volumineux"):
        importing.decode(b"x" * (importing.MAX_BYTES + 1))


def test_only_admins_import(create_user, organisations):
    with pytest.raises(NotAllowed):
        importing.import_people(create_user(), CSV)


def test_import_page_previews_then_creates(client, login_as, admin, organisations):
    login_as(admin)
    page = client.get("/admin/people/import")
    assert page.status_code == 200
    token = TOKEN_RE.search(page.get_data(as_text=True)).group(1)
    before = users_count()
    preview = client.post(
        "/admin/people/import",
        data={"csrf_token": token, "file": (io.BytesIO(CSV.encode()), "comptes.csv")},
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Vérification (rien n" in html
    assert "Sera créé" in html
    assert "Organisation inconnue" in html
    assert users_count() == before
    data = re.search(r'name="data" value="([^"]*)"', html, re.S).group(1)
    done = client.post(
        "/admin/people/import",
        data={"csrf_token": token, "confirmed": "1", "data": unescape(data)},
    )
    assert done.status_code == 200
    assert "2 comptes créés." in done.get_data(as_text=True)
    assert users_count() == before + 2
    missing = client.post("/admin/people/import", data={"csrf_token": token})
    assert missing.status_code == 400
    assert "Choisissez un fichier CSV." in missing.get_data(as_text=True)
