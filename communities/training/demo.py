"""Demo training space: a trainer (Emma), a two-course path that grants the facilitator
certificate, resources, an upcoming live session, learners at different stages (Thomas has not
started, Julien is half way, Nadia failed a quiz once, Claire is certified) and ambassadors in
three organisations.  Everything goes through the operations.
"""

from __future__ import annotations

import datetime as dt

from maillage.communities.events.operations import EventFields
from maillage.communities.training import operations as ops
from maillage.communities.training import progress
from maillage.communities.training.models import LearningPath, Quiz
from maillage.communities.users.models import User
from maillage.platform.db import utcnow

TRAINER = "emma"
AMBASSADORS = ("camille", "mehdi", "karim")

# course title -> [(module title, [(lesson title, Markdown, video link)], quiz questions)]
# a question: (text, multiple, [(choice, correct)])
COURSES = {
    "Les fondamentaux de l'animation": [
        (
            "Le rôle de l'animateur",
            [
                (
                    "Animer n'est pas gérer",
                    "L'animateur **fait vivre** le réseau : il accueille, relance, "
                    "valorise les contributions et fait le lien entre les membres.\n\n"
                    "- accueillir chaque nouveau membre ;\n- publier un rendez-vous régulier ;\n"
                    "- donner la parole aux collectivités comme aux services de l'État.",
                    "",
                ),
                (
                    "Les rituels d'une communauté",
                    "Un webinaire mensuel, une lettre d'information, un fil de questions : "
                    "les rituels donnent un rythme au réseau.",
                    "https://videos.example.gouv.fr/animer-rituels",
                ),
            ],
            [
                (
                    "Quel est le premier geste envers un nouveau membre ?",
                    False,
                    [("Lui souhaiter la bienvenue", True), ("Attendre qu'il publie", False)],
                ),
                (
                    "Quels rituels font vivre un réseau ?",
                    True,
                    [
                        ("Un webinaire régulier", True),
                        ("Une lettre d'information", True),
                        ("Un annuaire jamais mis à jour", False),
                    ],
                ),
            ],
        ),
    ],
    "Modérer et faire grandir le réseau": [
        (
            "Modération bienveillante",
            [
                (
                    "La charte de la communauté",
                    "Une charte courte, acceptée à l'adhésion, fonde la modération : "
                    "elle dit ce qui est attendu et ce qui ne l'est pas.",
                    "",
                ),
                (
                    "Masquer, verrouiller, exclure",
                    "Masquez un contenu avec un motif expliqué à son auteur ; verrouillez un fil "
                    "qui s'envenime ; l'exclusion reste exceptionnelle et limitée dans le temps.",
                    "",
                ),
            ],
            [
                (
                    "Que doit recevoir l'auteur d'un contenu masqué ?",
                    False,
                    [("Le motif du masquage", True), ("Rien", False), ("Une amende", False)],
                ),
            ],
        ),
    ],
}

RESOURCES = [
    (
        "Guide de l'animateur de communauté",
        "guide",
        "Les bases de l'animation d'un réseau inter-administrations.",
        "https://ressources.example.gouv.fr/guide-animateur",
    ),
    (
        "Fiche pratique : organiser un webinaire",
        "howto",
        "Avant, pendant, après : la liste de vérification.",
        "https://ressources.example.gouv.fr/fiche-webinaire",
    ),
    (
        "Modèle de charte de communauté",
        "template",
        "Une charte à adapter à votre réseau.",
        "https://ressources.example.gouv.fr/modele-charte",
    ),
]


def load_demo(people: dict[str, User], _communities, _rng) -> None:
    trainer = people[TRAINER]
    trainer.is_trainer = True
    path = _build_path(trainer)
    for title, kind, description, url in RESOURCES:
        ops.create_resource(trainer, title, kind, description, url=url)
    _learners(path, people)
    start = (utcnow() + dt.timedelta(days=9)).replace(hour=9, minute=0, second=0, microsecond=0)
    progress.schedule_live_session(
        trainer,
        EventFields(
            "Session en direct — questions d'animateurs",
            start,
            start + dt.timedelta(hours=1),
            description="Une heure pour partager vos difficultés d'animation avec les formateurs.",
            video_url="https://webinaire.numerique.gouv.fr/meeting/animateurs",
        ),
    )
    admin = next(person for person in people.values() if person.is_admin)
    for username in AMBASSADORS:
        ops.set_ambassador(admin, people[username], True)


def _build_path(trainer: User) -> LearningPath:
    path = ops.create_path(
        trainer,
        "Devenir animateur de communauté",
        "Deux cours pour apprendre à **faire vivre** un réseau et à le modérer. "
        "Le parcours terminé délivre le certificat d'animateur.",
        grants_certificate=True,
    )
    for course_title, modules in COURSES.items():
        course = ops.create_course(path, trainer, course_title)
        for module_title, lessons, questions in modules:
            module = ops.create_module(course, trainer, module_title)
            for title, body, video in lessons:
                ops.create_lesson(module, trainer, ops.LessonFields(title, body, video))
            quiz = ops.save_quiz(module, trainer, f"Quiz — {module_title}", 60, 3)
            for text, multiple, choices in questions:
                ops.add_question(quiz, trainer, text, multiple, choices)
        ops.set_published(course, trainer, True)
    ops.set_published(path, trainer, True)
    return path


def _answers(quiz: Quiz, right: bool) -> dict[int, list[int]]:
    return {
        question.id: [c.id for c in question.choices if c.correct == right][:1]
        if not question.multiple or not right
        else [c.id for c in question.choices if c.correct]
        for question in quiz.questions
    }


def _learners(path: LearningPath, people: dict[str, User]) -> None:
    """Thomas has not started; Julien is half way; Nadia failed once; Claire is certified."""
    first, second = path.courses
    first_module = first.modules[0]
    for lesson in first_module.lessons:
        progress.mark_lesson_done(lesson, people["julien"])
    progress.mark_lesson_done(first_module.lessons[0], people["nadia"])
    progress.submit_attempt(first_module.quiz, people["nadia"], _answers(first_module.quiz, False))
    claire = people["claire"]
    for course in (first, second):
        for module in course.modules:
            for lesson in module.lessons:
                progress.mark_lesson_done(lesson, claire)
            progress.submit_attempt(module.quiz, claire, _answers(module.quiz, True))
