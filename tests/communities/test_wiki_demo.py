"""The demo wikis load through the real operations, with a tree, FAQ entries and revisions by
several people, and their pages render."""

from __future__ import annotations

from sqlalchemy import func, select

from maillage.communities.community.models import Community
from maillage.communities.demo import load_demo
from maillage.communities.wiki.models import WikiPage, WikiRevision
from maillage.platform.extensions import db


def test_demo_has_two_french_wikis_with_history(app, client):
    load_demo()
    per_community = dict(
        db.session.execute(
            select(Community.slug, func.count(WikiPage.id))
            .join(WikiPage, WikiPage.community_id == Community.id)
            .group_by(Community.slug)
        ).all()
    )
    assert per_community["club-animateurs"] >= 10
    assert per_community["accueil-usagers"] >= 6
    assert db.session.scalar(select(func.count()).where(WikiPage.is_faq.is_(True))) >= 4
    assert db.session.scalar(select(func.count()).where(WikiPage.parent_id.is_not(None))) >= 8
    edited = db.session.scalars(select(WikiPage).where(WikiPage.current_revision > 1)).all()
    assert len(edited) >= 4
    relancer = db.session.scalar(
        select(WikiPage).where(WikiPage.slug == "relancer-une-communaute-en-sommeil")
    )
    authors = set(
        db.session.scalars(
            select(WikiRevision.author_id).where(WikiRevision.page_id == relancer.id)
        )
    )
    assert len(authors) == 3
    dates = list(
        db.session.scalars(
            select(WikiRevision.created_at)
            .where(WikiRevision.page_id == relancer.id)
            .order_by(WikiRevision.number)
        )
    )
    assert dates == sorted(dates)

    home = client.get("/c/club-animateurs/wiki").get_data(as_text=True)
    assert "Guide de l&#39;animateur" in home
    assert "Questions fréquentes" in home
    page = client.get("/c/club-animateurs/wiki/relancer-une-communaute-en-sommeil")
    assert page.status_code == 200
    assert "Version 3" in page.get_data(as_text=True)
    history = client.get(
        "/c/accueil-usagers/wiki/fiche-1-accompagner-une-declaration-de-revenus-en-ligne/history"
    )
    assert "Étape 4 demandée par les conseillers de Lunel" in history.get_data(as_text=True)
