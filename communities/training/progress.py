"""Learners' writes: lessons marked done, quiz attempts, and what completing a path brings — a
facilitator certificate and a seat in the facilitators' community.  Also that community and
its live sessions (events).  The caller commits.
"""

from __future__ import annotations

import json
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from maillage.communities.community.models import Community, Membership, Role, Visibility
from maillage.communities.permissions import can
from maillage.communities.training import queries
from maillage.communities.training.models import (
    Certificate,
    LearningPath,
    Lesson,
    LessonCompletion,
    Quiz,
    QuizAttempt,
)
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db

FACILITATORS_SLUG = "communaute-des-animateurs"
FACILITATORS_NAME = "Communauté des animateurs"


def _require_learner(user, course) -> None:
    if not can(user, "view", course):
        raise NotAllowed(_l("Ce cours n'est pas ouvert."))


# -- lessons -----------------------------------------------------------------------------------


def mark_lesson_done(lesson: Lesson, user: User, now=None) -> LessonCompletion:
    """Mark the lesson done (idempotent), then grant the path's certificate if it is complete."""
    _require_learner(user, lesson.module.course)
    completion = db.session.scalar(
        select(LessonCompletion).where(
            LessonCompletion.lesson_id == lesson.id, LessonCompletion.user_id == user.id
        )
    )
    if completion is None:
        completion = LessonCompletion(lesson_id=lesson.id, user_id=user.id)
        completion.completed_at = now or utcnow()
        try:
            with db.session.begin_nested():
                db.session.add(completion)
                db.session.flush()
        except IntegrityError:  # marked at the same moment in another tab
            return mark_lesson_done(lesson, user, now)
        grant_certificate_if_complete(lesson.module.course.path, user, now=now)
    return completion


def mark_lesson_undone(lesson: Lesson, user: User) -> None:
    _require_learner(user, lesson.module.course)
    db.session.execute(
        LessonCompletion.__table__.delete().where(
            LessonCompletion.lesson_id == lesson.id, LessonCompletion.user_id == user.id
        )
    )


# -- quizzes -----------------------------------------------------------------------------------


def _chosen(quiz: Quiz, answers: dict[int, list[int]]) -> dict[int, set[int]]:
    """Check the answers: every question answered, one choice for single-choice ones, no
    choice that belongs to another question."""
    chosen = {}
    for question in quiz.questions:
        picked = {int(c) for c in answers.get(question.id, [])}
        valid = {choice.id for choice in question.choices}
        if not picked:
            raise OperationError(_l("Répondez à toutes les questions avant de valider."))
        if not picked <= valid:
            raise OperationError(_l("Une réponse envoyée ne correspond pas à la question."))
        if not question.multiple and len(picked) != 1:
            raise OperationError(_l("Choisissez une seule réponse aux questions à choix unique."))
        chosen[question.id] = picked
    return chosen


def score_of(quiz: Quiz, chosen: dict[int, set[int]]) -> int:
    """Percent of questions answered exactly right (all the good choices, no wrong one)."""
    right = sum(
        chosen.get(q.id, set()) == {c.id for c in q.choices if c.correct} for q in quiz.questions
    )
    return round(100 * right / len(quiz.questions)) if quiz.questions else 0


