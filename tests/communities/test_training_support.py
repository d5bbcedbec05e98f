"""Fixtures and helpers shared by the training and ambassadors tests (no tests here)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from maillage.communities.training import operations as ops
from maillage.communities.training.models import LearningPath, Lesson, Quiz
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return CSRF_RE.search(html).group(1)


def send(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with a fresh CSRF token, as the browser would."""
    return client.post(url, data={"csrf_token": csrf(client), **(data or {})}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def roles(create_user, create_organisation):
    """anonymous (None), member (plain user), trainer, admin."""
    trainer = create_user("tina", display_name="Tina Formatrice")
    trainer.is_trainer = True
    admin = create_user("ada", is_admin=True, display_name="Ada Admin")
    member = create_user("marc", display_name="Marc Membre")
    db.session.commit()
    return {"anonymous": None, "member": member, "trainer": trainer, "admin": admin}


@dataclass
class Built:
    path: LearningPath
    lessons: list[Lesson]
    quiz: Quiz
    single: object
    multiple: object


@pytest.fixture
def built(roles) -> Built:
    """A published path granting the certificate: one course, one module, two lessons and a
    quiz of two questions (one single choice, one multiple choice); pass mark 50 %, 2 tries."""
    trainer = roles["trainer"]
    path = ops.create_path(trainer, "Devenir animateur", "Le **parcours**.", True)
    course = ops.create_course(path, trainer, "Les bases", "")
    module = ops.create_module(course, trainer, "Accueillir")
    lessons = [
        ops.create_lesson(module, trainer, ops.LessonFields("Leçon 1", "Bonjour *tous*")),
        ops.create_lesson(module, trainer, ops.LessonFields("Leçon 2", "Suite")),
    ]
    quiz = ops.save_quiz(module, trainer, "Quiz accueil", 50, 2)
    single = ops.add_question(
        quiz, trainer, "Capitale ?", False, [("Paris", True), ("Lyon", False)]
    )
    multiple = ops.add_question(
        quiz,
        trainer,
        "Bonnes pratiques ?",
        True,
        [("Accueillir", True), ("Relancer", True), ("Ignorer", False)],
    )
    ops.set_published(course, trainer, True)
    ops.set_published(path, trainer, True)
    db.session.commit()
    return Built(path, lessons, quiz, single, multiple)


def right_answers(built: Built) -> dict:
    return {
        f"q{built.single.id}": [c.id for c in built.single.choices if c.correct],
        f"q{built.multiple.id}": [c.id for c in built.multiple.choices if c.correct],
    }


def wrong_answers(built: Built) -> dict:
    return {
        f"q{built.single.id}": [c.id for c in built.single.choices if not c.correct],
        f"q{built.multiple.id}": [c.id for c in built.multiple.choices if not c.correct],
    }
