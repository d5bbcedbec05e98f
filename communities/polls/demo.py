"""Demo polls: an anonymous poll, a named multiple-choice poll, a short anonymous survey and a
closed poll with its results, in two demo communities.  Everything goes through the real
operations (notifications and indexing included); dates are then moved into the past."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from maillage.communities.community.models import Community
from maillage.communities.polls import operations
from maillage.communities.polls.models import Poll, ResultsVisibility
from maillage.communities.polls.operations import PollSpec, QuestionSpec
from maillage.communities.users.models import User
from maillage.platform.db import utcnow

# slug: [(author, spec, votes {username: [option labels]}, options)]
# options: days (age), closes_in (days), closed_by (username)
POLLS = {
    "acheteurs-publics": [
        (
            "camille",
            PollSpec(
                title="Quel est votre principal frein aux clauses environnementales ?",
                description="Sondage **anonyme** préparatoire à la réunion plénière : vos "
                "réponses nous aideront à choisir les ateliers de l'an prochain.",
                questions=[
                    QuestionSpec(
                        "",
                        [
                            "Le manque d'offres des fournisseurs",
                            "Le surcoût",
                            "La difficulté à vérifier les engagements",
                            "Le manque de modèles de clauses",
                        ],
                    )
                ],
                anonymous=True,
                results_visibility=ResultsVisibility.AFTER_VOTE,
            ),
            {
                "thomas": ["La difficulté à vérifier les engagements"],
                "paul": ["Le surcoût"],
                "julien": ["La difficulté à vérifier les engagements"],
                "ines": ["Le manque de modèles de clauses"],
            },
            {"days": 4, "closes_in": 10},
        ),
        (
            "thomas",
            PollSpec(
                title="Thèmes de la prochaine journée du réseau",
                description="Choisissez **deux thèmes au plus**. Le programme sera publié "
                "dans les documents de la communauté.",
                questions=[
                    QuestionSpec(
                        "",
                        [
                            "Clauses sociales et insertion",
                            "Achats d'énergie",
                            "Dématérialisation des marchés",
                            "Sourcing et dialogue avec les entreprises",
                            "Contentieux et référés précontractuels",
                        ],
                        multiple=True,
                        max_choices=2,
                    )
                ],
            ),
            {
                "camille": [
                    "Clauses sociales et insertion",
                    "Sourcing et dialogue avec les entreprises",
                ],
                "paul": ["Achats d'énergie", "Dématérialisation des marchés"],
                "julien": ["Contentieux et référés précontractuels"],
                "lucas": ["Clauses sociales et insertion", "Achats d'énergie"],
                "ines": ["Clauses sociales et insertion"],
            },
            {"days": 2},
        ),
    ],
    "club-animateurs": [
        (
            "sophie",
            PollSpec(
                title="Quel créneau pour le café des animateurs ?",
                questions=[
                    QuestionSpec(
                        "",
                        ["Mardi 9 h 30", "Jeudi 13 h 30", "Vendredi 11 h"],
                    )
                ],
            ),
            {
                "camille": ["Jeudi 13 h 30"],
                "ines": ["Jeudi 13 h 30"],
                "emma": ["Mardi 9 h 30"],
            },
            {"days": 20, "closed_by": "sophie", "closed_days": 12},
        ),
        (
            "camille",
            PollSpec(
                title="Bilan de l'atelier « animer une visioconférence »",
                description="Trois minutes pour nous dire ce que vous en avez pensé. "
                "Questionnaire anonyme.",
                questions=[
                    QuestionSpec(
                        "L'atelier vous a-t-il été utile ?",
                        ["Très utile", "Plutôt utile", "Peu utile"],
                    ),
                    QuestionSpec(
                        "Quels formats souhaitez-vous pour la suite ?",
                        ["Atelier en ligne", "Journée en présentiel", "Fiches pratiques"],
                        multiple=True,
                    ),
                ],
                anonymous=True,
            ),
            {
                "ines": ["Très utile", "Atelier en ligne", "Fiches pratiques"],
                "emma": ["Plutôt utile", "Fiches pratiques"],
            },
            {"days": 1, "closes_in": 14},
        ),
    ],
}


def load_demo(people: dict[str, User], communities: dict[str, Community], rng: random.Random):
    now = utcnow()
    for slug, polls in POLLS.items():
        for author, template, votes, options in polls:
            spec = template
            if "closes_in" in options:
                closes_at = now + dt.timedelta(days=options["closes_in"], hours=6)
                spec = replace(template, closes_at=closes_at)
            poll = operations.create_poll(communities[slug], people[author], spec)
            poll.created_at = now - dt.timedelta(days=options["days"], hours=rng.randint(1, 9))
            _vote(poll, people, votes)
            if "closed_by" in options:
                operations.close_poll(poll, people[options["closed_by"]])
                poll.closed_at = now - dt.timedelta(days=options["closed_days"])


def _vote(poll: Poll, people: dict[str, User], votes: dict[str, list[str]]) -> None:
    by_label = {
        option.label: option.id for question in poll.questions for option in question.options
    }
    for username, labels in votes.items():
        operations.vote(poll, people[username], [by_label[label] for label in labels])
