"""The task board in a real browser (Debian's chromium through Playwright, CSRF enforced): moves
with HTMX swap the board alone, columns stack on a phone, pages pass axe-core."""

from __future__ import annotations

import datetime as dt

import pytest

from maillage.communities.kanban import operations
from maillage.communities.kanban.operations import TaskFields
from maillage.platform.extensions import db
from tests.conftest import axe_violations, browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def board(create_user, create_community):
    owner = create_user("camille", display_name="Camille Laurent")
    member = create_user("thomas", display_name="Thomas Girard")
    community = create_community(
        "Réseau des acheteurs", slug="acheteurs", owner=owner, members=[member]
    )
    tasks = [
        operations.create_task(
            community,
            owner,
            TaskFields(
                title=title,
                description="Voir le **compte rendu**.",
                assignee=member,
                due_on=dt.date(2020, 1, 1) if title == "Relancer les fournisseurs" else None,
            ),
            status,
        )
        for title, status in (
            ("Préparer l'ordre du jour", "todo"),
            ("Relancer les fournisseurs", "todo"),
            ("Rédiger la synthèse", "doing"),
            ("Publier la charte", "done"),
        )
    ]
    db.session.commit()
    return tasks


def test_moving_a_task_with_htmx_swaps_the_board(page, live_server, board):
    browser_sign_in(page, live_server, "thomas")
    page.goto(f"{live_server}/c/acheteurs/tasks")
    url = page.url
    page.get_by_role("button", name="→ En cours : « Préparer l'ordre du jour »").click()
    page.locator("#column-doing-title", has_text="(2)").wait_for()
    doing = page.locator(".kanban-column-doing .kanban-card-title").all_inner_texts()
    assert doing == ["Rédiger la synthèse", "Préparer l'ordre du jour"]
    assert page.url == url  # the board was swapped in place (HTMX), no page load
    assert page.evaluate("document.activeElement.id") == f"move-{board[0].id}-doing"
    page.locator("#board-status", has_text="est maintenant dans « En cours »").wait_for(
        state="attached"
    )
    page.get_by_role("button", name="↑ Monter « Préparer l'ordre du jour »").click()
    first = page.locator(".kanban-column-doing .kanban-card:first-child .kanban-card-title")
    first.filter(has_text="Préparer l'ordre du jour").wait_for()
    # The button pressed keeps the keyboard focus across the swaps.
    assert page.evaluate("document.activeElement.id") == f"move-{board[0].id}-up"


def test_board_pages_have_no_serious_accessibility_violation(page, live_server, board):
    browser_sign_in(page, live_server, "thomas")
    task = board[1]
    for path in (
        "/c/acheteurs/tasks",
        "/c/acheteurs/tasks?filtre=mes-taches",
        f"/c/acheteurs/tasks/{task.id}",
        "/c/acheteurs/tasks/new",
        f"/c/acheteurs/tasks/{task.id}/edit",
    ):
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1, path
        assert axe_violations(page) == [], path


def test_columns_stack_on_a_phone(phone, live_server, board):
    browser_sign_in(phone, live_server, "thomas")
    phone.goto(f"{live_server}/c/acheteurs/tasks")
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    boxes = [
        phone.locator(f".kanban-column-{status}").bounding_box()
        for status in ("todo", "doing", "done")
    ]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]  # one under the other
    assert abs(boxes[0]["x"] - boxes[1]["x"]) < 1
    assert phone.get_by_text("En retard").is_visible()
