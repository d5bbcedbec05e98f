"""Reads of the training space shared by views, other packages and the demo.

Progress is computed from a handful of queries whatever the number of courses: the items of
the paths (lessons, and quizzes that have questions, of published courses), then what the
learner(s) did among them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from maillage.communities.organisations.models import Organisation
from maillage.communities.permissions import can
from maillage.communities.training.models import (
    Certificate,
    Course,
    LearningPath,
    Lesson,
    LessonCompletion,
    Module,
    Question,
    Quiz,
    QuizAttempt,
    Resource,
)
from maillage.communities.users.models import User
from maillage.platform.db import escape_like, utcnow
from maillage.platform.extensions import db

LEARNERS_LIMIT = 500


def has_facilitator_certificate(user) -> bool:
    """Does ``user`` hold a facilitator certificate (from any path that grants one)?

    ``user`` may be ``None`` or Flask-Login's anonymous user (both: False).  Used by
    ``community.operations.change_role`` when ``TRAINING_REQUIRED_FOR_FACILITATOR`` is on.
    """
    user_id = getattr(user, "id", None)
    if user is None or user_id is None or not getattr(user, "is_authenticated", True):
        return False
    return bool(db.session.scalar(select(exists().where(Certificate.user_id == user_id))))


# -- paths and courses -------------------------------------------------------------------------


def paths_for(user) -> list[LearningPath]:
    """Published paths, and drafts too for trainers, in their order."""
    statement = select(LearningPath).order_by(LearningPath.position, LearningPath.id)
    if not can(user, "manage_training"):
        statement = statement.where(LearningPath.published_at.is_not(None))
    return list(db.session.scalars(statement.options(selectinload(LearningPath.courses))))


def path_for_page(path_id: int) -> LearningPath | None:
    return db.session.scalar(
        select(LearningPath)
        .where(LearningPath.id == path_id)
        .options(selectinload(LearningPath.courses))
    )


def course_for_page(course_id: int) -> Course | None:
    return db.session.scalar(
        select(Course)
        .where(Course.id == course_id)
        .options(
            selectinload(Course.modules).selectinload(Module.lessons),
            selectinload(Course.modules).selectinload(Module.quiz),
        )
    )


def quiz_for_page(quiz_id: int) -> Quiz | None:
    return db.session.scalar(
        select(Quiz)
        .where(Quiz.id == quiz_id)
        .options(selectinload(Quiz.questions).selectinload(Question.choices))
    )


def attempts_of(quiz: Quiz, user: User) -> list[QuizAttempt]:
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)
            .order_by(QuizAttempt.number)
        )
    )


def lesson_done(lesson: Lesson, user: User) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    LessonCompletion.lesson_id == lesson.id, LessonCompletion.user_id == user.id
                )
            )
        )
    )


# -- progress ----------------------------------------------------------------------------------


@dataclass
class Progress:
    done: int = 0
    total: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done >= self.total


@dataclass
class Items:
    """The items of some paths: ``(path_id, course_id)`` of each lesson and quiz."""

    lessons: dict[int, tuple[int, int]] = field(default_factory=dict)
    quizzes: dict[int, tuple[int, int]] = field(default_factory=dict)


def _items(path_ids: list[int]) -> Items:
    published = (Course.path_id.in_(path_ids), Course.published_at.is_not(None))
    items = Items()
    for lesson_id, path_id, course_id in db.session.execute(
        select(Lesson.id, Course.path_id, Course.id)
        .join(Module, Lesson.module_id == Module.id)
        .join(Course, Module.course_id == Course.id)
        .where(*published)
    ):
        items.lessons[lesson_id] = (path_id, course_id)
    for quiz_id, path_id, course_id in db.session.execute(
        select(Quiz.id, Course.path_id, Course.id)
        .join(Module, Quiz.module_id == Module.id)
        .join(Course, Module.course_id == Course.id)
        .where(*published, exists().where(Question.quiz_id == Quiz.id))
    ):
        items.quizzes[quiz_id] = (path_id, course_id)
    return items


def _done(items: Items, user_ids: list[int]) -> list[tuple[int, str, int]]:
    """``(user_id, kind, item_id)`` of what these people did among ``items``."""
    done = [
        (user_id, "lesson", lesson_id)
        for user_id, lesson_id in db.session.execute(
            select(LessonCompletion.user_id, LessonCompletion.lesson_id).where(
                LessonCompletion.user_id.in_(user_ids),
                LessonCompletion.lesson_id.in_(list(items.lessons)),
            )
        )
    ]
    done += [
        (user_id, "quiz", quiz_id)
        for user_id, quiz_id in db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.quiz_id)
            .distinct()
            .where(
                QuizAttempt.user_id.in_(user_ids),
                QuizAttempt.quiz_id.in_(list(items.quizzes)),
                QuizAttempt.passed,
            )
        )
    ]
    return done


def _tally(items: Items, done, key) -> dict:
    """Progress keyed by ``key((path_id, course_id))`` (and user when ``done`` has many)."""
    totals: dict = defaultdict(int)
    for where in [*items.lessons.values(), *items.quizzes.values()]:
        totals[key(where)] += 1
    result: dict = defaultdict(Progress)
    for user_id, kind, item_id in done:
        where = (items.lessons if kind == "lesson" else items.quizzes)[item_id]
        result[(user_id, key(where))].done += 1
    return totals, result


def progress_by_path(paths: list[LearningPath], user) -> dict[int, Progress]:
    if user is None or not paths:
        return {}
    items = _items([path.id for path in paths])
    totals, done = _tally(items, _done(items, [user.id]), key=lambda where: where[0])
    return {
        path.id: Progress(done[(user.id, path.id)].done, totals.get(path.id, 0)) for path in paths
    }


def path_progress(path: LearningPath, user) -> Progress:
    return progress_by_path([path], user).get(path.id, Progress())


def progress_by_course(path: LearningPath, user) -> dict[int, Progress]:
    if user is None:
        return {}
    items = _items([path.id])
    totals, done = _tally(items, _done(items, [user.id]), key=lambda where: where[1])
    return {
        course.id: Progress(done[(user.id, course.id)].done, totals.get(course.id, 0))
        for course in path.courses
    }


def done_in_course(course: Course, user) -> tuple[set[int], set[int]]:
    """(ids of lessons done, ids of quizzes passed) by ``user`` in ``course``."""
    if user is None:
        return set(), set()
    lesson_ids = [lesson.id for module in course.modules for lesson in module.lessons]
    quiz_ids = [module.quiz.id for module in course.modules if module.quiz is not None]
    lessons = set(
        db.session.scalars(
            select(LessonCompletion.lesson_id).where(
                LessonCompletion.user_id == user.id, LessonCompletion.lesson_id.in_(lesson_ids)
            )
        )
    )
    quizzes = set(
        db.session.scalars(
            select(QuizAttempt.quiz_id).where(
                QuizAttempt.user_id == user.id,
                QuizAttempt.quiz_id.in_(quiz_ids),
                QuizAttempt.passed,
            )
        )
    )
    return lessons, quizzes


@dataclass
class LearnerRow:
    user: User
    progress: dict[int, Progress]  # by path id
    failed_attempts: int
    certified_paths: set[int]


def learners(paths: list[LearningPath]) -> list[LearnerRow]:
    """Everyone who started something, with their progress per path (trainers' view)."""
    path_ids = [path.id for path in paths]
    items = _items(path_ids)
    started = select(LessonCompletion.user_id).where(
        LessonCompletion.lesson_id.in_(list(items.lessons))
    )
    tried = select(QuizAttempt.user_id).where(QuizAttempt.quiz_id.in_(list(items.quizzes)))
    people = list(
        db.session.scalars(
            select(User)
            .where(or_(User.id.in_(started), User.id.in_(tried)))
            .order_by(User.display_name, User.id)
            .limit(LEARNERS_LIMIT)
        )
    )
    user_ids = [person.id for person in people]
    totals, done = _tally(items, _done(items, user_ids), key=lambda where: where[0])
    failed: dict[int, int] = defaultdict(int)
    for (user_id,) in db.session.execute(
        select(QuizAttempt.user_id).where(QuizAttempt.user_id.in_(user_ids), ~QuizAttempt.passed)
    ):
        failed[user_id] += 1
    certified: dict[int, set[int]] = defaultdict(set)
    for user_id, path_id in db.session.execute(
        select(Certificate.user_id, Certificate.path_id).where(Certificate.user_id.in_(user_ids))
    ):
        certified[user_id].add(path_id)
    return [
        LearnerRow(
            person,
            {pid: Progress(done[(person.id, pid)].done, totals.get(pid, 0)) for pid in path_ids},
            failed[person.id],
            certified[person.id],
        )
        for person in people
    ]


# -- certificates ------------------------------------------------------------------------------


def certificate_for(path: LearningPath, user: User) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(Certificate.path_id == path.id, Certificate.user_id == user.id)
    )


