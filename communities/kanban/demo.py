"""Demo task boards: two communities organise their work in three columns, with assignees, due
dates (one overdue) and Markdown descriptions.  Everything goes through the real operations
(assignment notifications and indexing included)."""

from __future__ import annotations

import datetime as dt
import random

from maillage.communities.community.models import Community
from maillage.communities.kanban import operations
from maillage.communities.kanban.models import Status
from maillage.communities.kanban.operations import TaskFields
from maillage.communities.users.models import User
from maillage.platform.db import utcnow

# slug: [(creator, status, title, description, assignee, due in days (None: no due date))]
BOARDS = {
    "acheteurs-publics": [
        (
            "camille",
            Status.TODO,
            "Préparer l'ordre du jour de la plénière",
            "Recenser les sujets proposés dans les discussions et le sondage sur les thèmes.",
            "thomas",
            12,
        ),
        (
            "thomas",
            Status.TODO,
            "Mettre à jour le guide des clauses environnementales",
            "Intégrer les obligations de la loi Climat et résilience :\n\n"
            "- clause environnementale obligatoire ;\n- critère d'attribution environnemental.",
            "julien",
            30,
        ),
        ("paul", Status.TODO, "Recenser les besoins en papier recyclé 2027", "", None, None),
        (
            "camille",
            Status.DOING,
            "Rédiger la synthèse du groupement énergie",
            "Reprendre les chiffres du bilan de la Gironde.",
            "thomas",
            -2,
        ),
        (
            "ines",
            Status.DOING,
            "Cartographier les SIAE partenaires",
            "Avec le facilitateur clauses sociales du département.",
            "ines",
            20,
        ),
        (
            "camille",
            Status.DONE,
            "Publier la charte du réseau",
            "Épinglée dans les discussions.",
            "camille",
            None,
        ),
        (
            "julien",
            Status.DONE,
            "Partager le modèle de CCAP fournitures",
            "",
            "julien",
            None,
        ),
    ],
    "numerique-responsable": [
        (
            "emma",
            Status.TODO,
            "Mesurer l'écoindex des dix pages les plus consultées",
            "Utiliser l'extension GreenIT-Analysis et consigner les résultats dans le wiki.",
            "claire",
            15,
        ),
        (
            "mehdi",
            Status.DOING,
            "Inventaire des postes de plus de cinq ans",
            "Export de l'outil de gestion de parc, par direction.",
            "mehdi",
            7,
        ),
        (
            "emma",
            Status.DONE,
            "Convention de réemploi avec l'entreprise adaptée",
            "Signée le mois dernier.",
            "emma",
            None,
        ),
    ],
}


def load_demo(people: dict[str, User], communities: dict[str, Community], rng: random.Random):
    now = utcnow()
    today = now.date()
    for slug, tasks in BOARDS.items():
        for creator, status, title, description, assignee, due_in in tasks:
            fields = TaskFields(
                title=title,
                description=description,
                assignee=people[assignee] if assignee else None,
                due_on=today + dt.timedelta(days=due_in) if due_in is not None else None,
            )
            task = operations.create_task(communities[slug], people[creator], fields, status)
            task.created_at = now - dt.timedelta(days=rng.randint(3, 25), hours=rng.randint(0, 9))
            if task.done_at is not None:
                task.done_at = task.created_at + dt.timedelta(days=rng.randint(1, 3))
