"""Demo events: webinaires, réunions de réseau and a séminaire in several communities, past and
upcoming, with answers, one event with a waiting list and one open date poll.

Everything goes through the operations; past events are created ahead, answered, then moved
back in time (answers are refused once an event has started).
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from maillage.communities.community.models import Community
from maillage.communities.events.date_polls import (
    DatePollFields,
    answer_date_poll,
    create_date_poll,
)
from maillage.communities.events.operations import EventFields, create_event, respond
from maillage.communities.events.times import local_to_utc
from maillage.communities.users.models import User
from maillage.platform.db import utcnow

PARIS = "Europe/Paris"

# (community, organiser, title, days from today, start, end, days long, place, video, capacity,
#  description, answers as {username: yes|maybe|no})
EVENTS = [
    (
        "acheteurs-publics",
        "thomas",
        "Webinaire — Les clauses environnementales dans les marchés de travaux",
        12,
        "10:00",
        "11:30",
        0,
        "",
        "https://webinaire.numerique.gouv.fr/meeting/acheteurs-clauses-env",
        4,
        "Retours d'expérience de la Gironde et de la DAE sur les critères environnementaux "
        "des marchés de travaux.\n\n**Ordre du jour**\n\n- cadre juridique (loi Climat et "
        "résilience) ;\n- exemples de clauses et de critères ;\n- questions-réponses.",
        {"paul": "yes", "julien": "yes", "lucas": "yes", "ines": "yes", "camille": "yes"},
    ),
    (
        "acheteurs-publics",
        "camille",
        "Réunion de réseau — bilan des achats responsables 2025",
        -40,
        "14:00",
        "17:00",
        0,
        "Direction des achats de l'État, 59 boulevard Vincent-Auriol, Paris 13e",
        "",
        None,
        "Bilan annuel du plan national pour des achats durables et priorités de l'année.",
        {"thomas": "yes", "paul": "yes", "julien": "maybe", "ines": "no"},
    ),
    (
        "acheteurs-publics",
        "camille",
        "Réunion de réseau du deuxième trimestre",
        45,
        "09:30",
        "12:30",
        0,
        "Préfecture de l'Hérault, salle Jean-Moulin, Montpellier",
        "https://webinaire.numerique.gouv.fr/meeting/acheteurs-t2",
        None,
        "Tour de table des régions, point sur la mutualisation des marchés de nettoyage.",
        {"thomas": "yes", "lucas": "maybe"},
    ),
    (
        "club-animateurs",
        "sophie",
        "Séminaire annuel des animatrices et animateurs de communautés",
        50,
        "09:30",
        "16:30",
        1,
        "Hôtel de Région, 22 boulevard du Maréchal-Juin, Toulouse",
        "",
        30,
        "Deux jours pour partager nos méthodes d'animation : ateliers, retours d'expérience "
        "et temps d'échange entre réseaux de l'État et des collectivités.",
        {"camille": "yes", "ines": "yes", "emma": "maybe"},
    ),
    (
        "numerique-responsable",
        "emma",
        "Webinaire — Mesurer l'empreinte environnementale de nos services numériques",
        20,
        "14:00",
        "15:00",
        0,
        "",
        "https://webinaire.numerique.gouv.fr/meeting/numerique-responsable-empreinte",
        None,
        "Présentation du référentiel général d'écoconception et d'outils de mesure.",
        {"claire": "yes", "mehdi": "yes"},
    ),
    (
        "numerique-responsable",
        "emma",
        "Café sobriété numérique",
        -15,
        "12:30",
        "13:30",
        0,
        "",
        "https://webinaire.numerique.gouv.fr/meeting/cafe-sobriete",
        None,
        "Un moment informel pour échanger nos astuces de sobriété au bureau.",
        {"claire": "yes", "mehdi": "maybe"},
    ),
    (
        "cyber-collectivites",
        "mehdi",
        "Exercice de crise cyber — retour d'expérience",
        25,
        "10:00",
        "12:00",
        0,
        "",
        "https://webinaire.numerique.gouv.fr/meeting/cyber-retex",
        None,
        "Retour sur l'exercice régional de gestion de crise cyber : ce qui a marché, ce qui "
        "est à améliorer dans nos plans de continuité.",
        {"karim": "yes", "lucas": "yes"},
    ),
    (
        "transition-collectivites",
        "sophie",
        "Réunion de réseau — rénovation énergétique des écoles",
        -9,
        "09:30",
        "12:00",
        0,
        "Maison de la Région, Montpellier",
        "",
        None,
        "Le décret tertiaire appliqué aux écoles : financements et premiers chantiers.",
        {"claire": "yes", "thomas": "yes"},
    ),
]

POLL = (
    "club-animateurs",
    "sophie",
    "Atelier « Animer une communauté à distance » : choisissons la date",
    ((16, "10:00", "12:00"), (18, "14:00", "16:00"), (23, "10:00", "12:00")),
    "https://webinaire.numerique.gouv.fr/meeting/atelier-distance",
    "Un atelier pratique de deux heures sur les outils et rituels d'animation à distance.",
    ("camille", "ines", "emma"),
)


def _at(days: int, clock: str) -> dt.datetime:
    """The UTC instant of ``clock`` (Paris time) ``days`` from today."""
    day = dt.datetime.now(ZoneInfo(PARIS)).date() + dt.timedelta(days=days)
    hours, minutes = (int(part) for part in clock.split(":"))
    return local_to_utc(day, dt.time(hours, minutes), PARIS)


def _create(spec, people: dict[str, User], communities: dict[str, Community]) -> None:
    slug, organiser, title, days, start, end, length, place, video, capacity, text, answers = spec
    # Past events are created in the future, answered, then moved back.
    offset = days if days > 0 else 60
    event = create_event(
        communities[slug],
        people[organiser],
        EventFields(
            title=title,
            starts_at=_at(offset, start),
            ends_at=_at(offset + length, end),
            description=text,
            timezone=PARIS,
            place=place,
            video_url=video,
            capacity=capacity,
        ),
    )
    for username, answer in answers.items():
        respond(event, people[username], answer)
    if days < 0:
        shift = dt.timedelta(days=offset - days)
        event.starts_at -= shift
        event.ends_at -= shift
        event.created_at = utcnow() - shift - dt.timedelta(days=14)


def _create_poll(people, communities, rng: random.Random) -> None:
    slug, organiser, title, slots, video, text, voters = POLL
    poll = create_date_poll(
        communities[slug],
        people[organiser],
        DatePollFields(
            title=title,
            slots=[(_at(days, start), _at(days, end)) for days, start, end in slots],
            description=text,
            timezone=PARIS,
            video_url=video,
        ),
    )
    for username in voters:
        answers = {slot.id: rng.choice(["yes", "yes", "if_need_be", "no"]) for slot in poll.slots}
        answer_date_poll(poll, people[username], answers)


def load_demo(people: dict[str, User], communities: dict[str, Community], rng) -> None:
    for spec in EVENTS:
        _create(spec, people, communities)
    _create_poll(people, communities, rng)
