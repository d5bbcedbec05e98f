"""Writes of the training space by trainers: paths, courses, modules, lessons, attachments,
quizzes and their questions, ordering and publication, resources, and ambassadors (admins).

Every function checks the permission, validates its input (French messages, nothing half
stored: the caller rolls back on OperationError) and writes the audit log.  The caller commits.
Learners' writes (progress, attempts, certificates) live in ``progress.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from maillage.communities.documents.uploads import Upload, receive
from maillage.communities.events.operations import clean_video_url
from maillage.communities.permissions import can
from maillage.communities.training.models import (
    Choice,
    Course,
    LearningPath,
    Lesson,
    LessonAttachment,
    Module,
    Question,
    Quiz,
    Resource,
    ResourceKind,
)
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong, render
from maillage.platform.storage import get_storage

TITLE_MAX = 200
QUESTION_MAX = 1000
CHOICE_MAX = 500
CHOICES_MAX = 10
ATTEMPTS_MAX = 20
URL_MAX = 500


KIND_NAMES = {LearningPath: "path", Course: "course", Module: "module", Lesson: "lesson"}


def require_trainer(actor, action: str = "manage_training") -> None:
    if not can(actor, action):
        raise NotAllowed(_l("Seuls les formateurs et les administrateurs gèrent la formation."))


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise OperationError(_l("Le titre est obligatoire."))
    if len(title) > TITLE_MAX:
        raise OperationError(_l("Le titre fait %(n)d caractères au plus."), n=TITLE_MAX)
    return title


def render_markdown(source: str) -> str:
    try:
        return render(source or "")
    except MarkdownTooLong as exc:
        raise OperationError(_l("Le texte dépasse %(n)d caractères."), n=exc.args[0]) from exc


def clean_link(url: str) -> str:
    """An http(s) link or nothing (``javascript:`` and the like are refused)."""
    try:
        return clean_video_url(url)
    except OperationError as exc:
        raise OperationError(_l("Le lien doit être une adresse commençant par https://.")) from exc


def _next_position(model, **parent) -> int:
    column, value = next(iter(parent.items()))
    highest = db.session.scalar(select(func.max(model.position)).where(column == value))
    return (highest if highest is not None else -1) + 1


# -- paths, courses, modules, lessons ----------------------------------------------------------


def create_path(actor: User, title: str, summary: str = "", grants_certificate=False):
    require_trainer(actor)
    path = LearningPath(
        title=clean_title(title),
        summary_source=summary or "",
        summary_html=render_markdown(summary),
        grants_certificate=bool(grants_certificate),
        created_by_id=actor.id,
        position=_path_position(),
    )
    db.session.add(path)
    db.session.flush()
    record(actor, "training.path_create", path)
    return path


def _path_position() -> int:
    highest = db.session.scalar(select(func.max(LearningPath.position)))
    return (highest if highest is not None else -1) + 1


def edit_path(path: LearningPath, actor: User, title: str, summary: str, grants_certificate):
    require_trainer(actor)
    path.title = clean_title(title)
    path.summary_source = summary or ""
    path.summary_html = render_markdown(summary)
    path.grants_certificate = bool(grants_certificate)
    path.updated_at = utcnow()
    record(actor, "training.path_edit", path)
    return path


def create_course(path: LearningPath, actor: User, title: str, summary: str = "") -> Course:
    require_trainer(actor)
    course = Course(
        path=path,
        title=clean_title(title),
        summary_source=summary or "",
        summary_html=render_markdown(summary),
        position=_next_position(Course, path_id=path.id),
    )
    db.session.add(course)
    db.session.flush()
    record(actor, "training.course_create", course, path=path.id)
    return course


def edit_course(course: Course, actor: User, title: str, summary: str) -> Course:
    require_trainer(actor)
    course.title = clean_title(title)
    course.summary_source = summary or ""
    course.summary_html = render_markdown(summary)
    course.updated_at = utcnow()
    record(actor, "training.course_edit", course)
    return course


def create_module(course: Course, actor: User, title: str) -> Module:
    require_trainer(actor)
    module = Module(
        course=course,
        title=clean_title(title),
        position=_next_position(Module, course_id=course.id),
    )
    db.session.add(module)
    db.session.flush()
    record(actor, "training.module_create", module, course=course.id)
    return module


def edit_module(module: Module, actor: User, title: str) -> Module:
    require_trainer(actor)
    module.title = clean_title(title)
    record(actor, "training.module_edit", module)
    return module


@dataclass
class LessonFields:
    title: str
    body: str = ""
    video_url: str = ""


def _lesson_values(fields: LessonFields) -> dict:
    return {
        "title": clean_title(fields.title),
        "body_source": fields.body or "",
        "body_html": render_markdown(fields.body),
        "video_url": clean_link(fields.video_url),
    }


def create_lesson(module: Module, actor: User, fields: LessonFields) -> Lesson:
    require_trainer(actor)
    lesson = Lesson(
        module=module,
        position=_next_position(Lesson, module_id=module.id),
        **_lesson_values(fields),
    )
    db.session.add(lesson)
    db.session.flush()
    record(actor, "training.lesson_create", lesson, module=module.id)
    return lesson


def edit_lesson(lesson: Lesson, actor: User, fields: LessonFields) -> Lesson:
    require_trainer(actor)
    for name, value in _lesson_values(fields).items():
        setattr(lesson, name, value)
    lesson.updated_at = utcnow()
    record(actor, "training.lesson_edit", lesson)
    return lesson


def delete_item(item, actor: User) -> None:
    """Delete a path, course, module or lesson with everything under it."""
    require_trainer(actor)
    record(actor, f"training.{KIND_NAMES[type(item)]}_delete", item, title=item.title)
    for key in _stored_keys_under(item):
        get_storage().delete_after_commit(key)
    db.session.delete(item)


def _stored_keys_under(item) -> list[str]:
    lessons = {
        LearningPath: lambda p: [le for c in p.courses for m in c.modules for le in m.lessons],
        Course: lambda c: [le for m in c.modules for le in m.lessons],
        Module: lambda m: list(m.lessons),
        Lesson: lambda le: [le],
    }[type(item)](item)
    return [a.storage_key for lesson in lessons for a in lesson.attachments]


def add_attachment(lesson: Lesson, actor: User, upload: Upload) -> LessonAttachment:
    """Store a file for the lesson, checked as the documents module checks uploads."""
    require_trainer(actor)
    checked = receive(upload)
    try:
        key = get_storage().store(checked.staged)
    except BaseException:
        checked.discard()
        raise
    attachment = LessonAttachment(
        lesson=lesson,
        storage_key=key,
        file_name=checked.name,
        mime_type=checked.file_type.mime,
        size=checked.staged.size,
    )
    db.session.add(attachment)
    db.session.flush()
    record(actor, "training.attachment_add", attachment, lesson=lesson.id, name=checked.name)
    return attachment


def remove_attachment(attachment: LessonAttachment, actor: User) -> None:
    require_trainer(actor)
    record(actor, "training.attachment_remove", attachment, lesson=attachment.lesson_id)
    get_storage().delete_after_commit(attachment.storage_key)
    db.session.delete(attachment)


# -- order and publication ---------------------------------------------------------------------


def _siblings(item) -> list:
    if isinstance(item, LearningPath):
        return list(
            db.session.scalars(
                select(LearningPath).order_by(LearningPath.position, LearningPath.id)
            )
        )
    parent = {Course: "path", Module: "course", Lesson: "module"}[type(item)]
    children = {Course: "courses", Module: "modules", Lesson: "lessons"}[type(item)]
    return list(getattr(getattr(item, parent), children))


def move(item, actor: User, direction: str) -> None:
    """Move a path, course, module or lesson one place ``up`` or ``down`` among its siblings."""
    require_trainer(actor)
    if direction not in ("up", "down"):
        raise OperationError(_l("Direction inconnue."))
    siblings = _siblings(item)
    index = siblings.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings):
        sibling.position = position
    record(actor, "training.move", item, kind=KIND_NAMES[type(item)], direction=direction)


def set_published(item: LearningPath | Course, actor: User, published: bool) -> None:
    """Publish (learners see it) or take back to draft a path or a course."""
    require_trainer(actor)
    if published and isinstance(item, Course) and not any(m.lessons for m in item.modules):
        raise OperationError(_l("Ajoutez au moins une leçon avant de publier ce cours."))
    if published and isinstance(item, LearningPath) and not item.courses:
        raise OperationError(_l("Ajoutez au moins un cours avant de publier ce parcours."))
    item.published_at = (item.published_at or utcnow()) if published else None
    action = "publish" if published else "unpublish"
    record(actor, f"training.{KIND_NAMES[type(item)]}_{action}", item)


# -- quizzes -----------------------------------------------------------------------------------


def _clean_quiz_settings(pass_mark, max_attempts) -> tuple[int, int]:
    if not isinstance(pass_mark, int) or not 0 <= pass_mark <= 100:
        raise OperationError(_l("La note de réussite est un pourcentage entre 0 et 100."))
    if not isinstance(max_attempts, int) or not 1 <= max_attempts <= ATTEMPTS_MAX:
        raise OperationError(
            _l("Le nombre de tentatives est compris entre 1 et %(n)d."), n=ATTEMPTS_MAX
        )
    return pass_mark, max_attempts


def save_quiz(module: Module, actor: User, title: str, pass_mark, max_attempts) -> Quiz:
    """Create the module's quiz, or change its settings."""
    require_trainer(actor)
    pass_mark, max_attempts = _clean_quiz_settings(pass_mark, max_attempts)
    quiz = module.quiz
    if quiz is None:
        quiz = Quiz(module=module)
        db.session.add(quiz)
    quiz.title = clean_title(title)
    quiz.pass_mark = pass_mark
    quiz.max_attempts = max_attempts
    db.session.flush()
    record(actor, "training.quiz_save", quiz, pass_mark=pass_mark, max_attempts=max_attempts)
    return quiz


