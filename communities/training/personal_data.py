"""The training space in the personal data registry: the person's progress (lessons done, quiz
attempts with their answers), certificates, and what they wrote as a trainer.

Progress and certificates are the person's own: deleted with the account (a certificate's
verification page then says it is unknown).  The archive holds each certificate's data and its
verification address rather than the PDF, which is drawn on demand from those data.  Learning
paths and resources are the platform's training material, written by trainers for everyone:
they stay, whatever the person chose; the resource files they uploaded are in the archive.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from maillage.communities.training.models import (
    Certificate,
    LearningPath,
    Lesson,
    LessonCompletion,
    Quiz,
    QuizAttempt,
    Resource,
)
from maillage.platform.personal_data.archive import safe_name
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import chunked, delete_rows, export_rows


def export_completions(user) -> list[dict]:
    return export_rows(
        select(
            LessonCompletion.id,
            LessonCompletion.lesson_id,
            Lesson.title.label("lesson_title"),
            LessonCompletion.completed_at,
        )
        .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
        .where(LessonCompletion.user_id == user.id),
        LessonCompletion.id,
    )


def export_attempts(user) -> list[dict]:
    return export_rows(
        select(
            QuizAttempt.id,
            QuizAttempt.quiz_id,
            Quiz.title.label("quiz_title"),
            QuizAttempt.number,
            QuizAttempt.score,
            QuizAttempt.passed,
            QuizAttempt.answers,
            QuizAttempt.created_at,
        )
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .where(QuizAttempt.user_id == user.id),
        QuizAttempt.id,
    )


def export_certificates(user) -> list[dict]:
    rows = export_rows(
        select(
            Certificate.id,
            Certificate.code,
            LearningPath.title.label("path_title"),
            Certificate.issued_at,
        )
        .join(LearningPath, LearningPath.id == Certificate.path_id)
        .where(Certificate.user_id == user.id),
        Certificate.id,
    )
    base = current_app.config["BASE_URL"]
    for row in rows:
        row["verification_url"] = f"{base}/formation/certificats/{row['code']}"
    return rows


def export_paths(user) -> list[dict]:
    return export_rows(
        select(LearningPath.id, LearningPath.title, LearningPath.created_at).where(
            LearningPath.created_by_id == user.id
        ),
        LearningPath.id,
    )


def _resources(user):
    return select(
        Resource.id,
        Resource.title,
        Resource.kind,
        Resource.url,
        Resource.file_name,
        Resource.created_at,
        Resource.storage_key,
    ).where(Resource.created_by_id == user.id)


def _resource_file(row) -> str:
    return safe_name(f"training/{row['id']}-{row['file_name'] or 'fichier'}")


def export_resources(user) -> list[dict]:
    rows = export_rows(_resources(user), Resource.id)
    for row in rows:
        row["archive_file"] = "files/" + _resource_file(row) if row["storage_key"] else None
        del row["storage_key"]
    return rows


def resource_files(user):
    for row in chunked(_resources(user), Resource.id):
        if row.storage_key:
            yield _resource_file(row._mapping), row.storage_key


def _keep(_user, _erasure) -> None:
    """The platform's training material stays (see the module's docstring)."""


holds_personal_data(
    LessonCompletion,
    section="training_lessons_done",
    export=export_completions,
    erase=lambda user, _erasure: delete_rows(LessonCompletion, LessonCompletion.user_id == user.id),
)
holds_personal_data(
    QuizAttempt,
    section="training_quiz_attempts",
    export=export_attempts,
    erase=lambda user, _erasure: delete_rows(QuizAttempt, QuizAttempt.user_id == user.id),
)
holds_personal_data(
    Certificate,
    section="training_certificates",
    export=export_certificates,
    erase=lambda user, _erasure: delete_rows(Certificate, Certificate.user_id == user.id),
)
holds_personal_data(LearningPath, section="training_paths", export=export_paths, erase=_keep)
holds_personal_data(
    Resource,
    section="training_resources",
    export=export_resources,
    erase=_keep,
    files=resource_files,
)
