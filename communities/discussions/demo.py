"""Demo discussions: questions between agents, some answered, pinned or locked, with mentions and
quotes.  Everything goes through the real operations (notifications and indexing included); dates
are then spread over the past weeks so lists read naturally."""

from __future__ import annotations

import datetime as dt
import random

from maillage.communities.community.models import Community
from maillage.communities.discussions import operations
from maillage.communities.users.models import User
from maillage.platform.db import utcnow

# A reply is (author, body) or (author, body, index of the quoted reply in the same topic).
# slug: [(author, title, body, replies, options)]; options: pinned, locked, answer (reply index)
DISCUSSIONS = {
    "acheteurs-publics": [
        (
            "camille",
            "Charte du réseau et bonnes pratiques des discussions",
            "Bienvenue dans les discussions du réseau !\n\n"
            "- une question par discussion, avec un titre explicite ;\n"
            "- quand une réponse vous a aidé, **retenez-la comme réponse** : les suivants la "
            "trouveront tout de suite ;\n"
            "- pas de données personnelles ni de pièces de marché non publiées.\n\n"
            "Les animateurs (@thomas et moi) restent joignables ici.",
            [
                (
                    "thomas",
                    "Merci Camille. J'ajoute : pensez à chercher avant de poser une question, "
                    "beaucoup de sujets ont déjà été traités.",
                )
            ],
            {"pinned": True, "locked": True},
        ),
        (
            "paul",
            "Clause de révision des prix dans un marché de fournitures de bureau",
            "Bonjour à tous,\n\nNous préparons un accord-cadre de fournitures de bureau sur 4 ans. "
            "Faut-il obligatoirement prévoir une clause de révision des prix ? Quels indices "
            "utilisez-vous ?",
            [
                (
                    "julien",
                    "Pour un marché de plus de 3 mois avec une part importante de matières "
                    "premières, la clause de révision est **obligatoire** (article R. 2112-14 du "
                    "code de la commande publique). Nous utilisons l'indice INSEE des prix de "
                    "production du papier-carton.",
                ),
                (
                    "thomas",
                    "Je confirme. Attention à la formule : une part fixe d'au moins 12,5 % est "
                    "recommandée. @paul, je peux vous envoyer notre modèle de CCAP.",
                ),
                ("paul", "Oui, avec plaisir ! Merci à vous deux.", 1),
            ],
            {"answer": 0},
        ),
        (
            "ines",
            "Marchés réservés aux structures d'insertion : retours d'expérience ?",
            "Notre association accompagne plusieurs SIAE. Des acheteurs ont-ils déjà passé un "
            "marché réservé (article L. 2113-13) ? Comment avez-vous identifié les structures ?",
            [
                (
                    "lucas",
                    "La préfecture a réservé un lot d'entretien des espaces verts l'an dernier. "
                    "Le facilitateur clauses sociales du département nous a aidés à sourcer.",
                ),
                (
                    "camille",
                    "Très bonne question. @lucas, pourriez-vous partager l'avis de marché ? "
                    "Cela intéresserait tout le réseau.",
                ),
            ],
            {},
        ),
        (
            "thomas",
            "Groupement de commandes énergie 2027 : qui est intéressé ?",
            "Le Département de la Gironde coordonne un groupement pour l'électricité et le gaz "
            "à partir de 2027. Manifestez-vous avant la fin du mois.",
            [
                ("julien", "La DDFiP de la Gironde serait intéressée pour trois sites."),
                ("paul", "Le groupement est-il ouvert aux établissements publics hors Gironde ?"),
                (
                    "thomas",
                    "Pour cette édition, non : le périmètre est départemental. Mais la convention "
                    "constitutive peut servir de modèle.",
                    1,
                ),
            ],
            {"answer": 2},
        ),
    ],
    "club-animateurs": [
        (
            "emma",
            "Quel rythme pour une lettre d'information de communauté ?",
            "Je lance une lettre pour notre communauté de 300 membres. Mensuelle ou "
            "bimestrielle ? Qu'est-ce qui marche chez vous ?",
            [
                (
                    "sophie",
                    "Mensuelle, courte (5 liens au plus) et toujours le même jour. La régularité "
                    "compte plus que la longueur.",
                ),
                (
                    "ines",
                    "Chez nous une lettre bimestrielle avec un portrait de membre : c'est la "
                    "rubrique la plus lue.",
                ),
                (
                    "camille",
                    "+1 pour le portrait. @emma, pensez aussi à mettre en avant les discussions "
                    "résolues du mois.",
                    1,
                ),
            ],
            {"answer": 0},
        ),
        (
            "sophie",
            "Atelier « animer une visioconférence qui ne s'endort pas » le 5 février",
            "Je propose un atelier de 45 minutes entre animateurs. Inscrivez-vous en répondant "
            "ici ; @camille co-anime.",
            [("ines", "Inscrite !"), ("emma", "Inscrite aussi, merci pour l'initiative.")],
            {"pinned": True},
        ),
    ],
    "numerique-responsable": [
        (
            "claire",
            "Allonger la durée de vie des postes de travail : 5 ou 6 ans ?",
            "Notre DSI envisage de passer de 4 à 6 ans de renouvellement. Avez-vous des retours "
            "sur les pannes et la satisfaction des agents ?",
            [
                (
                    "mehdi",
                    "Nous sommes à 6 ans depuis 2022 avec un changement de batterie et de SSD à "
                    "mi-vie. Le taux de panne reste stable ; les agents apprécient surtout le SSD.",
                ),
                (
                    "emma",
                    "Pensez aussi au réemploi en fin de vie : le GIP a un partenariat avec une "
                    "entreprise adaptée pour le reconditionnement.",
                ),
            ],
            {"answer": 0},
        ),
    ],
    "inclusion-numerique": [
        (
            "nadia",
            "Outils pour accompagner la création d'une adresse électronique",
            "Beaucoup d'usagers arrivent sans adresse électronique. Quel support utilisez-vous "
            "pour les accompagner pas à pas ?",
            [
                (
                    "ines",
                    "Nous utilisons les fiches des Bases du numérique, imprimées en gros "
                    "caractères. @emma en a fait une version simplifiée.",
                ),
                ("emma", "Je la dépose dans les documents de la communauté cette semaine !"),
            ],
            {},
        ),
    ],
    "cyber-collectivites": [
        (
            "karim",
            "Hameçonnage ciblé se faisant passer pour la trésorerie",
            "Plusieurs agents de Belcastel ont reçu un faux courriel de la trésorerie demandant "
            "un changement de RIB fournisseur. Avez-vous vu passer la même campagne ?",
            [
                (
                    "lucas",
                    "Oui, signalée en préfecture hier. Le bon réflexe : vérifier tout changement "
                    "de RIB par téléphone au numéro habituel, jamais celui du courriel.",
                ),
                (
                    "mehdi",
                    "Signalez aussi sur cybermalveillance.gouv.fr et au CSIRT régional. "
                    "@karim, je vous envoie la fiche réflexe.",
                ),
                ("karim", "Merci, fiche diffusée à tous les agents.", 1),
            ],
            {"answer": 0, "pinned": True},
        ),
    ],
    "teletravail-entraide": [
        (
            "hugo",
            "Un casque correct pour les visioconférences, sans se ruiner ?",
            "Mon casque grésille pendant les réunions. Des conseils de modèle autour de 50 € ?",
            [
                (
                    "paul",
                    "Un casque filaire USB avec micro sur perche : bien plus fiable que le "
                    "Bluetooth pour la visio.",
                ),
                ("lea", "Vérifiez aussi le catalogue de l'UGAP, votre service achats y a accès."),
            ],
            {},
        ),
    ],
}


