"""Trainers' pages: create and edit paths, courses, modules, lessons (with attachments) and
quizzes; reorder, publish and delete.  Refused input comes back in the form with a French
message (status 422), nothing stored."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from maillage.communities.documents.uploads import Upload
from maillage.communities.training import operations as ops
from maillage.communities.training import queries
from maillage.communities.training.blueprint import blueprint
from maillage.communities.training.forms import (
    AttachmentForm,
    ConfirmForm,
    CourseForm,
    LessonForm,
    ModuleForm,
    PathForm,
    QuestionForm,
    QuizForm,
)
from maillage.communities.training.models import (
    Course,
    LearningPath,
    Lesson,
    LessonAttachment,
    Module,
    Question,
)
from maillage.communities.training.views import operation_errors, require
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer

KINDS = {"parcours": LearningPath, "cours": Course, "modules": Module, "lecons": Lesson}


def _get(model, item_id: int):
    item = db.session.get(model, item_id)
    if item is None:
        abort(404)
    return item


def _form_page(form, title, back_url, done, multipart=False):
    """Render ``form``; on a valid POST call ``done()`` (an operation), commit, redirect to
    the URL it returns.  Bad input: 422 with the messages."""
    if form.validate_on_submit():
        with operation_errors(form):
            target = done()
            db.session.commit()
            flash(_("Enregistré."), "success")
            return redirect(target)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "training/form.html", form=form, title=title, back_url=back_url, multipart=multipart
    ), status


def _item_url(item) -> str:
    if isinstance(item, LearningPath):
        return url_for("training.path", path_id=item.id)
    if isinstance(item, Course):
        return url_for("training.course", course_id=item.id)
    if isinstance(item, Module):
        return url_for("training.course", course_id=item.course_id)
    return url_for("training.lesson", lesson_id=item.id)


# -- paths and courses -------------------------------------------------------------------------


@blueprint.route("/formation/parcours/nouveau", methods=["GET", "POST"])
@login_required
def new_path():
    require("manage_training")
    form = PathForm()

    def done():
        path = ops.create_path(
            current_viewer(), form.title.data, form.summary.data, form.grants_certificate.data
        )
        return _item_url(path)

    return _form_page(form, _l("Nouveau parcours"), url_for("training.home"), done)


@blueprint.route("/formation/parcours/<int:path_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_path(path_id: int):
    require("manage_training")
    path = _get(LearningPath, path_id)
    form = PathForm(
        data={
            "title": path.title,
            "summary": path.summary_source,
            "grants_certificate": path.grants_certificate,
        }
    )

    def done():
        ops.edit_path(
            path,
            current_viewer(),
            form.title.data,
            form.summary.data,
            form.grants_certificate.data,
        )
        return _item_url(path)

    return _form_page(form, _l("Modifier le parcours"), _item_url(path), done)


@blueprint.route("/formation/parcours/<int:path_id>/cours/nouveau", methods=["GET", "POST"])
@login_required
def new_course(path_id: int):
    require("manage_training")
    path = _get(LearningPath, path_id)
    form = CourseForm()

    def done():
        return _item_url(
            ops.create_course(path, current_viewer(), form.title.data, form.summary.data)
        )

    return _form_page(form, _l("Nouveau cours"), _item_url(path), done)


@blueprint.route("/formation/cours/<int:course_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_course(course_id: int):
    require("manage_training")
    course = _get(Course, course_id)
    form = CourseForm(data={"title": course.title, "summary": course.summary_source})

    def done():
        ops.edit_course(course, current_viewer(), form.title.data, form.summary.data)
        return _item_url(course)

    return _form_page(form, _l("Modifier le cours"), _item_url(course), done)


# -- modules and lessons -----------------------------------------------------------------------


@blueprint.route("/formation/cours/<int:course_id>/modules/nouveau", methods=["GET", "POST"])
@login_required
def new_module(course_id: int):
    require("manage_training")
    course = _get(Course, course_id)
    form = ModuleForm()

    def done():
        return _item_url(ops.create_module(course, current_viewer(), form.title.data))

    return _form_page(form, _l("Nouveau module"), _item_url(course), done)


@blueprint.route("/formation/modules/<int:module_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_module(module_id: int):
    require("manage_training")
    module = _get(Module, module_id)
    form = ModuleForm(data={"title": module.title})

    def done():
        return _item_url(ops.edit_module(module, current_viewer(), form.title.data))

    return _form_page(form, _l("Modifier le module"), _item_url(module), done)


def _lesson_fields(form: LessonForm) -> ops.LessonFields:
    return ops.LessonFields(form.title.data, form.body.data or "", form.video_url.data or "")


@blueprint.route("/formation/modules/<int:module_id>/lecons/nouvelle", methods=["GET", "POST"])
@login_required
def new_lesson(module_id: int):
    require("manage_training")
    module = _get(Module, module_id)
    form = LessonForm()

    def done():
        return _item_url(ops.create_lesson(module, current_viewer(), _lesson_fields(form)))

    return _form_page(form, _l("Nouvelle leçon"), _item_url(module), done)


@blueprint.route("/formation/lecons/<int:lesson_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_lesson(lesson_id: int):
    require("manage_training")
    lesson = _get(Lesson, lesson_id)
    form = LessonForm(
        data={"title": lesson.title, "body": lesson.body_source, "video_url": lesson.video_url}
    )

    def done():
        return _item_url(ops.edit_lesson(lesson, current_viewer(), _lesson_fields(form)))

    return _form_page(form, _l("Modifier la leçon"), _item_url(lesson), done)


@blueprint.route("/formation/lecons/<int:lesson_id>/pieces", methods=["GET", "POST"])
@login_required
def add_attachment(lesson_id: int):
    require("manage_training")
    lesson = _get(Lesson, lesson_id)
    form = AttachmentForm()

    def done():
        sent = request.files.get("file")
        upload = Upload(
            sent.filename if sent else None,
            sent.stream if sent else None,
            sent.mimetype if sent else None,
        )
        ops.add_attachment(lesson, current_viewer(), upload)
        return _item_url(lesson)

    return _form_page(form, _l("Ajouter une pièce jointe"), _item_url(lesson), done, True)


@blueprint.route("/formation/pieces/<int:attachment_id>/supprimer", methods=["POST"])
@login_required
def remove_attachment(attachment_id: int):
    require("manage_training")
    piece = _get(LessonAttachment, attachment_id)
    lesson_id = piece.lesson_id
    question = _("Retirer la pièce jointe « %(name)s » ?", name=piece.file_name)
    if (asked := confirmation_page(question, confirm_label=_("Retirer"))) is not None:
        return asked
    if ConfirmForm().validate_on_submit():
        ops.remove_attachment(piece, current_viewer())
        db.session.commit()
        flash(_("Pièce jointe retirée."), "success")
    return redirect(url_for("training.lesson", lesson_id=lesson_id))


# -- order, publication, deletion --------------------------------------------------------------


def _kind_or_404(kind: str, item_id: int):
    model = KINDS.get(kind)
    if model is None:
        abort(404)
    return _get(model, item_id)


def _parent_url(item) -> str:
    if isinstance(item, LearningPath):
        return url_for("training.home")
    if isinstance(item, Course):
        return _item_url(item.path)
    if isinstance(item, Module):
        return _item_url(item.course)
    return _item_url(item.module.course)


@blueprint.route("/formation/<kind>/<int:item_id>/deplacer", methods=["POST"])
@login_required
def move(kind: str, item_id: int):
    require("manage_training")
    item = _kind_or_404(kind, item_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with operation_errors():
        ops.move(item, current_viewer(), request.form.get("direction", ""))
        db.session.commit()
    return redirect(_parent_url(item))


@blueprint.route("/formation/<kind>/<int:item_id>/publier", methods=["POST"])
@login_required
def publish(kind: str, item_id: int):
    require("manage_training")
    item = _kind_or_404(kind, item_id)
    if not isinstance(item, LearningPath | Course) or not ConfirmForm().validate_on_submit():
        abort(400)
    with operation_errors():
        ops.set_published(item, current_viewer(), request.form.get("published") == "1")
        db.session.commit()
        flash(_("Publié.") if item.published else _("Repassé en brouillon."), "success")
    return redirect(_item_url(item))


@blueprint.route("/formation/<kind>/<int:item_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete(kind: str, item_id: int):
    require("manage_training")
    item = _kind_or_404(kind, item_id)
    form = ConfirmForm()
    if request.method == "POST":
        question = _("Supprimer « %(title)s » ?", title=item.title)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
    if form.validate_on_submit():
        target = _parent_url(item)
        ops.delete_item(item, current_viewer())
        db.session.commit()
        flash(_("Supprimé."), "success")
        return redirect(target)
    return render_template("training/confirm_delete.html", item=item, form=form)


# -- quizzes -----------------------------------------------------------------------------------


@blueprint.route("/formation/modules/<int:module_id>/quiz", methods=["GET", "POST"])
@login_required
def edit_quiz(module_id: int):
    """The module's quiz: its settings, its questions, and a form to add a question."""
    require("manage_training")
    module = _get(Module, module_id)
    quiz = module.quiz
    form = QuizForm(
        data={"title": quiz.title, "pass_mark": quiz.pass_mark, "max_attempts": quiz.max_attempts}
        if quiz
        else {"title": _("Quiz — %(module)s", module=module.title)}
    )
    if form.validate_on_submit():
        with operation_errors(form):
            ops.save_quiz(
                module,
                current_viewer(),
                form.title.data,
                form.pass_mark.data,
                form.max_attempts.data,
            )
            db.session.commit()
            flash(_("Quiz enregistré."), "success")
            return redirect(url_for(".edit_quiz", module_id=module.id))
    return _quiz_page(module, form, QuestionForm(formdata=None), form.is_submitted())


