"""Demo wikis: the facilitators' guide of the "Club des animateurs" and the practical sheets
and FAQ of the France services advisers, with revisions by several people."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from maillage.communities.wiki.models import WikiRevision
from maillage.communities.wiki.operations import create_page, save_page
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

# (key, parent key, author, title, body, is_faq)
PAGES = {
    "club-animateurs": [
        (
            "guide",
            None,
            "sophie",
            "Guide de l'animateur",
            "Ce guide rassemble ce que les animatrices et animateurs du club ont appris en "
            "faisant vivre des réseaux interministériels et territoriaux.\n\n"
            "## Comment l'utiliser\n\n"
            "- commencez par **Lancer une communauté** si votre réseau démarre ;\n"
            "- allez à **Animer au quotidien** pour les rituels et les relances ;\n"
            "- chaque page a un historique : n'hésitez pas à compléter, rien ne se perd.",
            False,
        ),
        (
            "lancer",
            "guide",
            "camille",
            "Lancer une communauté",
            "## Avant l'ouverture\n\n"
            "1. Écrire la raison d'être de la communauté en deux phrases.\n"
            "2. Identifier cinq à dix membres « pionniers » qui publieront les premières "
            "semaines.\n"
            "3. Choisir la visibilité : publique, privée ou secrète.\n\n"
            "## Le jour de l'ouverture\n\n"
            "Publiez un message d'accueil et demandez à chacun de se présenter.",
            False,
        ),
        (
            "checklist",
            "lancer",
            "sophie",
            "Check-list des premières semaines",
            "- [ ] Message d'accueil épinglé\n"
            "- [ ] Trois premières ressources dans le wiki\n"
            "- [ ] Premier événement (visioconférence de 30 minutes)\n"
            "- [ ] Relance individuelle des membres silencieux au bout de 15 jours",
            False,
        ),
        (
            "animer",
            "guide",
            "camille",
            "Animer au quotidien",
            "Une communauté vit grâce à des rendez-vous réguliers et à des questions ouvertes.\n\n"
            "| Rythme | Action |\n|---|---|\n"
            "| Chaque semaine | Une question ou une ressource |\n"
            "| Chaque mois | Une visioconférence courte |\n"
            "| Chaque trimestre | Un bilan partagé |",
            False,
        ),
        (
            "rituels",
            "animer",
            "ines",
            "Rituels d'animation",
            "- **Le mardi des ressources** : chacun partage un document utile.\n"
            "- **Le café réseau** : 30 minutes en visio, sans ordre du jour.\n"
            "- **La question du mois**, posée par un membre différent chaque fois.",
            False,
        ),
        (
            "relancer",
            "animer",
            "sophie",
            "Relancer une communauté en sommeil",
            "Quand plus personne ne publie :\n\n"
            "1. Regardez les dernières questions restées sans réponse.\n"
            "2. Proposez un rendez-vous court et concret.\n"
            "3. Sollicitez personnellement trois membres actifs.",
            False,
        ),
        (
            "moderation",
            "guide",
            "sophie",
            "Modération : règles et bonnes pratiques",
            "La charte de la communauté est affichée dans sa description. En cas de message "
            "inapproprié, contactez d'abord son auteur ; ne supprimez qu'en dernier recours et "
            "expliquez toujours pourquoi.",
            False,
        ),
        (
            "faq",
            None,
            "camille",
            "Questions fréquentes des animateurs",
            "Les réponses courtes aux questions qui reviennent souvent. Elles apparaissent "
            "aussi dans la rubrique « Questions fréquentes » du wiki.",
            False,
        ),
        (
            "faq-partenaire",
            "faq",
            "camille",
            "Comment inviter un partenaire qui n'a pas de compte professionnel ?",
            "Depuis la page **Inviter** de la communauté, saisissez son adresse e-mail : il "
            "reçoit un lien pour créer un compte local, valable sept jours.",
            True,
        ),
        (
            "faq-privee",
            "faq",
            "sophie",
            "Qui peut lire le contenu d'une communauté privée ?",
            "Ses membres uniquement. La communauté reste visible dans l'annuaire, mais ses "
            "publications, événements, documents et pages de wiki sont réservés aux membres.",
            True,
        ),
        (
            "faq-modules",
            "faq",
            "camille",
            "Comment désactiver le wiki ou les événements ?",
            "Dans **Paramètres**, rubrique « Modules », décochez ce dont la communauté n'a pas "
            "besoin. Les contenus sont conservés et réapparaissent si vous réactivez le module.",
            True,
        ),
        (
            "outils",
            None,
            "emma",
            "Boîte à outils",
            "- [Guide de l'animation de communautés (ANCT)](https://agence-cohesion-territoires.gouv.fr)\n"
            "- [Outils numériques de l'État](https://www.numerique.gouv.fr)\n"
            "- Modèle de message d'accueil : voir la page *Lancer une communauté*.",
            False,
        ),
    ],
    "accueil-usagers": [
        (
            "fiches",
            None,
            "ines",
            "Fiches pratiques",
            "Les fiches pas à pas des conseillers France services, relues par les partenaires "
            "nationaux. Une fiche par démarche ; signalez toute évolution dans l'historique.",
            False,
        ),
        (
            "impots",
            "fiches",
            "julien",
            "Fiche 1 — Accompagner une déclaration de revenus en ligne",
            "## Ce qu'il faut à l'usager\n\n"
            "- son numéro fiscal et son mot de passe impots.gouv.fr ;\n"
            "- son dernier avis d'impôt.\n\n"
            "## Étapes\n\n"
            "1. Se connecter à l'espace particulier.\n"
            "2. Vérifier les revenus préremplis.\n"
            "3. Signer la déclaration et télécharger l'accusé de réception.",
            False,
        ),
        (
            "carte-grise",
            "fiches",
            "nadia",
            "Fiche 2 — Demande de certificat d'immatriculation (ANTS)",
            "La demande se fait uniquement en ligne sur le site de l'ANTS. Préparez le "
            "certificat de cession, le justificatif de domicile et le permis de conduire.",
            False,
        ),
        (
            "ameli",
            "fiches",
            "ines",
            "Fiche 3 — Créer un compte Ameli",
            "Munissez-vous de la carte Vitale et d'un RIB. Le code provisoire arrive par "
            "courrier sous quelques jours si l'usager ne peut pas se connecter avec "
            "FranceConnect.",
            False,
        ),
        (
            "faq",
            None,
            "ines",
            "FAQ des conseillers",
            "Réponses validées aux questions fréquentes des conseillers.",
            False,
        ),
        (
            "faq-mandat",
            "faq",
            "julien",
            "Peut-on réaliser une démarche à la place de l'usager ?",
            "Oui, avec un mandat écrit (Aidants Connect ou mandat papier) et en présence de "
            "l'usager. Ne conservez jamais ses identifiants.",
            True,
        ),
        (
            "faq-email",
            "faq",
            "nadia",
            "Que faire si l'usager n'a pas d'adresse e-mail ?",
            "Aidez-le à en créer une qu'il pourra consulter seul, et notez le mot de passe "
            "sur un support qu'il garde. Évitez les adresses partagées avec l'accueil.",
            True,
        ),
        (
            "partenaires",
            None,
            "ines",
            "Annuaire des partenaires locaux",
            "| Partenaire | Contact | Permanence |\n|---|---|---|\n"
            "| CAF | Rendez-vous en ligne | Lundi matin |\n"
            "| CPAM | 36 46 | Jeudi après-midi |",
            False,
        ),
    ],
}

# (community, page key, editor, text appended to the page, comment)
EDITS = [
    (
        "club-animateurs",
        "relancer",
        "camille",
        "\n4. Publiez un court bilan de ce qui a marché : cela donne envie de revenir.",
        "Ajout d'une quatrième étape",
    ),
    (
        "club-animateurs",
        "relancer",
        "emma",
        "\n\n> Astuce : un sondage de deux questions suffit souvent à relancer la discussion.",
        "Astuce sondage",
    ),
    (
        "club-animateurs",
        "lancer",
        "sophie",
        "\n\n## Après un mois\n\nFaites le point avec les pionniers : qu'est-ce qui manque ?",
        "Section « Après un mois »",
    ),
    (
        "accueil-usagers",
        "impots",
        "ines",
        "\n4. Remettre à l'usager une copie papier de l'accusé de réception.",
        "Étape 4 demandée par les conseillers de Lunel",
    ),
    (
        "accueil-usagers",
        "partenaires",
        "julien",
        "\n| DDFiP | Sur rendez-vous | Un mardi par mois |",
        "Permanence mensuelle de la DDFiP",
    ),
]


def load_demo(people, communities, rng) -> None:
    now = utcnow()
    pages = {}
    for slug, specs in PAGES.items():
        community = communities[slug]
        for key, parent_key, author, title, body, is_faq in specs:
            page = create_page(
                community,
                people[author],
                title,
                body,
                parent=pages.get((slug, parent_key)),
                is_faq=is_faq,
            )
            created = now - dt.timedelta(days=rng.randint(20, 40), minutes=rng.randint(0, 600))
            page.created_at = page.updated_at = created
            first = db.session.scalar(select(WikiRevision).where(WikiRevision.page_id == page.id))
            first.created_at = created
            pages[(slug, key)] = page
    for index, (slug, key, editor, addition, comment) in enumerate(EDITS):
        page = pages[(slug, key)]
        revision = save_page(
            page,
            people[editor],
            page.title,
            page.body_source + addition,
            base_revision=page.current_revision,
            comment=comment,
        )
        revision.created_at = page.updated_at = now - dt.timedelta(days=2 * (len(EDITS) - index))
