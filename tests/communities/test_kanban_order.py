"""Order on the board: moves between columns, up/down buttons, positions kept 0, 1, 2… with no
duplicate even under concurrent moves; the board costs a bounded number of queries."""

from __future__ import annotations

import threading

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from maillage.communities.kanban import operations
from maillage.communities.kanban.models import Task
from maillage.platform.extensions import db
from tests.communities.test_kanban_fixtures import *  # noqa: F403 - fixtures
from tests.communities.test_kanban_fixtures import column, csrf, fresh, said, text_of


def titles(community, status: str) -> list[str]:
    return [title for title, _position in column(community, status)]


def dense(community, status: str) -> bool:
    return [position for _title, position in column(community, status)] == list(
        range(len(column(community, status)))
    )


def test_up_and_down_buttons_reorder_a_column_without_javascript(
    client, login_as, people, community, make_task
):
    for title in ("A", "B", "C"):
        make_task(community, people["member"], title=title)
    a, b, c = db.session.scalars(select(Task).order_by(Task.id)).all()
    login_as(people["member"])
    html = text_of(client.get("/c/achats/tasks"))
    assert f'id="move-{a.id}-up" aria-disabled="true"' in html  # first: "up" does nothing
    assert f'id="move-{a.id}-down">' in html
    assert f'id="move-{c.id}-down" aria-disabled="true"' in html  # last

    def press(task, action):
        return client.post(
            f"/c/achats/tasks/{task.id}/move",
            data={"csrf_token": csrf(client), "action": action, "next": "/c/achats/tasks"},
        )

    response = press(c, "up")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/c/achats/tasks#task-{c.id}"
    assert column(community, "todo") == [("A", 0), ("C", 1), ("B", 2)]
    press(a, "down")
    assert titles(community, "todo") == ["C", "A", "B"]
    press(fresh(c), "up")  # already first: nothing changes
    press(fresh(b), "down")  # already last
    assert column(community, "todo") == [("C", 0), ("A", 1), ("B", 2)]
    board = said(client.get("/c/achats/tasks"))
    assert board.index("C Non assignée") < board.index("A Non assignée") < board.index("B Non")


def test_moving_between_columns_keeps_every_column_dense(people, community, make_task):
    for title in ("A", "B", "C", "D"):
        make_task(community, people["member"], title=title)
    tasks = {t.title: t for t in db.session.scalars(select(Task))}
    member = people["member"]
    operations.move_task(tasks["B"], member, "doing")
    operations.move_task(tasks["C"], member, "doing")
    operations.move_task(tasks["A"], member, "done")
    operations.move_task(tasks["D"], member, "done")
    db.session.commit()
    assert column(community, "todo") == []
    assert column(community, "doing") == [("B", 0), ("C", 1)]  # entering: last
    assert column(community, "done") == [("D", 0), ("A", 1)]  # done: latest on top
    operations.move_task(fresh(tasks["B"]), member, "todo")
    operations.move_task(fresh(tasks["A"]), member, "doing")
    db.session.commit()
    assert column(community, "todo") == [("B", 0)]
    assert column(community, "doing") == [("C", 0), ("A", 1)]
    assert column(community, "done") == [("D", 0)]
    assert fresh(tasks["A"]).done_at is None
    assert fresh(tasks["D"]).done_at is not None
    new = make_task(community, member, title="E", status="done")
    assert column(community, "done") == [("E", 0), ("D", 1)]
    assert fresh(new).done_at is not None


def test_a_duplicate_position_is_repaired_by_the_next_reorder(people, community, make_task):
    for title in ("A", "B", "C"):
        make_task(community, people["member"], title=title)
    # As if an old bug (or a manual fix in the database) had left two tasks at the same place.
    db.session.execute(update(Task).values(position=0))
    db.session.commit()
    assert titles(community, "todo") == ["A", "B", "C"]  # still a defined order: (position, id)
    c = db.session.scalar(select(Task).where(Task.title == "C"))
    operations.reorder_task(c, people["member"], "up")
    db.session.commit()
    assert column(community, "todo") == [("A", 0), ("C", 1), ("B", 2)]


def _move_with_retries(task_id: int, user_id: int, target: str) -> None:
    """One move in its own transaction; SQLite answers "database is locked" to the loser of a
    race (PostgreSQL makes it wait on the row lock instead): try again."""
    from maillage.communities.users.models import User

    for _attempt in range(50):
        try:
            task, user = db.session.get(Task, task_id), db.session.get(User, user_id)
            operations.move_task(task, user, target)
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()


def _mover(app, user_id: int, task_ids: list[int], targets: list[str], errors: list):
    def run() -> None:
        with app.app_context():
            try:
                plan = targets
                for _round in range(4):
                    for task_id, target in zip(task_ids, plan, strict=True):
                        _move_with_retries(task_id, user_id, target)
                    plan = list(reversed(plan))
            except Exception as exc:  # reported to the test
                errors.append(exc)
            finally:
                db.session.remove()

    return threading.Thread(target=run)


def test_concurrent_moves_never_leave_two_tasks_at_the_same_place(
    app, people, community, make_task
):
    for number in range(6):
        make_task(community, people["member"], title=f"T{number}")
    ids = list(db.session.scalars(select(Task.id).order_by(Task.id)))
    errors: list[BaseException] = []
    threads = [
        _mover(app, people["member"].id, ids[:3], ["done", "doing", "done"], errors),
        _mover(app, people["member"].id, ids[3:], ["doing", "done", "done"], errors),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    sizes = [len(column(community, status)) for status in ("todo", "doing", "done")]
    assert sum(sizes) == 6
    for status in ("todo", "doing", "done"):
        assert dense(community, status), column(community, status)


def test_deleting_closes_the_gap(people, community, make_task):
    for title in ("A", "B", "C"):
        make_task(community, people["member"], title=title)
    b = db.session.scalar(select(Task).where(Task.title == "B"))
    operations.delete_task(b, people["member"])
    db.session.commit()
    assert column(community, "todo") == [("A", 0), ("C", 1)]
    assert dense(community, "todo")


def test_the_board_costs_a_bounded_number_of_queries(
    client, login_as, people, community, make_task, count_queries, create_user
):
    def measure(url: str) -> int:
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    make_task(community, people["member"], title="Seule", assignee=people["other"])
    login_as(people["member"])
    client.get("/c/achats/tasks")  # today's visits are recorded once (analytics)
    few = measure("/c/achats/tasks")
    few_mine = measure("/c/achats/tasks?filtre=mes-taches")
    from maillage.communities.community.operations import add_membership

    for number in range(15):
        person = create_user()
        add_membership(fresh(community), person, "member")
        db.session.commit()
        status = ("todo", "doing", "done")[number % 3]
        make_task(
            community, people["owner"], title=f"Tâche {number}", status=status, assignee=person
        )
    assert measure("/c/achats/tasks") == few
    assert measure("/c/achats/tasks?filtre=mes-taches") == few_mine


def test_the_done_column_shows_the_latest_and_links_to_all(
    client, login_as, people, community, make_task, monkeypatch
):
    from maillage.communities.kanban import queries

    monkeypatch.setitem(queries.COLUMN_LIMIT, "done", 2)
    for title in ("Vieille", "Moyenne", "Récente"):
        make_task(community, people["member"], title=title, status="done")
    login_as(people["member"])
    board = said(client.get("/c/achats/tasks"))
    assert "Terminé (3) Récente" in board
    assert "Vieille" not in board
    assert "1 tâche de plus n'est pas affichée. Voir toutes les tâches terminées" in board
    assert "Vieille" in said(client.get("/c/achats/tasks?terminees=toutes"))
