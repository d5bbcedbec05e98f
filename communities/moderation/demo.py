"""Moderation history for the demo: open and handled reports, a hidden post, a locked thread, a
muted member and a ban that has expired — in the public network of buyers, moderated by Lucas —
and, in the facilitators' club, a post deleted with its reason, a comment hidden then restored and
an open report on a comment, handled by Sophie."""

from __future__ import annotations

import datetime as dt

from maillage.communities.moderation import operations
from maillage.communities.posts import operations as post_ops
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

SLUG = "acheteurs-publics"
CLUB = "club-animateurs"


def load_demo(people, communities, _rng) -> None:
    _buyers_network(people, communities)
    _facilitators_club(people, communities)


def _facilitators_club(people, communities) -> None:
    community = communities.get(CLUB)
    if community is None:
        return
    facilitator = people["sophie"]
    duplicate = post_ops.create_post(
        community, people["ines"], "Atelier du jeudi (doublon)", "Voir l'autre publication."
    )
    operations.report(people["emma"], duplicate, "off_topic", "Publié deux fois.")
    operations.delete(facilitator, duplicate, "Doublon de l'annonce de l'atelier du jeudi.")
    thread = post_ops.create_post(
        community, people["emma"], "Vos outils pour animer à distance ?", "Je commence."
    )
    careless = post_ops.add_comment(thread, people["ines"], "Écrivez-moi sur ma messagerie perso.")
    operations.report(people["camille"], careless, "confidential", "Coordonnées personnelles.")
    operations.hide(facilitator, careless, "Pas de coordonnées personnelles dans les échanges.")
    operations.restore(facilitator, careless)
    rude = post_ops.add_comment(thread, people["ines"], "Franchement, quelle question…")
    operations.report(people["emma"], rude, "abuse", "Ton méprisant.")


def _buyers_network(people, communities) -> None:
    community = communities.get(SLUG)
    if community is None:
        return
    moderator, owner = people["lucas"], people["camille"]
    spam = post_ops.create_post(
        community, people["paul"], "Qui veut des fournitures à prix cassés ?", "Écrivez-moi !"
    )
    heated = post_ops.create_post(
        community, people["julien"], "Les clauses sociales ne servent à rien", "Changez d'avis."
    )
    post_ops.add_comment(heated, people["ines"], "Je ne suis pas du tout d'accord.")
    spammy = post_ops.create_post(
        community, people["paul"], "Offre commerciale", "Remise de 50 % pour les 10 premiers !"
    )
    # An open report waiting in the queue, from two people.
    operations.report(people["ines"], spam, "spam", "Ressemble à de la publicité.")
    operations.report(people["julien"], spam, "off_topic", "")
    # A report handled by hiding the post (its author sees why).
    operations.report(people["ines"], spammy, "spam", "Démarchage commercial.")
    operations.hide(moderator, spammy, "Le démarchage commercial n'a pas sa place ici.")
    # A dismissed report, and a thread locked after a heated exchange.
    operations.report(people["paul"], heated, "other", "Je ne suis pas d'accord avec ce message.")
    operations.dismiss(moderator, community, "post", heated.id, "Un désaccord n'est pas un abus.")
    operations.report(people["thomas"], heated, "abuse", "Le ton monte dans les commentaires.")
    operations.lock(moderator, heated)
    # A member muted for a week, and a ban that ended last month.
    operations.mute(
        moderator,
        community,
        people["julien"],
        "Messages agressifs répétés.",
        utcnow() + dt.timedelta(days=7),
    )
    ban = operations.ban(
        owner,
        community,
        people["mehdi"],
        "Diffusion d'un document interne.",
        utcnow() + dt.timedelta(days=1),
    )
    ban.created_at = utcnow() - dt.timedelta(days=60)
    ban.ends_at = utcnow() - dt.timedelta(days=30)
    db.session.flush()