def certificate_by_code(code: str) -> Certificate | None:
    code = (code or "").strip().upper()
    if not code.isalnum() or len(code) > 32:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def certificates_of(user: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .options(selectinload(Certificate.path))
            .order_by(Certificate.issued_at)
        )
    )


# -- resources, ambassadors, live sessions -----------------------------------------------------


def resources(kind: str = "", query: str = "") -> list[Resource]:
    statement = select(Resource).order_by(Resource.title, Resource.id)
    if kind:
        statement = statement.where(Resource.kind == kind)
    if query:
        pattern = f"%{escape_like(query.strip())}%"
        statement = statement.where(
            or_(
                Resource.title.ilike(pattern, escape="\\"),
                Resource.description.ilike(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(statement))


def ambassadors_by_organisation() -> list[tuple[Organisation | None, list[User]]]:
    """Active local ambassadors grouped by organisation (by name; without one, last)."""
    people = db.session.scalars(
        select(User)
        .outerjoin(Organisation, User.organisation_id == Organisation.id)
        .where(User.is_ambassador, User.is_active, User.local)
        .order_by(Organisation.name.is_(None), Organisation.name, User.display_name, User.id)
    )
    groups: dict[int | None, tuple] = {}
    for person in people:
        groups.setdefault(person.organisation_id, (person.organisation, []))[1].append(person)
    return list(groups.values())


def upcoming_sessions(community, now: dt.datetime | None = None, limit: int = 5) -> list:
    """The next live sessions (events not over, not cancelled) of the facilitators' community."""
    from maillage.communities.events.models import Event

    if community is None:
        return []
    return list(
        db.session.scalars(
            select(Event)
            .where(
                Event.community_id == community.id,
                Event.ends_at >= (now or utcnow()),
                ~Event.cancelled,
            )
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
    )
