"""Organising the wiki over HTTP: moving pages (never under their own descendants), ordering
siblings, FAQ entries, deleting with or without sub-pages, and who may do it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.communities.wiki.models import WikiPage, WikiRevision
from maillage.communities.wiki.operations import create_page, delete_page, move_page
from maillage.communities.wiki.queries import MAX_DEPTH
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from tests.communities.test_wiki_support import count, page_named, send, text

pytest_plugins = ("tests.communities.test_wiki_support",)


@pytest.fixture
def tree(people, public, make_page):
    """guide > (lancer > checklist, animer), faq"""
    author = people["member"]
    guide = make_page(public, author, "Guide")
    lancer = make_page(public, author, "Lancer", parent=guide)
    checklist = make_page(public, author, "Checklist", parent=lancer)
    animer = make_page(public, author, "Animer", parent=guide)
    faq = make_page(public, author, "FAQ")
    return {p.slug: p for p in (guide, lancer, checklist, animer, faq)}


def order(parent_slug: str | None) -> list[str]:
    db.session.expire_all()
    parent = page_named(parent_slug) if parent_slug else None
    clause = WikiPage.parent_id.is_(None) if parent is None else WikiPage.parent_id == parent.id
    return list(
        db.session.scalars(
            select(WikiPage.slug).where(clause).order_by(WikiPage.position, WikiPage.id)
        )
    )


def test_a_page_moves_under_another_parent_with_its_sub_pages(client, login_as, people, tree):
    login_as(people["member"])
    form = text(client.get("/c/animateurs/wiki/lancer/move"))
    options = re.findall(r"<option[^>]*>([^<]*)</option>", form)
    # The page and its own sub-pages are not offered as parents.
    assert options == ["Aucune : page de premier niveau", "Guide", "— Animer", "FAQ"]
    assert re.search(r'<input [^>]*id="position"[^>]*type="number" value="1">', form)
    invalid = send(client, "/c/animateurs/wiki/lancer/move", {"parent": "", "position": "abc"})
    assert invalid.status_code == 400
    assert "aria-invalid" in text(invalid)
    assert "Indiquez un nombre entre 1 et 10 000." in text(invalid)
    assert page_named("lancer").parent_id == tree["guide"].id

    moved = send(
        client,
        "/c/animateurs/wiki/lancer/move",
        {"parent": str(tree["faq"].id), "position": ""},
    )
    assert moved.status_code == 302
    assert order("faq") == ["lancer"]
    assert order("guide") == ["animer"]
    assert order("lancer") == ["checklist"]  # sub-pages follow
    crumbs = text(client.get("/c/animateurs/wiki/checklist"))
    assert re.search(r"FAQ</a></li>\s*<li><a [^>]*>Lancer</a></li>", crumbs)

    to_top = send(client, "/c/animateurs/wiki/lancer/move", {"parent": "", "position": "1"})
    assert to_top.status_code == 302
    assert order(None) == ["lancer", "guide", "faq"]


def test_moving_a_page_under_its_own_descendant_is_refused(client, login_as, people, tree):
    login_as(people["moderator"])
    answer = send(client, "/c/animateurs/wiki/guide/move", {"parent": str(tree["checklist"].id)})
    assert answer.status_code == 400
    assert "Choisissez la page parente dans la liste." in text(answer)
    assert order(None) == ["guide", "faq"]
    db.session.expire_all()
    guide = db.session.get(WikiPage, tree["guide"].id)
    with pytest.raises(OperationError, match="sous l'une de ses sous-pages"):
        move_page(guide, people["moderator"], db.session.get(WikiPage, tree["checklist"].id))
    db.session.rollback()
    with pytest.raises(OperationError, match="sous elle-même"):
        move_page(guide, people["moderator"], guide)
    db.session.rollback()
    assert page_named("guide").parent_id is None
    assert page_named("checklist").parent_id == tree["lancer"].id


def test_siblings_are_ordered_with_up_and_down_buttons(client, login_as, people, tree):
    login_as(people["member"])
    page = text(client.get("/c/animateurs/wiki/animer/move"))
    assert re.search(r"<li><strong>Animer</strong> \(cette page\)</li>", page)
    assert 'value="up"' in page
    assert 'value="down"' not in page
    assert send(client, "/c/animateurs/wiki/animer/reorder", {"direction": "up"}).status_code == 302
    assert order("guide") == ["animer", "lancer"]
    send(client, "/c/animateurs/wiki/animer/reorder", {"direction": "down"})
    assert order("guide") == ["lancer", "animer"]
    bad = send(client, "/c/animateurs/wiki/animer/reorder", {"direction": "sideways"})
    assert bad.status_code == 400
    assert (
        client.post("/c/animateurs/wiki/animer/reorder", data={"direction": "up"}).status_code
        == 400
    )
    assert order("guide") == ["lancer", "animer"]


def test_faq_entries_show_on_the_wiki_home(client, login_as, people, public, tree, make_page):
    make_page(
        public,
        people["member"],
        "Qui peut lire le wiki ?",
        "Les **membres**.",
        is_faq=True,
        parent=tree["faq"],
    )
    login_as(people["member"])
    send(
        client,
        "/c/animateurs/wiki/animer/move",
        {"parent": str(tree["guide"].id), "position": "2", "is_faq": "y"},
    )
    assert page_named("animer").is_faq is True
    home = text(client.get("/c/animateurs/wiki"))
    faq = re.search(r'<section aria-labelledby="wiki-faq-title".*?</section>', home, re.S).group(0)
    assert re.findall(r"<summary>(.*?)</summary>", faq) == ["Animer", "Qui peut lire le wiki ?"]
    assert "Les <strong>membres</strong>." in faq


def test_deleting_a_leaf_page_removes_it_and_its_history(client, login_as, people, tree, edit_page):
    login_as(people["member"])
    checklist_id = tree["checklist"].id
    confirm = text(client.get("/c/animateurs/wiki/checklist/delete"))
    assert "Supprimer la page « Checklist » ?" in confirm
    assert 'type="radio"' not in confirm
    assert (
        send(client, "/c/animateurs/wiki/checklist/delete", {"confirmed": "1"}).status_code == 302
    )
    assert page_named("checklist") is None
    assert count(WikiRevision, WikiRevision.page_id == checklist_id) == 0
    assert client.get("/c/animateurs/wiki/checklist").status_code == 404


def test_deleting_a_page_with_sub_pages_asks_what_becomes_of_them(client, login_as, people, tree):
    login_as(people["member"])  # the creator, alone on these pages
    confirm = text(client.get("/c/animateurs/wiki/guide/delete"))
    assert "Cette page a 3 sous-pages (en comptant tous les niveaux)" in confirm
    assert "<legend>Que deviennent ses sous-pages ?</legend>" in confirm
    assert "Les rattacher à la page parente" in confirm
    assert "Les supprimer aussi" not in confirm  # only moderators delete whole trees
    refused = send(client, "/c/animateurs/wiki/guide/delete", {"confirmed": "1"})
    assert refused.status_code == 400
    assert "Choisissez ce que deviennent les sous-pages." in text(refused)
    assert count(WikiPage) == 5
    forged = send(
        client, "/c/animateurs/wiki/guide/delete", {"confirmed": "1", "children": "delete_all"}
    )
    assert forged.status_code == 403
    assert count(WikiPage) == 5

    kept = send(
        client, "/c/animateurs/wiki/guide/delete", {"confirmed": "1", "children": "reparent"}
    )
    assert kept.status_code == 302
    assert page_named("guide") is None
    assert order(None) == ["lancer", "animer", "faq"]  # in the deleted page's place
    assert order("lancer") == ["checklist"]


def test_a_moderator_may_delete_a_whole_branch(client, login_as, people, tree):
    login_as(people["moderator"])
    assert "Les supprimer aussi" in text(client.get("/c/animateurs/wiki/guide/delete"))
    gone = send(
        client, "/c/animateurs/wiki/guide/delete", {"confirmed": "1", "children": "delete_all"}
    )
    assert gone.status_code == 302
    assert order(None) == ["faq"]
    assert count(WikiPage) == 1
    assert count(WikiRevision) == 1


def test_who_may_move_and_delete(client, login_as, people, public, make_page, edit_page):
    page = make_page(public, people["member"], "Brouillon")
    login_as(people["other"])  # another member
    assert client.get("/c/animateurs/wiki/brouillon/move").status_code == 403
    assert client.get("/c/animateurs/wiki/brouillon/delete").status_code == 403
    assert "Réorganiser" not in text(client.get("/c/animateurs/wiki/brouillon"))

    login_as(people["member"])  # the creator, while nobody else edited
    shown = text(client.get("/c/animateurs/wiki/brouillon"))
    assert "Réorganiser" in shown
    assert "/c/animateurs/wiki/brouillon/delete" in shown
    edit_page(page, people["other"], "Amélioré par Mia")
    refused = client.get("/c/animateurs/wiki/brouillon/delete")
    assert refused.status_code == 403
    assert "l&#39;auteur d&#39;une page que personne d&#39;autre n&#39;a modifiée" in text(refused)

    for role in ("moderator", "facilitator", "owner"):
        login_as(people[role])
        assert client.get("/c/animateurs/wiki/brouillon/move").status_code == 200, role
    login_as(people["guest"])
    assert client.get("/c/animateurs/wiki/brouillon/delete").status_code == 403
    with pytest.raises(NotAllowed):
        delete_page(page_named("brouillon"), people["guest"])
    db.session.rollback()
    assert page_named("brouillon") is not None


def test_the_tree_depth_is_limited(people, public, make_page):
    parent = None
    for level in range(MAX_DEPTH):
        parent = make_page(public, people["member"], f"Niveau {level + 1}", parent=parent)
    with pytest.raises(OperationError, match="limitée à 10 niveaux"):
        create_page(public, people["member"], "Trop profond", "", parent=parent)
    db.session.rollback()
    top = make_page(public, people["member"], "Autre racine")
    with pytest.raises(OperationError, match="limitée à 10 niveaux"):
        move_page(page_named("niveau-1"), people["member"], top)
    db.session.rollback()
    assert count(WikiPage) == MAX_DEPTH + 1
