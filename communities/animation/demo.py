"""Demo animation: pinned announcements, a scheduled post, last month's summary (sent), and a
welcome message with a charter on the buyers' network."""

from __future__ import annotations

import datetime as dt

from maillage.communities.animation import operations
from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import utcnow

CHARTER = (
    "1. Nous échangeons entre collègues, avec bienveillance.\n"
    "2. Aucune donnée personnelle ni information couverte par le secret des affaires.\n"
    "3. Les documents partagés restent à l'usage du réseau."
)
WELCOME = (
    "Bienvenue dans le réseau des acheteurs publics !\n\n"
    "Présentez-vous en quelques mots dans le fil, et consultez les modèles de clauses "
    "dans l'espace documentaire."
)


def load_demo(people: dict[str, User], communities: dict[str, Community], rng) -> None:
    buyers = communities.get("acheteurs-publics")
    club = communities.get("club-animateurs")
    camille, sophie = people.get("camille"), people.get("sophie")
    now = utcnow()
    if buyers is not None and camille is not None:
        buyers.welcome_message, buyers.charter = WELCOME, CHARTER
        operations.create_announcement(
            buyers,
            camille,
            "Webinaire « clauses environnementales » le 12",
            "Inscrivez-vous via l'agenda de la communauté : **places limitées à 80**.",
            pinned_until=now + dt.timedelta(days=20),
        )
        operations.schedule_post(
            buyers,
            camille,
            "Appel à retours d'expérience : achats de véhicules électriques",
            "Vous avez passé un marché de véhicules électriques cette année ? "
            "Partagez vos critères de notation en commentaire.",
            publish_at=now + dt.timedelta(days=3, hours=rng.randint(1, 8)),
        )
        start, _end = operations.previous_month(now)
        summary = operations.draft_summary(buyers, camille, start, now=now)
        operations.send_summary(summary, camille, now=now - dt.timedelta(days=rng.randint(1, 5)))
    if club is not None and sophie is not None:
        operations.create_announcement(
            club,
            sophie,
            "Nouveau parcours de formation des animateurs",
            "Le parcours « Animer une communauté » est ouvert dans l'espace de formation.",
        )