def _clean_choices(choices: list[tuple[str, bool]], multiple: bool) -> list[tuple[str, bool]]:
    cleaned = [(" ".join(text.split()), bool(ok)) for text, ok in choices if text and text.strip()]
    if len(cleaned) < 2:
        raise OperationError(_l("Proposez au moins deux réponses."))
    if len(cleaned) > CHOICES_MAX:
        raise OperationError(_l("Proposez au plus %(n)d réponses."), n=CHOICES_MAX)
    if any(len(text) > CHOICE_MAX for text, _ok in cleaned):
        raise OperationError(_l("Une réponse fait %(n)d caractères au plus."), n=CHOICE_MAX)
    correct = sum(ok for _text, ok in cleaned)
    if correct == 0:
        raise OperationError(_l("Indiquez au moins une bonne réponse."))
    if not multiple and correct != 1:
        raise OperationError(_l("Une question à choix unique a exactement une bonne réponse."))
    if correct == len(cleaned) and multiple:
        raise OperationError(_l("Au moins une réponse proposée doit être fausse."))
    return cleaned


def add_question(
    quiz: Quiz, actor: User, text: str, multiple: bool, choices: list[tuple[str, bool]]
) -> Question:
    """Add a question; ``choices`` are ``(text, correct)`` pairs, blank ones ignored."""
    require_trainer(actor)
    text = " ".join((text or "").split())
    if not text:
        raise OperationError(_l("L'intitulé de la question est obligatoire."))
    if len(text) > QUESTION_MAX:
        raise OperationError(_l("L'intitulé fait %(n)d caractères au plus."), n=QUESTION_MAX)
    cleaned = _clean_choices(choices, multiple)
    question = Question(
        quiz=quiz,
        text=text,
        multiple=bool(multiple),
        position=_next_position(Question, quiz_id=quiz.id),
        choices=[
            Choice(text=choice, correct=ok, position=index)
            for index, (choice, ok) in enumerate(cleaned)
        ],
    )
    db.session.add(question)
    db.session.flush()
    record(actor, "training.question_add", question, quiz=quiz.id)
    return question


