"""Trainers over HTTP: create, edit, reorder, publish and delete paths, courses, modules,
lessons (attachments, video links) and quizzes; bad input in French with nothing stored;
permissions per role (anonymous, member, trainer, admin)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from maillage.communities.training.models import (
    Course,
    LearningPath,
    Lesson,
    LessonAttachment,
    Question,
    Quiz,
)
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from tests.communities.test_training_support import send, text

pytest_plugins = ("tests.communities.test_training_support",)


def _count(model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 302), ("member", 403), ("trainer", 200), ("admin", 200)]
)
def test_who_may_create_a_path(client, login_as, roles, role, status):
    login_as(roles[role])
    assert client.get("/formation/parcours/nouveau").status_code == status
    response = send(client, "/formation/parcours/nouveau", {"title": "Parcours"})
    assert response.status_code == (302 if status == 200 else status)
    assert _count(LearningPath) == (1 if status == 200 else 0)


@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_learners_cannot_author(client, login_as, roles, built, role):
    login_as(roles[role])
    module = built.lessons[0].module
    urls = [
        (f"/formation/parcours/{built.path.id}/modifier", {"title": "X"}),
        (f"/formation/parcours/{built.path.id}/cours/nouveau", {"title": "X"}),
        (f"/formation/cours/{module.course_id}/modules/nouveau", {"title": "X"}),
        (f"/formation/modules/{module.id}/lecons/nouvelle", {"title": "X"}),
        (f"/formation/lecons/{built.lessons[0].id}/modifier", {"title": "X"}),
        (f"/formation/modules/{module.id}/quiz", {"title": "X", "pass_mark": "5"}),
        (f"/formation/parcours/{built.path.id}/publier", {"published": "0"}),
        (f"/formation/lecons/{built.lessons[0].id}/deplacer", {"direction": "down"}),
        (f"/formation/parcours/{built.path.id}/supprimer", {}),
        (f"/formation/questions/{built.single.id}/supprimer", {}),
    ]
    for url, data in urls:
        assert send(client, url, data).status_code == (302 if role == "anonymous" else 403), url
    assert _count(LearningPath, LearningPath.published_at.is_not(None)) == 1
    assert _count(Question) == 2


def test_trainer_builds_a_path(client, login_as, roles):
    login_as(roles["trainer"])
    created = send(
        client,
        "/formation/parcours/nouveau",
        {
            "title": "  Animer   une communauté ",
            "summary": "**Bienvenue**",
            "grants_certificate": "y",
        },
    )
    path = db.session.scalar(select(LearningPath))
    assert created.headers["Location"] == f"/formation/parcours/{path.id}"
    assert (path.title, path.grants_certificate, path.published) == (
        "Animer une communauté",
        True,
        False,
    )
    assert "<strong>Bienvenue</strong>" in path.summary_html
    send(client, f"/formation/parcours/{path.id}/cours/nouveau", {"title": "Cours A"})
    course = db.session.scalar(select(Course))
    send(client, f"/formation/cours/{course.id}/modules/nouveau", {"title": "Module 1"})
    module = course.modules[0]
    lesson_url = f"/formation/modules/{module.id}/lecons/nouvelle"
    send(
        client,
        lesson_url,
        {
            "title": "L1",
            "body": "<script>x</script> *ok*",
            "video_url": "https://video.example/v/1",
        },
    )
    send(client, lesson_url, {"title": "L2"})
    lessons = db.session.scalars(select(Lesson).order_by(Lesson.position)).all()
    assert [le.title for le in lessons] == ["L1", "L2"]
    assert "<script>" not in lessons[0].body_html
    page = text(client.get(f"/formation/lecons/{lessons[0].id}"))
    assert 'href="https://video.example/v/1"' in page
    assert "<iframe" not in page

    send(client, f"/formation/lecons/{lessons[1].id}/deplacer", {"direction": "up"})
    ordered = db.session.scalars(select(Lesson).order_by(Lesson.position)).all()
    assert [le.title for le in ordered] == ["L2", "L1"]

    assert (
        send(client, f"/formation/cours/{course.id}/publier", {"published": "1"}).status_code == 302
    )
    assert (
        send(client, f"/formation/parcours/{path.id}/publier", {"published": "1"}).status_code
        == 302
    )
    db.session.refresh(path)
    assert path.published
    assert db.session.get(Course, course.id).published
    assert _count(AuditEntry, AuditEntry.action == "training.path_publish") == 1


def test_publishing_empty_things_is_refused(client, login_as, roles):
    login_as(roles["trainer"])
    send(client, "/formation/parcours/nouveau", {"title": "Vide"})
    path = db.session.scalar(select(LearningPath))
    response = send(
        client, f"/formation/parcours/{path.id}/publier", {"published": "1"}, follow_redirects=True
    )
    assert "Ajoutez au moins un cours" in text(response)
    db.session.refresh(path)
    assert not path.published


def test_bad_input_is_refused_in_french(client, login_as, roles, built):
    login_as(roles["trainer"])
    empty = send(client, "/formation/parcours/nouveau", {"title": "   "})
    assert empty.status_code == 422
    assert "Le titre est obligatoire." in text(empty)
    module = built.lessons[0].module
    bad_video = send(
        client,
        f"/formation/modules/{module.id}/lecons/nouvelle",
        {"title": "L", "video_url": "javascript:alert(1)"},
    )
    assert bad_video.status_code == 422
    assert "https://" in text(bad_video)
    assert _count(LearningPath) == 1
    assert _count(Lesson) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pass_mark": "120", "max_attempts": "3"}, "pourcentage entre 0 et 100"),
        ({"pass_mark": "-1", "max_attempts": "3"}, "pourcentage entre 0 et 100"),
        ({"pass_mark": "abc", "max_attempts": "3"}, "nombre entier"),
        ({"pass_mark": "70", "max_attempts": "0"}, "entre 1 et 20"),
        ({"pass_mark": "70", "max_attempts": "99"}, "entre 1 et 20"),
    ],
)
def test_quiz_settings_out_of_range(client, login_as, roles, built, data, message):
    login_as(roles["trainer"])
    module = built.lessons[0].module
    response = send(client, f"/formation/modules/{module.id}/quiz", {"title": "Q", **data})
    assert response.status_code == 422
    assert message in text(response)
    quiz = db.session.get(Quiz, built.quiz.id)
    assert (quiz.pass_mark, quiz.max_attempts) == (50, 2)


def test_trainer_adds_and_deletes_questions(client, login_as, roles, built):
    login_as(roles["trainer"])
    module = built.lessons[0].module
    url = f"/formation/modules/{module.id}/quiz/questions"
    ok = send(
        client, url, {"text": "Combien ?", "choice_1": "Un", "correct_1": "y", "choice_2": "Deux"}
    )
    assert ok.status_code == 302
    assert _count(Question) == 3
    question = db.session.scalar(select(Question).where(Question.text == "Combien ?"))
    assert (
        send(
            client, f"/formation/questions/{question.id}/supprimer", {"confirmed": "1"}
        ).status_code
        == 302
    )
    assert _count(Question) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "Q", "choice_1": "A", "choice_2": "B"}, "au moins une bonne réponse"),
        ({"text": "Q", "choice_1": "A", "correct_1": "y"}, "au moins deux réponses"),
        (
            {"text": "Q", "choice_1": "A", "correct_1": "y", "choice_2": "B", "correct_2": "y"},
            "exactement une bonne réponse",
        ),
        ({"text": "", "choice_1": "A", "correct_1": "y", "choice_2": "B"}, "intitulé"),
    ],
)
def test_bad_questions_are_refused(client, login_as, roles, built, data, message):
    login_as(roles["trainer"])
    module = built.lessons[0].module
    response = send(client, f"/formation/modules/{module.id}/quiz/questions", data)
    assert response.status_code == 422
    assert message in text(response)
    assert _count(Question) == 2


def test_attachment_upload_and_download(client, login_as, roles, built):
    lesson = built.lessons[0]
    login_as(roles["trainer"])
    url = f"/formation/lecons/{lesson.id}/pieces"
    refused = send(
        client,
        url,
        {"file": (io.BytesIO(b"MZ\x90\x00"), "outil.exe")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "ne sont pas acceptés" in text(refused)
    sent = send(
        client,
        url,
        {"file": (io.BytesIO(b"Fiche pratique\n"), "fiche.txt")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    piece = db.session.scalar(select(LessonAttachment))
    assert piece.file_name == "fiche.txt"
    login_as(roles["member"])
    download = client.get(f"/formation/lecons/{lesson.id}/pieces/{piece.id}")
    assert download.status_code == 200
    assert download.data == b"Fiche pratique\n"
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()


def test_delete_path_removes_everything(client, login_as, roles, built):
    login_as(roles["trainer"])
    assert client.get(f"/formation/parcours/{built.path.id}/supprimer").status_code == 200
    assert (
        send(
            client, f"/formation/parcours/{built.path.id}/supprimer", {"confirmed": "1"}
        ).status_code
        == 302
    )
    assert _count(LearningPath) == _count(Lesson) == _count(Question) == 0


def test_unknown_kind_is_404(client, login_as, roles, built):
    login_as(roles["trainer"])
    assert (
        send(client, f"/formation/autre/{built.path.id}/deplacer", {"direction": "up"}).status_code
        == 404
    )
    assert send(client, "/formation/parcours/999/publier", {"published": "1"}).status_code == 404
