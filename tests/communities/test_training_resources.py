"""The resources library over HTTP: browsing, filtering, adding (link or file), deleting;
permissions per role; bad input."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from maillage.communities.training import operations as ops
from maillage.communities.training.models import Resource
from maillage.platform.extensions import db
from tests.communities.test_training_support import send, text

pytest_plugins = ("tests.communities.test_training_support",)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Resource))


@pytest.fixture
def library(roles):
    trainer = roles["trainer"]
    ops.create_resource(
        trainer,
        "Guide de l'animateur",
        "guide",
        "Tout pour démarrer",
        url="https://exemple.gouv.fr/guide",
    )
    ops.create_resource(
        trainer, "Modèle de charte", "template", "", url="https://exemple.gouv.fr/c"
    )
    db.session.commit()


def test_browse_and_filter(client, login_as, roles, library):
    assert client.get("/formation/ressources").status_code == 302
    login_as(roles["member"])
    page = text(client.get("/formation/ressources"))
    assert "Guide de l&#39;animateur" in page
    assert "Modèle de charte" in page
    filtered = text(client.get("/formation/ressources?kind=template"))
    assert "Modèle de charte" in filtered
    assert "Guide de l&#39;animateur" not in filtered
    searched = text(client.get("/formation/ressources?q=démarrer"))
    assert "Guide de l&#39;animateur" in searched
    assert "Modèle de charte" not in searched
    assert client.get("/formation/ressources?kind=nimporte").status_code == 200


@pytest.mark.parametrize(("role", "status"), [("member", 403), ("trainer", 302), ("admin", 302)])
def test_who_may_add(client, login_as, roles, role, status):
    login_as(roles[role])
    response = send(
        client,
        "/formation/ressources/nouvelle",
        {"title": "Fiche", "kind": "howto", "url": "https://exemple.gouv.fr/f"},
    )
    assert response.status_code == status
    assert _count() == (1 if status == 302 else 0)


def test_file_resource_and_download(client, login_as, roles):
    login_as(roles["trainer"])
    response = send(
        client,
        "/formation/ressources/nouvelle",
        {
            "title": "Trame",
            "kind": "template",
            "file": (io.BytesIO(b"Trame de compte rendu\n"), "trame.txt"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    resource = db.session.scalar(select(Resource))
    login_as(roles["member"])
    download = client.get(f"/formation/ressources/{resource.id}/fichier")
    assert download.data == b"Trame de compte rendu\n"
    download.close()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "X", "kind": "guide"}, "Indiquez un lien ou joignez un fichier"),
        ({"title": "X", "kind": "guide", "url": "javascript:alert(1)"}, "https://"),
        ({"title": "", "kind": "guide", "url": "https://a.fr"}, "Le titre est obligatoire"),
        ({"title": "X", "kind": "autre-chose", "url": "https://a.fr"}, "Type"),
    ],
)
def test_bad_resources(client, login_as, roles, data, message):
    login_as(roles["trainer"])
    response = send(client, "/formation/ressources/nouvelle", data)
    assert response.status_code == 422
    assert message in text(response)
    assert _count() == 0


def test_delete(client, login_as, roles, library):
    resource = db.session.scalar(select(Resource).limit(1))
    login_as(roles["member"])
    assert (
        send(
            client, f"/formation/ressources/{resource.id}/supprimer", {"confirmed": "1"}
        ).status_code
        == 403
    )
    login_as(roles["trainer"])
    assert (
        send(
            client, f"/formation/ressources/{resource.id}/supprimer", {"confirmed": "1"}
        ).status_code
        == 302
    )
    assert _count() == 1