def load_demo(people: dict[str, User], communities: dict[str, Community], rng: random.Random):
    now = utcnow()
    for slug, topics in DISCUSSIONS.items():
        for author, title, body, replies, options in topics:
            start = now - dt.timedelta(days=rng.randint(6, 40), hours=rng.randint(0, 12))
            spec = (author, title, body, replies, options)
            _create(communities[slug], people, spec, start, now, rng)


def _create(community, people, spec, start: dt.datetime, now: dt.datetime, rng) -> None:
    author, title, body, replies, options = spec
    topic = operations.create_topic(community, people[author], title, body)
    topic.created_at = topic.last_activity_at = start
    created = []
    moment = start
    for reply_spec in replies:
        replier, text = reply_spec[0], reply_spec[1]
        quoted = created[reply_spec[2]] if len(reply_spec) > 2 else None
        if quoted is not None:
            text = operations.quote_source(quoted) + text
        reply = operations.add_reply(topic, people[replier], text, quoted)
        moment += dt.timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59))
        moment = min(moment, now - dt.timedelta(minutes=5))
        reply.created_at = topic.last_activity_at = moment
        created.append(reply)
    moderator = community_owner(community, people)
    if "answer" in options:
        operations.set_answer(topic, people[author], created[options["answer"]])
    if options.get("pinned"):
        operations.set_pinned(topic, moderator, True)
    if options.get("locked"):
        operations.set_locked(topic, moderator, True)


def community_owner(community: Community, people: dict[str, User]) -> User:
    """Someone who may moderate ``community`` (its owner, by the demo's own data)."""
    from maillage.communities.demo import COMMUNITIES

    owner = next(spec[4] for spec in COMMUNITIES if spec[0] == community.slug)
    return people[owner]
