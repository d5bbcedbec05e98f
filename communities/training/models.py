"""The facilitator training space: learning paths, courses, modules, lessons, quizzes, progress,
certificates and a resources library.

A path holds courses, a course modules, a module lessons and at most one quiz; each level keeps a
``position`` so trainers choose the order.  Paths and courses are drafts until published
(``published_at``); learners only see published ones.  Progress is what a learner did: lessons
marked done (``LessonCompletion``) and quiz attempts (``QuizAttempt``, with their score).
Completing every published course of a path that ``grants_certificate`` issues a ``Certificate``
with a unique, unguessable verification code.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class ResourceKind(enum.StrEnum):
    GUIDE = "guide"
    HOWTO = "howto"
    TEMPLATE = "template"
    OTHER = "other"


class LearningPath(db.Model):
    __tablename__ = "training_paths"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary_source: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    grants_certificate: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    courses: Mapped[list[Course]] = relationship(
        back_populates="path", order_by="Course.position, Course.id", cascade="all, delete-orphan"
    )

    @property
    def published(self) -> bool:
        return self.published_at is not None

    def __repr__(self) -> str:
        return f"<LearningPath {self.id} {self.title!r}>"


class Course(db.Model):
    __tablename__ = "training_courses"
    __table_args__ = (Index("ix_training_courses_path_position", "path_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("training_paths.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    summary_source: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    path: Mapped[LearningPath] = relationship(back_populates="courses")
    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position, Module.id", cascade="all, delete-orphan"
    )

    @property
    def published(self) -> bool:
        return self.published_at is not None

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title!r}>"


class Module(db.Model):
    __tablename__ = "training_modules"
    __table_args__ = (Index("ix_training_modules_course_position", "course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", order_by="Lesson.position, Lesson.id", cascade="all, delete-orphan"
    )
    quiz: Mapped[Quiz | None] = relationship(
        back_populates="module", cascade="all, delete-orphan", uselist=False
    )

    def __repr__(self) -> str:
        return f"<Module {self.id} {self.title!r}>"


class Lesson(db.Model):
    __tablename__ = "training_lessons"
    __table_args__ = (Index("ix_training_lessons_module_position", "module_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("training_modules.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Shown as a plain link: no third-party player is embedded without consent.
    video_url: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    module: Mapped[Module] = relationship(back_populates="lessons")
    attachments: Mapped[list[LessonAttachment]] = relationship(
        back_populates="lesson", order_by="LessonAttachment.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Lesson {self.id} {self.title!r}>"


class LessonAttachment(db.Model):
    __tablename__ = "training_lesson_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("training_lessons.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    lesson: Mapped[Lesson] = relationship(back_populates="attachments")

    def __repr__(self) -> str:
        return f"<LessonAttachment {self.id} {self.file_name!r}>"


class Quiz(db.Model):
    __tablename__ = "training_quizzes"
    __table_args__ = (
        CheckConstraint("pass_mark >= 0 AND pass_mark <= 100", name="pass_mark_percent"),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(
        ForeignKey("training_modules.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(200))
    pass_mark: Mapped[int] = mapped_column(Integer, default=70)  # percent
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    module: Mapped[Module] = relationship(back_populates="quiz")
    questions: Mapped[list[Question]] = relationship(
        back_populates="quiz",
        order_by="Question.position, Question.id",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Quiz {self.id} {self.title!r}>"


class Question(db.Model):
    __tablename__ = "training_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(
        ForeignKey("training_quizzes.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(1000))
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    quiz: Mapped[Quiz] = relationship(back_populates="questions")
    choices: Mapped[list[Choice]] = relationship(
        back_populates="question",
        order_by="Choice.position, Choice.id",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Question {self.id}>"


class Choice(db.Model):
    __tablename__ = "training_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("training_questions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    correct: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    question: Mapped[Question] = relationship(back_populates="choices")

    def __repr__(self) -> str:
        return f"<Choice {self.id}>"


class QuizAttempt(db.Model):
    __tablename__ = "training_quiz_attempts"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number", name="uq_training_attempt_number"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("training_quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # 1, 2, …: the unique constraint refuses a second attempt with the same number, so two
    # submissions at once cannot exceed the maximum number of attempts.
    number: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)  # percent of questions answered right
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The chosen choice ids, as JSON {question_id: [choice_id, …]}.
    answers: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    quiz: Mapped[Quiz] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<QuizAttempt {self.id} quiz={self.quiz_id} user={self.user_id} {self.score}%>"


class LessonCompletion(db.Model):
    __tablename__ = "training_lesson_completions"
    __table_args__ = (
        UniqueConstraint("lesson_id", "user_id", name="uq_training_lesson_completion"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("training_lessons.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<LessonCompletion lesson={self.lesson_id} user={self.user_id}>"


class Certificate(db.Model):
    __tablename__ = "training_certificates"
    __table_args__ = (UniqueConstraint("user_id", "path_id", name="uq_training_certificate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("training_paths.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    path: Mapped[LearningPath] = relationship()

    def __repr__(self) -> str:
        return f"<Certificate {self.code} user={self.user_id}>"


class Resource(db.Model):
    """A guide, how-to or template of the resources library: a stored file or a link."""

    __tablename__ = "training_resources"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('guide', 'howto', 'template', 'other')", name="training_resource_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(12), default=ResourceKind.GUIDE.value, index=True)
    url: Mapped[str] = mapped_column(String(500), default="")
    storage_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    mime_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Resource {self.id} {self.title!r}>"