def submit_attempt(quiz: Quiz, user: User, answers: dict[int, list[int]], now=None):
    """Record an attempt with its score; refused once passed or out of attempts."""
    _require_learner(user, quiz.module.course)
    if not quiz.questions:
        raise OperationError(_l("Ce quiz n'a pas encore de questions."))
    attempts = queries.attempts_of(quiz, user)
    if any(attempt.passed for attempt in attempts):
        raise Conflict(_l("Vous avez déjà réussi ce quiz."))
    if len(attempts) >= quiz.max_attempts:
        raise Conflict(
            _l("Vous avez utilisé vos %(n)d tentatives pour ce quiz."), n=quiz.max_attempts
        )
    chosen = _chosen(quiz, answers)
    score = score_of(quiz, chosen)
    attempt = QuizAttempt(
        quiz_id=quiz.id,
        user_id=user.id,
        number=len(attempts) + 1,
        score=score,
        passed=score >= quiz.pass_mark,
        answers=json.dumps({str(k): sorted(v) for k, v in chosen.items()}),
        created_at=now or utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError as exc:  # two submissions at once took the same number
        raise Conflict(_l("Cette tentative a déjà été enregistrée.")) from exc
    record(user, "training.quiz_attempt", quiz, score=score, passed=attempt.passed)
    if attempt.passed:
        grant_certificate_if_complete(quiz.module.course.path, user, now=now)
    return attempt


# -- certificates ------------------------------------------------------------------------------


def grant_certificate_if_complete(path: LearningPath, user: User, now=None):
    """Issue the path's facilitator certificate once every item of it is done."""
    if not (path.grants_certificate and path.published):
        return None
    existing = queries.certificate_for(path, user)
    if existing is not None:
        return existing
    progress = queries.path_progress(path, user)
    if progress.total == 0 or progress.done < progress.total:
        return None
    return issue_certificate(path, user, now=now)


def issue_certificate(path: LearningPath, user: User, now=None) -> Certificate:
    certificate = Certificate(
        user_id=user.id,
        path_id=path.id,
        code=secrets.token_hex(8).upper(),
        issued_at=now or utcnow(),
    )
    db.session.add(certificate)
    db.session.flush()
    record(user, "training.certificate_issue", certificate, path=path.id, code=certificate.code)
    community = ensure_facilitators_community()
    if community is not None:
        _add_member(community, user, Role.MEMBER)
    return certificate


# -- the facilitators' community ---------------------------------------------------------------


def facilitators_community() -> Community | None:
    return db.session.scalar(select(Community).where(Community.slug == FACILITATORS_SLUG))


def _first_person(*criteria) -> User | None:
    return db.session.scalar(
        select(User).where(User.is_active, User.local, *criteria).order_by(User.id).limit(1)
    )


def ensure_facilitators_community(actor: User | None = None) -> Community | None:
    """The private « Communauté des animateurs », created once (owned by ``actor``, or the
    first admin, or the first trainer); trainers are its facilitators, certified facilitators
    its members.  Returns None when nobody could own it yet."""
    from maillage.communities.community.operations import create_community

    community = facilitators_community()
    if community is None:
        owner = actor or _first_person(User.is_admin) or _first_person(User.is_trainer)
        if owner is None:
            return None
        community = create_community(
            owner,
            FACILITATORS_NAME,
            slug=FACILITATORS_SLUG,
            description=str(
                _l(
                    "L'espace des animatrices et animateurs formés : questions, entraide "
                    "et sessions en direct avec les formateurs."
                )
            ),
            visibility=Visibility.PRIVATE,
            join_policy="invite",
        )
    for trainer in db.session.scalars(select(User).where(User.is_trainer, User.is_active)):
        _add_member(community, trainer, Role.FACILITATOR)
    holders = select(Certificate.user_id).distinct()
    for holder in db.session.scalars(select(User).where(User.id.in_(holders), User.is_active)):
        _add_member(community, holder, Role.MEMBER)
    return community


def _add_member(community: Community, user: User, role: str) -> None:
    from maillage.communities.community.operations import add_membership

    present = db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.community_id == community.id, Membership.user_id == user.id)
    )
    if not present:
        add_membership(community, user, role)


def schedule_live_session(actor: User, fields):
    """A live session is an event of the facilitators' community (``EventFields``)."""
    from maillage.communities.events.operations import create_event

    community = ensure_facilitators_community(actor)
    if community is None:
        raise OperationError(_l("La communauté des animateurs n'existe pas encore."))
    return create_event(community, actor, fields)
