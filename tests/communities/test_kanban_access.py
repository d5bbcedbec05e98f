"""Who reaches the board: secret communities are a 404 everywhere, private ones ask to sign in,
a switched-off module is a 404, guests only read; search; the demo boards."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from maillage.communities.community.models import Community
from maillage.communities.kanban import operations
from maillage.communities.kanban.models import Task
from maillage.communities.kanban.operations import TaskFields
from maillage.communities.search.queries import search
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from tests.communities.test_kanban_fixtures import *  # noqa: F403 - fixtures
from tests.communities.test_kanban_fixtures import count, csrf, fresh, said, text_of


def task_urls(slug: str, task_id: int) -> list[tuple[str, str]]:
    base = f"/c/{slug}/tasks"
    return [
        ("GET", base),
        ("GET", f"{base}/new"),
        ("POST", f"{base}/new"),
        ("GET", f"{base}/{task_id}"),
        ("GET", f"{base}/{task_id}/edit"),
        ("POST", f"{base}/{task_id}/edit"),
        ("POST", f"{base}/{task_id}/move"),
        ("GET", f"{base}/{task_id}/delete"),
        ("POST", f"{base}/{task_id}/delete"),
    ]


def request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf(client), "title": "X", "action": "done"})


def test_a_secret_community_s_board_is_a_404_to_outsiders(
    client, login_as, people, create_community, make_task
):
    secret = create_community("Cellule", visibility="secret", owner=people["owner"])
    task = make_task(secret, people["owner"])
    slug = fresh(secret).slug
    for viewer in (None, people["outsider"]):
        login_as(viewer)
        for method, url in task_urls(slug, task.id):
            assert request(client, method, url).status_code == 404, (viewer, method, url)
    assert fresh(task).status == "todo"
    assert count(Task) == 1
    login_as(people["owner"])
    assert "Préparer la réunion" in said(client.get(f"/c/{slug}/tasks"))


def test_a_private_community_s_board_asks_to_sign_in_or_refuses(
    client, login_as, people, create_community, make_task
):
    private = create_community(
        "Juristes", slug="juristes", visibility="private", owner=people["owner"]
    )
    task = make_task(private, people["owner"])
    login_as(None)
    response = client.get(f"/c/juristes/tasks/{task.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    login_as(people["outsider"])
    refused = client.get("/c/juristes/tasks")
    assert refused.status_code == 403
    assert "Les tâches de cette communauté sont réservées à ses membres." in said(refused)


def test_a_switched_off_module_is_a_404_everywhere(client, login_as, people, community, make_task):
    task = make_task(community, people["owner"])
    community = fresh(community)
    community.disabled_modules = ["tasks"]
    db.session.commit()
    login_as(people["owner"])
    for method, url in task_urls("achats", task.id):
        assert request(client, method, url).status_code == 404, (method, url)
    assert 'href="/c/achats/tasks"' not in text_of(client.get("/c/achats"))
    with pytest.raises(OperationError, match="Les tâches sont désactivées"):
        operations.create_task(fresh(community), people["owner"], TaskFields(title="Non"))
    db.session.rollback()
    assert count(Task) == 1


def test_unknown_and_foreign_tasks_are_a_404(
    client, login_as, people, community, create_community, make_task
):
    elsewhere = create_community("Ailleurs", slug="ailleurs", owner=people["owner"])
    task = make_task(elsewhere, people["owner"])
    login_as(people["owner"])
    assert client.get(f"/c/achats/tasks/{task.id}").status_code == 404
    assert client.get("/c/achats/tasks/999999").status_code == 404
    moved = client.post(
        f"/c/achats/tasks/{task.id}/move", data={"csrf_token": csrf(client), "action": "done"}
    )
    assert moved.status_code == 404
    assert fresh(task).status == "todo"


def test_guests_and_visitors_read_the_board_but_change_nothing(
    client, login_as, people, community, make_task
):
    task = make_task(community, people["member"])
    login_as(people["guest"])
    board = client.get("/c/achats/tasks")
    assert board.status_code == 200
    assert "Préparer la réunion" in said(board)
    assert "Nouvelle tâche" not in said(board)
    assert 'class="kanban-moves"' not in text_of(board)
    for method, url in task_urls("achats", task.id)[1:]:
        if url.endswith(f"/{task.id}"):
            continue
        assert request(client, method, url).status_code == 403, (method, url)
    with pytest.raises(NotAllowed):
        operations.move_task(fresh(task), people["guest"], "done")
    db.session.rollback()
    login_as(None)
    assert "Préparer la réunion" in said(client.get("/c/achats/tasks"))
    anonymous = client.post(
        f"/c/achats/tasks/{task.id}/move", data={"csrf_token": csrf(client), "action": "done"}
    )
    assert anonymous.status_code == 302
    assert fresh(task).status == "todo"
    assert count(Task) == 1


# -- search ------------------------------------------------------------------------------------


def hits(viewer, words: str) -> list[tuple[str, int]]:
    return [(item.kind, item.obj.id) for item in search(viewer, words).items]


def test_tasks_are_found_by_title_and_description(
    client, people, community, create_community, make_task
):
    task = make_task(
        community,
        people["member"],
        title="Cartographier les fournisseurs",
        description="Inclure les structures d'insertion.",
    )
    assert hits(None, "cartographier") == [("task", task.id)]
    assert hits(None, "insertion") == [("task", task.id)]
    assert f'href="/c/achats/tasks/{task.id}"' in text_of(client.get("/search?q=cartographier"))

    operations.edit_task(fresh(task), people["member"], TaskFields(title="Recenser les SIAE"))
    db.session.commit()
    assert hits(None, "cartographier") == []
    assert hits(None, "recenser") == [("task", task.id)]

    private = create_community(
        "Juristes", slug="juristes", visibility="private", owner=people["owner"]
    )
    hidden = make_task(private, people["owner"], title="Jurisprudence confidentielle")
    assert hits(people["outsider"], "jurisprudence") == []
    assert hits(people["owner"], "jurisprudence") == [("task", hidden.id)]

    from maillage.communities.search.kinds import SEARCH_KINDS

    assert list(SEARCH_KINDS["task"].ids_in_community(db.session, community.id)) == [task.id]
    operations.delete_task(fresh(task), people["member"])
    db.session.commit()
    assert hits(None, "recenser") == []


# -- demo --------------------------------------------------------------------------------------


def test_demo_boards_have_tasks_in_every_column(app, client):
    from maillage.communities import demo
    from maillage.communities.kanban import demo as kanban_demo
    from maillage.communities.organisations.operations import create_organisation

    organisations = {
        key: create_organisation(name, kind, siret)
        for key, (name, kind, siret) in demo.ORGANISATIONS.items()
    }
    people = demo._create_people(organisations)
    themes = demo._create_topics()
    communities = {
        spec[0]: demo._create_community(spec, people, themes) for spec in demo.COMMUNITIES
    }
    kanban_demo.load_demo(people, communities, random.Random(2026))
    db.session.commit()

    rows = db.session.execute(
        select(Community.slug, Task.status, func.count())
        .join(Task, Task.community_id == Community.id)
        .group_by(Community.slug, Task.status)
    ).all()
    per_board: dict[str, set[str]] = {}
    for slug, status, _count in rows:
        per_board.setdefault(slug, set()).add(status)
    full = [slug for slug, statuses in per_board.items() if statuses == {"todo", "doing", "done"}]
    assert len(full) >= 2
    board = said(client.get("/c/acheteurs-publics/tasks"))
    assert "En retard : l'échéance est dépassée." in board
    assert "Préparer l'ordre du jour de la plénière" in board
