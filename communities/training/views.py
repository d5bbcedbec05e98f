"""The training space for learners: home, a path, a course, a lesson (marked done), its
attachments, a quiz and its result; the trainers' view of learners' progress.

Thin handlers: parse, ask the permission policy, call an operation, render.  Every page works
without JavaScript.  Drafts are a 404 to learners.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from maillage.communities.documents.filenames import content_disposition
from maillage.communities.permissions import can
from maillage.communities.training import progress, queries
from maillage.communities.training.blueprint import blueprint
from maillage.communities.training.forms import ConfirmForm
from maillage.communities.training.models import Lesson, LessonAttachment, Quiz
from maillage.platform.errors import NotAllowed, OperationError, render_error
from maillage.platform.extensions import db
from maillage.platform.storage import UnknownKey, get_storage
from maillage.platform.views_util import current_viewer

DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


# -- helpers shared by the training views ------------------------------------------------------


def require(action: str, obj=None) -> None:
    if not can(current_viewer(), action, obj):
        abort(403)


def visible_or_404(obj):
    """A path/course the viewer may see (drafts are a 404 to learners)."""
    if obj is None or not can(current_viewer(), "view", obj):
        abort(404)
    return obj


@contextmanager
def operation_errors(form=None):
    """An operation's refusal of the input becomes a form error (or a flash); nothing stored."""
    try:
        yield
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            abort(403)
        if form is not None:
            form.form_errors.append(str(exc))
        else:
            flash(str(exc), "error")


def send_stored(key: str, mimetype: str, name: str):
    try:
        path = get_storage().local_path(key)
    except UnknownKey:
        current_app.logger.error("stored file %s is missing", key)
        return render_error(404, _("Ce fichier est introuvable."))
    from flask import send_file

    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Content-Disposition"] = content_disposition("attachment", name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


# -- pages -------------------------------------------------------------------------------------


@blueprint.route("/formation")
@login_required
def home():
    viewer = current_viewer()
    require("learn")
    paths = queries.paths_for(viewer)
    community = progress.facilitators_community()
    return render_template(
        "training/home.html",
        paths=paths,
        progress=queries.progress_by_path(paths, viewer),
        certificates=queries.certificates_of(viewer),
        community=community,
        sessions=queries.upcoming_sessions(community),
        can_manage=can(viewer, "manage_training"),
        required_for_facilitator=bool(
            current_app.config.get("TRAINING_REQUIRED_FOR_FACILITATOR", False)
        ),
        is_admin=can(viewer, "admin"),
        form=ConfirmForm(),
    )


@blueprint.route("/formation/parcours/<int:path_id>")
@login_required
def path(path_id: int):
    viewer = current_viewer()
    learning_path = visible_or_404(queries.path_for_page(path_id))
    courses = [c for c in learning_path.courses if can(viewer, "view", c)]
    return render_template(
        "training/path.html",
        path=learning_path,
        courses=courses,
        overall=queries.path_progress(learning_path, viewer),
        progress=queries.progress_by_course(learning_path, viewer),
        certificate=queries.certificate_for(learning_path, viewer),
        can_manage=can(viewer, "manage_training"),
        form=ConfirmForm(),
    )


@blueprint.route("/formation/cours/<int:course_id>")
@login_required
def course(course_id: int):
    viewer = current_viewer()
    item = visible_or_404(queries.course_for_page(course_id))
    lessons_done, quizzes_passed = queries.done_in_course(item, viewer)
    return render_template(
        "training/course.html",
        course=item,
        lessons_done=lessons_done,
        quizzes_passed=quizzes_passed,
        progress=queries.progress_by_course(item.path, viewer).get(item.id),
        can_manage=can(viewer, "manage_training"),
        form=ConfirmForm(),
    )


