"""Demo data: invented but realistic French inter-administration networks.

Loaded by ``flask maillage demo`` (and by ``make run`` on an empty database).  Everything goes
through the real operations, so the demo also exercises invitations, join requests, indexing and
the outbox.  Names, people and SIRET numbers are invented.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from maillage.communities.community import operations as community_ops
from maillage.communities.community.models import Community, Role, Topic
from maillage.communities.organisations.models import Organisation, OrganisationSource
from maillage.communities.organisations.operations import create_organisation
from maillage.communities.permissions import can
from maillage.communities.posts import operations as post_ops
from maillage.communities.users.models import User
from maillage.communities.users.operations import create_user
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.firstrun.operations import mark_setup_done
from maillage.platform.portal.operations import publish_announcement

DEMO_PASSWORD = "maillage-demo"  # noqa: S105 - published demo password, printed by make run

ORGANISATIONS = {
    "dnum": (
        "Ministère de l'Intérieur — Direction du numérique",
        "state_service",
        "11000201100044",
    ),
    "dae": ("Direction des achats de l'État", "state_service", "13002526500013"),
    "dreal": ("DREAL Occitanie (Ministère de la Transition écologique)", "state_service", None),
    "prefecture": ("Préfecture de l'Hérault", "state_service", "17340001300012"),
    "ddfip": ("DDFiP de la Gironde", "state_service", None),
    "region": ("Région Occitanie", "local_authority", "20005226400013"),
    "gironde": ("Département de la Gironde", "local_authority", "22330001300016"),
    "nord": ("Département du Nord", "local_authority", None),
    "belcastel": ("Commune de Belcastel-sur-Orb", "local_authority", "21340123400017"),
    "saint-martin": ("Ville de Saint-Martin-des-Prés", "local_authority", None),
    "acheteurs-ge": ("Association des acheteurs publics du Grand Est", "association", None),
    "mediation": ("Collectif Médiation numérique solidaire", "association", None),
    "secretaires": ("Réseau des secrétaires de mairie", "association", None),
    "gip": ("GIP Santé numérique des territoires", "other", None),
}

# username: (display name, organisation, job title, description printed by make run)
PEOPLE = {
    "alix": (
        "Alix Administratrice",
        "dnum",
        "Administratrice de la plateforme",
        "administratrice de la plateforme",
    ),
    "camille": (
        "Camille Laurent",
        "dae",
        "Cheffe de projet achats responsables",
        "animatrice du réseau des acheteurs, propriétaire de plusieurs communautés",
    ),
    "karim": (
        "Karim Benali",
        "belcastel",
        "Directeur général des services",
        "propriétaire de la cellule de crise (communauté secrète)",
    ),
    "sophie": (
        "Sophie Martin",
        "region",
        "Chargée de mission transition écologique",
        "animatrice, reçoit des demandes d'adhésion à approuver",
    ),
    "lucas": (
        "Lucas Petit",
        "prefecture",
        "Chef du bureau de la coordination",
        "modérateur, membre du groupe RH (secret)",
    ),
    "ines": (
        "Inès Moreau",
        "mediation",
        "Coordinatrice régionale",
        "membre d'une association partenaire",
    ),
    "thomas": ("Thomas Girard", "gironde", "Responsable de la commande publique", "membre"),
    "nadia": ("Nadia Haddad", "saint-martin", "Secrétaire de mairie", "membre, demande en attente"),
    "julien": ("Julien Roux", "ddfip", "Inspecteur des finances publiques", "membre"),
    "claire": ("Claire Dubois", "dreal", "Cheffe de service évaluation environnementale", "membre"),
    "mehdi": ("Mehdi Chevalier", "nord", "Délégué à la protection des données", "membre"),
    "anne": ("Anne Lefèvre", "secretaires", "Présidente", "invitée (rôle guest)"),
    "paul": ("Paul Garnier", "acheteurs-ge", "Acheteur mutualisé", "membre"),
    "emma": ("Emma Fontaine", "gip", "Cheffe de produit", "membre"),
    "hugo": (
        "Hugo Mercier",
        "belcastel",
        "Agent des services techniques",
        "membre de la cellule de crise",
    ),
    "lea": ("Léa Bernard", "region", "Gestionnaire RH", "membre du groupe RH (secret)"),
}

TOPICS = {
    "achats": "Achats publics",
    "numerique": "Numérique",
    "rh": "Ressources humaines",
    "crise": "Gestion de crise",
    "ecologie": "Transition écologique",
    "donnees": "Données",
    "usagers": "Relation aux usagers",
    "animation": "Animation de réseaux",
    "droit": "Juridique",
    "territoires": "Territoires",
}

# slug: (name, visibility, join policy, owner, topics, members as (username, role), description)
COMMUNITIES = [
    (
        "acheteurs-publics",
        "Réseau des acheteurs publics",
        "public",
        "open",
        "camille",
        ["achats", "droit"],
        [
            ("thomas", Role.FACILITATOR),
            ("paul", Role.MEMBER),
            ("julien", Role.MEMBER),
            ("lucas", Role.MODERATOR),
            ("ines", Role.MEMBER),
        ],
        "Le réseau des acheteurs de l'État, des collectivités et des établissements publics : "
        "veille juridique, clauses sociales et environnementales, mutualisation des marchés.",
    ),
    (
        "cellule-crise-belcastel",
        "Cellule de crise — Belcastel-sur-Orb",
        "secret",
        "invite",
        "karim",
        ["crise", "territoires"],
        [("hugo", Role.MEMBER), ("lucas", Role.FACILITATOR)],
        "Coordination de la commune et de la préfecture pendant les épisodes d'inondation.",
    ),
    (
        "club-animateurs",
        "Club des animateurs de communautés",
        "public",
        "request",
        "sophie",
        ["animation"],
        [("camille", Role.FACILITATOR), ("ines", Role.MEMBER), ("emma", Role.MEMBER)],
        "Entre animatrices et animateurs : méthodes, outils, retours d'expérience et entraide.",
    ),
    (
        "gt-rh-lignes-directrices",
        "Groupe de travail RH — lignes directrices de gestion",
        "secret",
        "invite",
        "lea",
        ["rh"],
        [("lucas", Role.MEMBER), ("julien", Role.MEMBER)],
        "Travaux préparatoires confidentiels sur les lignes directrices de gestion.",
    ),
    (
        "numerique-responsable",
        "Numérique responsable dans les administrations",
        "public",
        "open",
        "emma",
        ["numerique", "ecologie"],
        [("claire", Role.MEMBER), ("mehdi", Role.MEMBER)],
        "Sobriété numérique, écoconception des services publics, réemploi du matériel.",
    ),
    (
        "secretaires-mairie-occitanie",
        "Secrétaires de mairie d'Occitanie",
        "private",
        "request",
        "anne",
        ["territoires"],
        [("hugo", Role.MEMBER)],
        "L'entraide entre secrétaires de mairie des petites communes d'Occitanie.",
    ),
    (
        "donnees-territoires",
        "Données ouvertes et territoires",
        "public",
        "open",
        "mehdi",
        ["donnees", "territoires"],
        [("emma", Role.MEMBER), ("sophie", Role.MEMBER)],
        "Ouvrir, partager et réutiliser les données publiques locales.",
    ),
    (
        "accueil-usagers",
        "Accueil des usagers — France services",
        "public",
        "open",
        "ines",
        ["usagers"],
        [("nadia", Role.MEMBER), ("julien", Role.MEMBER)],
        "Pratiques d'accueil, orientation des usagers et partenariats locaux.",
    ),
    (
        "transition-collectivites",
        "Transition écologique des collectivités",
        "public",
        "request",
        "sophie",
        ["ecologie", "territoires"],
        [("claire", Role.FACILITATOR), ("thomas", Role.MEMBER)],
        "Plans climat, rénovation énergétique du patrimoine public, mobilités.",
    ),
    (
        "cyber-collectivites",
        "Cybersécurité des collectivités",
        "private",
        "request",
        "mehdi",
        ["numerique"],
        [("karim", Role.MEMBER), ("lucas", Role.MEMBER)],
        "Alertes, exercices de crise cyber et retours d'incidents entre collectivités.",
    ),
    (
        "juristes-commande-publique",
        "Juristes de la commande publique",
        "private",
        "invite",
        "camille",
        ["achats", "droit"],
        [("thomas", Role.MEMBER), ("paul", Role.GUEST)],
        "Analyse de jurisprudence et questions de procédure entre juristes.",
    ),
    (
        "inclusion-numerique",
        "Inclusion numérique — médiateurs",
        "public",
        "open",
        "ines",
        ["numerique", "usagers"],
        [("nadia", Role.MEMBER), ("emma", Role.MEMBER)],
        "Médiatrices et médiateurs numériques : ateliers, outils, financements.",
    ),
    (
        "communication-locale",
        "Communication publique locale",
        "public",
        "open",
        "thomas",
        ["territoires"],
        [("karim", Role.MEMBER)],
        "Journaux municipaux, réseaux sociaux, accessibilité des contenus.",
    ),
    (
        "coordination-herault",
        "Préfecture de l'Hérault — coordination des services",
        "secret",
        "invite",
        "lucas",
        ["crise"],
        [("claire", Role.MEMBER), ("karim", Role.GUEST)],
        "Coordination interservices de l'État dans l'Hérault.",
    ),
    (
        "rh-territoriales",
        "Ressources humaines du versant territorial",
        "private",
        "request",
        "lea",
        ["rh", "territoires"],
        [("nadia", Role.MEMBER), ("anne", Role.MEMBER)],
        "Gestion des carrières, formation et recrutement dans les collectivités.",
    ),
    (
        "copil-mobilite",
        "Comité de pilotage Région–Départements mobilité",
        "private",
        "invite",
        "sophie",
        ["territoires"],
        [("thomas", Role.MEMBER), ("mehdi", Role.MEMBER)],
        "Pilotage partagé des transports scolaires et interurbains.",
    ),
    (
        "archivistes-publics",
        "Archivistes publics",
        "public",
        "open",
        "julien",
        ["donnees"],
        [("anne", Role.MEMBER)],
        "Archivage électronique, versements et records management.",
    ),
    (
        "teletravail-entraide",
        "Agents en télétravail — entraide",
        "public",
        "open",
        "emma",
        ["rh"],
        [("paul", Role.MEMBER), ("hugo", Role.MEMBER), ("lea", Role.MEMBER)],
        "Trucs et astuces pour bien travailler à distance.",
    ),
    (
        "referents-handicap",
        "Référents handicap",
        "private",
        "request",
        "lea",
        ["rh"],
        [("claire", Role.MEMBER)],
        "Le réseau des référents handicap des trois versants.",
    ),
    (
        "budget-participatif",
        "Budget participatif — retours d'expérience",
        "public",
        "open",
        "karim",
        ["territoires", "usagers"],
        [("sophie", Role.MEMBER), ("ines", Role.MEMBER)],
        "Concevoir et animer un budget participatif : règlements, votes, bilans.",
    ),
]

POSTS = {
    "acheteurs-publics": [
        (
            "camille",
            "Réunion du réseau le 12 décembre",
            "La prochaine **réunion** plénière du réseau aura lieu le 12 décembre à 10 h "
            "(visioconférence). Ordre du jour :\n\n1. Clauses environnementales obligatoires\n"
            "2. Retour sur les achats groupés d'énergie\n3. Questions diverses",
            [
                ("thomas", "Je présenterai le bilan du groupement de commandes de la Gironde."),
                ("paul", "Merci ! Pouvez-vous partager le lien de la réunion ?"),
            ],
        ),
        (
            "thomas",
            "Modèle de clause d'insertion sociale",
            "Voici le modèle que nous utilisons pour les marchés de travaux. Vos retours sont "
            "bienvenus.",
            [("julien", "Très utile, nous l'adaptons pour les prestations de nettoyage.")],
        ),
    ],
    "cellule-crise-belcastel": [
        (
            "karim",
            "Vigilance orange crues : réunion de la cellule à 18 h",
            "Réunion de la cellule de crise en mairie à 18 h. Point sur les hauteurs d'eau et "
            "l'hébergement d'urgence au gymnase.",
            [("hugo", "Les barrières sont en place rue du Moulin.")],
        ),
    ],
    "club-animateurs": [
        (
            "sophie",
            "Comment relancer une communauté en sommeil ?",
            "Partagez vos astuces : questions ouvertes, rendez-vous réguliers, mise en avant des "
            "membres…",
            [("camille", "Une réunion courte et régulière (30 min) a tout changé chez nous.")],
        ),
    ],
    "gt-rh-lignes-directrices": [
        (
            "lea",
            "Projet de lignes directrices — version 2",
            "Version de travail à relire avant la réunion de jeudi. Ne pas diffuser.",
            [],
        ),
    ],
    "numerique-responsable": [
        (
            "emma",
            "Mesurer l'empreinte de nos services en ligne",
            "Quels outils utilisez-vous pour mesurer l'empreinte environnementale d'un site public ?",
            [("claire", "Nous avons commencé par l'écoindex des pages les plus consultées.")],
        ),
    ],
    "secretaires-mairie-occitanie": [
        (
            "anne",
            "Préparation du budget primitif",
            "Qui peut partager un calendrier type pour la préparation du budget ?",
            [],
        ),
    ],
    "accueil-usagers": [
        (
            "ines",
            "Compte rendu de la réunion des conseillers France services",
            "Les échanges ont porté sur l'accompagnement aux démarches fiscales. Prochaine réunion "
            "en janvier.",
            [("julien", "La DDFiP peut organiser une permanence mensuelle.")],
        ),
    ],
    "transition-collectivites": [
        (
            "claire",
            "Rénovation énergétique des écoles : retours d'expérience",
            "Nous lançons un appel à retours d'expérience sur les contrats de performance "
            "énergétique.",
            [],
        ),
    ],
    "inclusion-numerique": [
        (
            "nadia",
            "Atelier « premiers pas sur ordinateur »",
            "Un déroulé d'atelier de deux heures testé avec succès à Saint-Martin-des-Prés.",
            [],
        ),
    ],
    "budget-participatif": [
        (
            "karim",
            "Bilan de la première édition",
            "142 projets déposés, 3 800 votants. La réunion publique de restitution a réuni 120 "
            "habitants.",
            [("sophie", "Bravo ! Le règlement est-il disponible ?")],
        ),
    ],
}

PENDING_REQUESTS = [
    ("nadia", "club-animateurs", "Je débute l'animation d'un réseau local."),
    ("paul", "transition-collectivites", ""),
    ("julien", "secretaires-mairie-occitanie", "Pour échanger sur la fiscalité locale."),
]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def demo_is_loaded() -> bool:
    """Whether the demo accounts are in the database (so ``make run`` can list them again)."""
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.username.in_(list(PEOPLE)), User.email.like("%@demo.example.org"))
        )
        == len(PEOPLE)
    )


def load_demo(seed: int = 2026) -> list[tuple[str, str]]:
    """Create the demo data in one transaction; returns (username, description) to print."""
    rng = random.Random(seed)
    organisations = {
        key: create_organisation(name, kind, siret, source=OrganisationSource.DEMO)
        for key, (name, kind, siret) in ORGANISATIONS.items()
    }
    people = _create_people(organisations)
    topics = _create_topics()
    communities = {spec[0]: _create_community(spec, people, topics) for spec in COMMUNITIES}
    _create_posts(communities, people, rng)
    _load_module_demos(people, communities, rng)
    for username, slug, message in PENDING_REQUESTS:
        community_ops.request_to_join(communities[slug], people[username], message)
    publish_announcement(
        people["alix"],
        "Bienvenue sur Maillage",
        "Maillage relie les réseaux de l'État, des collectivités et des associations. "
        "Rejoignez les communautés de votre métier et présentez-vous !",
    )
    mark_setup_done(people["alix"], via="demo")  # a demo instance needs no first-run setup
    db.session.commit()
    return [(username, spec[3]) for username, spec in PEOPLE.items()]


def _load_module_demos(people: dict[str, User], communities: dict[str, Community], rng) -> None:
    """Each feature package may bring its own demo content in a ``demo`` module with a
    ``load_demo(people, communities, rng)`` function (people by username, communities by slug)."""
    import importlib

    from maillage.platform.app import feature_modules

    for module in feature_modules("demo"):
        importlib.import_module(module).load_demo(people, communities, rng)


def _create_people(organisations: dict[str, Organisation]) -> dict[str, User]:
    people = {}
    for username, (name, org_key, job_title, _description) in PEOPLE.items():
        people[username] = create_user(
            username,
            name,
            f"{username}@demo.example.org",
            DEMO_PASSWORD,
            organisation=organisations[org_key],
            job_title=job_title,
            is_admin=username == "alix",
        )
    return people


def _create_topics() -> dict[str, Topic]:
    return {slug: community_ops.create_topic(name, slug) for slug, name in TOPICS.items()}


def _create_community(spec, people: dict[str, User], topics: dict[str, Topic]) -> Community:
    slug, name, visibility, join_policy, owner, topic_slugs, members, description = spec
    owner_user = people[owner]
    community = community_ops.create_community(
        owner_user,
        name,
        slug=slug,
        description=description,
        visibility=visibility,
        join_policy=join_policy,
        topics=[topics[t] for t in topic_slugs],
    )
    for username, role in members:
        _, token = community_ops.invite(
            community,
            owner_user,
            people[username].email,
            role=Role.MEMBER if role != Role.GUEST else Role.GUEST,
        )
        community_ops.accept_invitation(token, people[username])
        if role not in (Role.MEMBER, Role.GUEST):
            community_ops.change_role(community, owner_user, people[username], role)
    return community


def _create_posts(
    communities: dict[str, Community], people: dict[str, User], rng: random.Random
) -> None:
    now = utcnow()
    for slug, posts in POSTS.items():
        for author, title, body, comments in posts:
            post = post_ops.create_post(communities[slug], people[author], title, body)
            post.created_at = now - dt.timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 23))
            for commenter, text in comments:
                post_ops.add_comment(post, people[commenter], text)
            for username in rng.sample(sorted(people), 3):
                if can(people[username], "react", post):
                    post_ops.toggle_reaction(post, people[username], rng.choice(["👍", "🎉", "💡"]))