def _quiz_page(module: Module, form, question_form, refused: bool):
    return render_template(
        "training/quiz_edit.html",
        module=module,
        quiz=queries.quiz_for_page(module.quiz.id) if module.quiz else None,
        form=form,
        question_form=question_form,
        confirm=ConfirmForm(),
    ), (422 if refused else 200)


@blueprint.route("/formation/modules/<int:module_id>/quiz/questions", methods=["POST"])
@login_required
def add_question(module_id: int):
    require("manage_training")
    module = _get(Module, module_id)
    if module.quiz is None:
        abort(404)
    question_form = QuestionForm()
    if question_form.validate_on_submit():
        with operation_errors(question_form):
            ops.add_question(
                module.quiz,
                current_viewer(),
                question_form.text.data,
                question_form.multiple.data,
                question_form.choices(),
            )
            db.session.commit()
            flash(_("Question ajoutée."), "success")
            return redirect(url_for(".edit_quiz", module_id=module.id))
    return _quiz_page(module, QuizForm(formdata=None, obj=module.quiz), question_form, True)


@blueprint.route("/formation/questions/<int:question_id>/supprimer", methods=["POST"])
@login_required
def delete_question(question_id: int):
    require("manage_training")
    question = _get(Question, question_id)
    module_id = question.quiz.module_id
    ask = _("Supprimer la question « %(text)s » ?", text=question.text)
    if (asked := confirmation_page(ask, confirm_label=_("Supprimer"))) is not None:
        return asked
    if ConfirmForm().validate_on_submit():
        ops.delete_question(question, current_viewer())
        db.session.commit()
        flash(_("Question supprimée."), "success")
    return redirect(url_for(".edit_quiz", module_id=module_id))