def delete_question(question: Question, actor: User) -> None:
    require_trainer(actor)
    record(actor, "training.question_delete", question, quiz=question.quiz_id)
    db.session.delete(question)


# -- resources ---------------------------------------------------------------------------------


def create_resource(
    actor: User,
    title: str,
    kind: str,
    description: str = "",
    url: str = "",
    upload: Upload | None = None,
) -> Resource:
    """A resource is a link or a file, exactly one of them."""
    require_trainer(actor, "manage_resources")
    if kind not in set(ResourceKind):
        raise OperationError(_l("Type de ressource inconnu."))
    title = clean_title(title)
    url = clean_link(url)
    if bool(url) == bool(upload):
        raise OperationError(_l("Indiquez un lien ou joignez un fichier (l'un des deux)."))
    resource = Resource(title=title, kind=kind, description=(description or "").strip(), url=url)
    resource.created_by_id = actor.id
    if upload is not None:
        checked = receive(upload)
        try:
            resource.storage_key = get_storage().store(checked.staged)
        except BaseException:
            checked.discard()
            raise
        resource.file_name = checked.name
        resource.mime_type = checked.file_type.mime
        resource.size = checked.staged.size
    db.session.add(resource)
    db.session.flush()
    record(actor, "training.resource_create", resource, kind=kind)
    return resource


def delete_resource(resource: Resource, actor: User) -> None:
    require_trainer(actor, "manage_resources")
    record(actor, "training.resource_delete", resource, title=resource.title)
    if resource.storage_key:
        get_storage().delete_after_commit(resource.storage_key)
    db.session.delete(resource)


# -- ambassadors -------------------------------------------------------------------------------


def set_ambassador(actor: User, person: User, value: bool) -> User:
    """Name ``person`` ambassador (or stop): admins only, written to the audit log."""
    if not can(actor, "manage_ambassadors"):
        raise NotAllowed(_l("Seuls les administrateurs désignent les ambassadeurs."))
    if value and not (person.local and person.is_active):
        raise OperationError(_l("Seul un compte actif de cette instance peut être ambassadeur."))
    if bool(person.is_ambassador) != bool(value):
        person.is_ambassador = bool(value)
        record(actor, "user.ambassador_set" if value else "user.ambassador_unset", person)
    return person
