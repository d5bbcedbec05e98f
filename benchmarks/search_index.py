"""Search at scale: Whoosh indexing rate, query latency, and how soon a new post is found.

Generates (at --posts 100000) posts of French administrative prose in 500 communities with bulk
inserts, rebuilds the index through the real reindex path (the providers, one writer, batched
commits), then prints:

- the indexing rate (documents per second);
- p50/p95 of one-word and two-word queries as a member of five communities sees them (the
  audience filter applied, as on /search);
- how long a post created through the real operation takes to become searchable: commit, the
  outbox item processed by one worker pass, then found by a query (the wait for a worker to
  pick the item up is not included: a worker wakes on commit).

    python benchmarks/search_index.py                  # 100,000 posts
    python benchmarks/search_index.py --posts 20000

Figures, not assertions: compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from maillage.platform.app import create_app
from maillage.platform.extensions import db

VOCABULARY_TEXT = """
réunion réseau collectivité préfecture département région commune intercommunalité agent
service public animation communauté partage pratique formation atelier webinaire séminaire
budget subvention marché achat contrat appel projet dossier instruction demande usager
numérique transformation donnée ouverte plateforme outil logiciel messagerie visioconférence
eau assainissement voirie mobilité transport vélo covoiturage énergie rénovation bâtiment
urbanisme logement habitat environnement biodiversité déchet tri recyclage climat adaptation
santé social solidarité insertion emploi jeunesse éducation école collège lycée culture sport
sécurité prévention crise inondation canicule incendie tempête alerte gestion plan exercice
accueil guichet démarche simplification formulaire accessibilité handicap inclusion égalité
ressources humaines recrutement mobilité carrière télétravail management encadrement équipe
juridique réglementation décret arrêté circulaire instruction jurisprudence contentieux
compte rendu ordre jour relevé décision calendrier échéance bilan évaluation indicateur
retour expérience témoignage bonne pratique méthode guide fiche modèle kit ressource
"""
VOCABULARY = VOCABULARY_TEXT.split()

ROOT = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--communities", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    return parser.parse_args()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(words)).capitalize() + "."


def generate(app, posts: int, communities: int, rng: random.Random) -> None:
    from maillage.communities.community.models import Community
    from maillage.communities.posts.models import Post
    from maillage.communities.users.models import User

    base, now = app.config["BASE_URL"], dt.datetime.now(dt.UTC)
    db.session.execute(
        insert(User.__table__),
        [
            {
                "id": i,
                "username": f"agent{i}",
                "display_name": f"Agent {i}",
                "job_title": "",
                "bio": "",
                "is_admin": False,
                "is_trainer": False,
                "is_active": True,
                "session_version": 1,
                "ap_id": f"{base}/u/agent{i}",
                "local": True,
                "created_at": now,
            }
            for i in range(1, 1001)
        ],
    )
    visibilities = ["public"] * 6 + ["private"] * 3 + ["secret"]
    db.session.execute(
        insert(Community.__table__),
        [
            {
                "id": i,
                "slug": f"communaute-{i}",
                "name": f"Communauté {i}",
                "description": sentence(rng, 12),
                "visibility": visibilities[i % 10],
                "join_policy": "open",
                "member_count": 0,
                "post_count": 0,
                "ap_id": f"{base}/c/communaute-{i}",
                "local": True,
                "created_at": now,
                "disabled_modules": [],
            }
            for i in range(1, communities + 1)
        ],
    )
    for start in range(0, posts, 5000):
        db.session.execute(
            insert(Post.__table__),
            [
                {
                    "community_id": rng.randint(1, communities),
                    "author_id": rng.randint(1, 1000),
                    "title": sentence(rng, 6),
                    "body_source": " ".join(sentence(rng, 15) for _ in range(4)),
                    "body_html": "",
                    "comment_count": 0,
                    "local": True,
                    "created_at": now - dt.timedelta(seconds=i * 13),
                }
                for i in range(start, min(start + 5000, posts))
            ],
        )
    db.session.commit()


def percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[max(math.ceil(len(timings) * 0.95) - 1, 0)]


def measure_queries(backend, audiences, queries: list[str]) -> tuple[float, float, float]:
    timings, found = [], 0
    for query in queries:
        start = time.perf_counter()
        results = backend.search(query, audiences, limit=20)
        timings.append((time.perf_counter() - start) * 1000)
        found += results.total
    p50, p95 = percentiles(timings)
    return p50, p95, found / len(queries)


def time_to_searchable(backend, audiences) -> float:
    """Seconds from the commit of a new post to the query that finds it."""
    from maillage.communities.community.models import Community
    from maillage.communities.community.operations import join
    from maillage.communities.posts.operations import create_post
    from maillage.communities.users.models import User
    from maillage.platform.outbox.operations import process_pending

    community = db.session.get(Community, 1)  # public (visibility cycles every 10 ids)
    author = db.session.get(User, 1)
    join(community, author)
    db.session.commit()
    db.session.refresh(community)
    create_post(community, author, "Xylographie départementale", "Un mot rare : xylographie.")
    start = time.perf_counter()
    db.session.commit()
    while True:
        process_pending()
        if backend.search("xylographie", audiences, limit=1).total:
            return time.perf_counter() - start


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="maillage-search-bench-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite'}",
            "CELERY_ALWAYS_EAGER": False,
            "LOG_LEVEL": "WARNING",
            "SEARCH_INDEX_PATH": str(workdir / "index"),
        },
        instance_path=workdir,
    )
    with app.app_context():
        from flask_migrate import upgrade

        from maillage.platform.search.backend import PUBLIC, community_audience, get_backend
        from maillage.platform.search.indexing import reindex_all

        upgrade()
        generate(app, args.posts, args.communities, rng)
        start = time.perf_counter()
        documents = reindex_all()
        elapsed = time.perf_counter() - start
        backend = get_backend()
        audiences = {PUBLIC} | {community_audience(i) for i in rng.sample(range(1, 501), 5)}
        one = [rng.choice(VOCABULARY) for _ in range(args.queries)]
        two = [f"{rng.choice(VOCABULARY)} {rng.choice(VOCABULARY)}" for _ in range(args.queries)]
        print(f"posts: {args.posts:,}  documents indexed: {documents:,}")
        print(f"indexing: {elapsed:.1f} s, {documents / elapsed:,.0f} documents/s")
        for label, queries in (("one-word", one), ("two-word", two)):
            p50, p95, hits = measure_queries(backend, audiences, queries)
            print(f"{label} queries: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({hits:,.0f} hits avg)")
        seconds = time_to_searchable(backend, audiences)
        print(f"new post searchable after commit: {seconds * 1000:.0f} ms (one worker pass)")


if __name__ == "__main__":
    main()