def lesson_or_404(lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        abort(404)
    visible_or_404(lesson.module.course)
    return lesson


@blueprint.route("/formation/lecons/<int:lesson_id>")
@login_required
def lesson(lesson_id: int):
    viewer = current_viewer()
    item = lesson_or_404(lesson_id)
    lessons = [le for module in item.module.course.modules for le in module.lessons]
    index = lessons.index(item)
    return render_template(
        "training/lesson.html",
        lesson=item,
        course=item.module.course,
        done=queries.lesson_done(item, viewer),
        previous=lessons[index - 1] if index > 0 else None,
        next=lessons[index + 1] if index + 1 < len(lessons) else None,
        can_manage=can(viewer, "manage_training"),
        form=ConfirmForm(),
    )


@blueprint.route("/formation/lecons/<int:lesson_id>/terminee", methods=["POST"])
@login_required
def mark_done(lesson_id: int):
    viewer = current_viewer()
    item = lesson_or_404(lesson_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    had = {c.id for c in queries.certificates_of(viewer)}
    if request.form.get("done", "1") == "0":
        progress.mark_lesson_undone(item, viewer)
    else:
        progress.mark_lesson_done(item, viewer)
    db.session.commit()
    _announce_new_certificate(viewer, had)
    return redirect(url_for(".lesson", lesson_id=item.id))


def _announce_new_certificate(viewer, had: set[int]) -> None:
    for certificate in queries.certificates_of(viewer):
        if certificate.id not in had:
            flash(
                _(
                    "Bravo ! Vous avez terminé le parcours « %(path)s » : votre certificat "
                    "d'animateur est sur votre profil.",
                    path=certificate.path.title,
                ),
                "success",
            )


@blueprint.route("/formation/lecons/<int:lesson_id>/pieces/<int:attachment_id>")
@login_required
def attachment(lesson_id: int, attachment_id: int):
    item = lesson_or_404(lesson_id)
    piece = db.session.get(LessonAttachment, attachment_id)
    if piece is None or piece.lesson_id != item.id:
        abort(404)
    return send_stored(piece.storage_key, piece.mime_type, piece.file_name)


# -- quizzes -----------------------------------------------------------------------------------


def quiz_or_404(quiz_id: int) -> Quiz:
    quiz = queries.quiz_for_page(quiz_id)
    if quiz is None:
        abort(404)
    visible_or_404(quiz.module.course)
    return quiz


def _answers_from_form(quiz: Quiz) -> dict[int, list[int]]:
    answers = {}
    for question in quiz.questions:
        values = request.form.getlist(f"q{question.id}")
        answers[question.id] = [int(v) for v in values if v.isdigit()]
    return answers


@blueprint.route("/formation/quiz/<int:quiz_id>", methods=["GET", "POST"])
@login_required
def quiz(quiz_id: int):
    viewer = current_viewer()
    item = quiz_or_404(quiz_id)
    form = ConfirmForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        had = {c.id for c in queries.certificates_of(viewer)}
        try:
            progress.submit_attempt(item, viewer, _answers_from_form(item))
        except OperationError as exc:
            db.session.rollback()
            if isinstance(exc, NotAllowed):
                abort(403)
            form.form_errors.append(str(exc))
            status = exc.status if exc.status != 400 else 422
        else:
            db.session.commit()
            _announce_new_certificate(viewer, had)
            return redirect(url_for(".quiz", quiz_id=item.id))
    attempts = queries.attempts_of(item, viewer)
    passed = any(attempt.passed for attempt in attempts)
    last = attempts[-1] if attempts else None
    return render_template(
        "training/quiz.html",
        quiz=item,
        form=form,
        attempts=attempts,
        passed=passed,
        last=last,
        last_answers=json.loads(last.answers) if last else {},
        remaining=max(0, item.max_attempts - len(attempts)),
        can_manage=can(viewer, "manage_training"),
    ), status


@blueprint.route("/formation/apprenants")
@login_required
def learners():
    require("view_learners")
    paths = queries.paths_for(current_viewer())
    return render_template("training/learners.html", paths=paths, rows=queries.learners(paths))
