"""The task board over HTTP: creating, editing, assigning (with a notification), moving between
columns, overdue tasks said in words, "my tasks", deleting; bad input in French, nothing stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from maillage.communities.kanban.models import Task
from maillage.communities.kanban.queries import today
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from tests.communities.test_kanban_fixtures import *  # noqa: F403 - fixtures
from tests.communities.test_kanban_fixtures import (
    column,
    count,
    csrf,
    fresh,
    reasons,
    said,
    text_of,
)


def task_form(token: str, **fields) -> dict:
    data = {
        "csrf_token": token,
        "title": "Préparer la réunion",
        "description": "",
        "assignee": "",
        "due_on": "",
        "status": "todo",
    }
    data.update(fields)
    return data


def test_member_creates_assigns_and_moves_a_task(
    client, login_as, people, community, notifications
):
    login_as(people["member"])
    form = text_of(client.get("/c/achats/tasks/new?colonne=doing"))
    assert '<option selected value="doing">' in form
    assert f'<option value="{people["other"].id}">Nina Autre</option>' in form
    assert "Gaston Guest" not in form  # guests are read-only: they receive no task
    created = client.post(
        "/c/achats/tasks/new",
        data=task_form(
            csrf(client),
            title="  Rédiger  la synthèse ",
            description="- chiffres\n- **bilan**",
            assignee=str(people["other"].id),
            due_on="30/06/2099",
        ),
    )
    task = db.session.scalar(select(Task))
    assert created.status_code == 303
    assert created.headers["Location"] == f"/c/achats/tasks#task-{task.id}"
    assert (task.title, task.status, task.position) == ("Rédiger la synthèse", "todo", 0)
    assert "<strong>bilan</strong>" in task.description_html
    assert task.assignee_id == people["other"].id
    assert task.due_on == dt.date(2099, 6, 30)
    assert task.created_by_id == people["member"].id
    assert reasons(notifications, "assigned") == [{"nina"}]
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == task.id))

    board = said(client.get("/c/achats/tasks"))
    assert "La tâche « Rédiger la synthèse » est créée." in board
    assert "À faire (1) Rédiger la synthèse Pour Nina Autre · échéance le 30/06/2099" in board
    assert "En cours (0) Aucune tâche." in board

    moved = client.post(
        f"/c/achats/tasks/{task.id}/move",
        data={"csrf_token": csrf(client), "action": "done", "next": "/c/achats/tasks"},
    )
    assert moved.status_code == 303
    assert moved.headers["Location"] == f"/c/achats/tasks#task-{task.id}"
    assert "« Rédiger la synthèse » est maintenant dans « Terminé »." in said(
        client.get("/c/achats/tasks")
    )
    assert fresh(task).status == "done"
    assert fresh(task).done_at is not None
    client.post(
        f"/c/achats/tasks/{task.id}/move", data={"csrf_token": csrf(client), "action": "doing"}
    )
    assert fresh(task).status == "doing"
    assert fresh(task).done_at is None

    page = said(client.get(f"/c/achats/tasks/{task.id}"))
    assert "Colonne En cours Personne chargée Nina Autre Échéance 30 juin 2099" in page


def test_editing_a_task_reassigns_and_tells_the_new_assignee_only(
    client, login_as, people, community, make_task, notifications
):
    task = make_task(community, people["member"], assignee=people["other"])
    notifications.clear()
    login_as(people["other"])
    edited = client.post(
        f"/c/achats/tasks/{task.id}/edit",
        data=task_form(
            csrf(client),
            title="Préparer la réunion plénière",
            assignee=str(people["moderator"].id),
            status="doing",
        ),
    )
    assert edited.status_code == 303
    task = fresh(task)
    assert (task.title, task.assignee_id, task.status) == (
        "Préparer la réunion plénière",
        people["moderator"].id,
        "doing",
    )
    assert reasons(notifications, "assigned") == [{"mona"}]
    notifications.clear()
    # Keeping the same assignee tells nobody; assigning oneself tells nobody either.
    client.post(
        f"/c/achats/tasks/{task.id}/edit",
        data=task_form(csrf(client), title="Autre titre", assignee=str(people["moderator"].id)),
    )
    client.post(
        f"/c/achats/tasks/{task.id}/edit",
        data=task_form(csrf(client), title="Autre titre", assignee=str(people["other"].id)),
    )
    assert reasons(notifications, "assigned") == []
    assert fresh(task).assignee_id == people["other"].id


def test_the_assignee_must_be_a_current_member(
    client, login_as, people, community, make_task, create_community
):
    login_as(people["member"])
    token = csrf(client)
    for person in ("outsider", "guest"):
        refused = client.post(
            "/c/achats/tasks/new", data=task_form(token, assignee=str(people[person].id))
        )
        assert refused.status_code == 400
        assert "ne peut pas recevoir cette tâche : seuls les membres de la communauté" in said(
            refused
        )
        assert 'aria-invalid="true"' in text_of(refused)
    unknown = client.post("/c/achats/tasks/new", data=task_form(token, assignee="999999"))
    assert unknown.status_code == 400
    assert "Choisissez une personne dans la liste." in said(unknown)
    assert count(Task) == 0

    # Someone who left stays assigned while the task is edited, but cannot be chosen again.
    task = make_task(community, people["owner"], assignee=people["other"])
    from maillage.communities.community.operations import leave

    leave(fresh(community), fresh(people["other"]))
    db.session.commit()
    form = text_of(client.get(f"/c/achats/tasks/{task.id}/edit"))
    assert "Nina Autre (n'est plus membre)" in form
    kept = client.post(
        f"/c/achats/tasks/{task.id}/edit",
        data=task_form(token, title="Renommée", assignee=str(people["other"].id)),
    )
    assert kept.status_code == 303
    assert fresh(task).title == "Renommée"


def test_invalid_tasks_are_refused_in_french_and_nothing_is_stored(
    client, login_as, people, community
):
    login_as(people["member"])
    token = csrf(client)
    cases = [
        ({"title": "  "}, "Le titre de la tâche est obligatoire."),
        ({"title": "x" * 201}, "Le titre fait 200 caractères au plus."),
        ({"due_on": "31/02/2026"}, "Date invalide : utilisez le format JJ/MM/AAAA"),
        ({"due_on": "01/01/1990"}, "L'échéance doit être comprise entre 2000 et 2100."),
        ({"status": "archived"}, "Choisissez la colonne : à faire, en cours ou terminé."),
        ({"assignee": "marc"}, "Choisissez une personne dans la liste."),
        ({"description": "x" * 60_000}, "Le texte fait 60000 caractères"),
    ]
    for fields, message in cases:
        response = client.post("/c/achats/tasks/new", data=task_form(token, **fields))
        assert response.status_code == 400, fields
        assert message in said(response), fields
        assert 'role="alert"' in text_of(response)
    assert count(Task) == 0
    forged = client.post("/c/achats/tasks/new", data=task_form("forged"))
    assert forged.status_code == 400
    assert count(Task) == 0


def test_an_unknown_move_is_refused_in_french(client, login_as, people, community, make_task):
    task = make_task(community, people["member"])
    login_as(people["member"])
    refused = client.post(
        f"/c/achats/tasks/{task.id}/move", data={"csrf_token": csrf(client), "action": "archive"}
    )
    assert refused.status_code == 400
    assert "Colonne inconnue" in said(refused)
    assert fresh(task).status == "todo"


def test_overdue_tasks_are_said_in_words(client, login_as, people, community, make_task):
    late = make_task(community, people["member"], title="En souffrance")
    late.due_on = today() - dt.timedelta(days=1)
    on_time = make_task(community, people["member"], title="Dans les temps")
    on_time.due_on = today()
    finished = make_task(community, people["member"], title="Finie en retard", status="done")
    finished.due_on = today() - dt.timedelta(days=3)
    db.session.commit()
    login_as(None)
    board = said(client.get("/c/achats/tasks"))
    assert "En souffrance Non assignée" in board
    assert board.count("En retard : l'échéance est dépassée.") == 1
    html = text_of(client.get("/c/achats/tasks"))
    assert f'<li class="kanban-card kanban-card-overdue" id="task-{late.id}">' in html
    assert "En retard" in said(client.get(f"/c/achats/tasks/{late.id}"))
    assert "En retard" not in said(client.get(f"/c/achats/tasks/{finished.id}"))


def test_my_tasks_filter(client, login_as, people, community, make_task):
    make_task(community, people["owner"], title="Pour Marc", assignee=people["member"])
    make_task(community, people["owner"], title="Pour Nina", assignee=people["other"])
    make_task(community, people["owner"], title="Pour personne")
    login_as(people["member"])
    mine = said(client.get("/c/achats/tasks?filtre=mes-taches"))
    assert "Pour Marc" in mine
    assert "Pour Nina" not in mine
    assert "Pour personne" not in mine
    assert "Mes tâches · Achats publics" in mine
    everything = said(client.get("/c/achats/tasks"))
    assert "Pour Nina" in everything
    assert "Pour personne" in everything
    login_as(None)  # the filter means nothing to a visitor: everything is shown
    assert "Pour Nina" in said(client.get("/c/achats/tasks?filtre=mes-taches"))


def test_creator_or_moderators_delete_a_task(client, login_as, people, community, make_task):
    first = make_task(community, people["member"], title="Première")
    second = make_task(community, people["member"], title="Deuxième")
    third = make_task(community, people["member"], title="Troisième")
    second_id = second.id
    login_as(people["other"])
    assert client.get(f"/c/achats/tasks/{second.id}/delete").status_code == 403
    assert "Supprimer" not in said(client.get(f"/c/achats/tasks/{second.id}"))
    login_as(people["moderator"])
    assert "Supprimer" in said(client.get(f"/c/achats/tasks/{second.id}/delete"))
    deleted = client.post(
        f"/c/achats/tasks/{second.id}/delete", data={"confirmed": "1", "csrf_token": csrf(client)}
    )
    assert deleted.status_code == 303
    assert deleted.headers["Location"] == "/c/achats/tasks"
    assert client.get(f"/c/achats/tasks/{second_id}").status_code == 404
    assert column(community, "todo") == [("Première", 0), ("Troisième", 1)]
    login_as(people["member"])
    client.post(
        f"/c/achats/tasks/{third.id}/delete", data={"confirmed": "1", "csrf_token": csrf(client)}
    )
    assert column(community, "todo") == [("Première", 0)]
    assert fresh(first).title == "Première"
