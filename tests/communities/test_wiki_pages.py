"""Wiki pages over HTTP: creating a tree, reading it, editing, addresses, bad input, who may do
what, modules switched off, notifications, search and bounded queries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.communities import signals
from maillage.communities.community.operations import set_modules, update_settings
from maillage.communities.modules import MODULE_KEYS
from maillage.communities.wiki.models import WikiPage, WikiRevision
from maillage.communities.wiki.operations import create_page
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.search.backend import PUBLIC, get_backend
from tests.communities.test_wiki_support import (
    captured,
    count,
    page_named,
    revision_numbers,
    send,
    text,
)

pytest_plugins = ("tests.communities.test_wiki_support",)

# -- the journey -------------------------------------------------------------------------------


def test_member_builds_a_small_tree_and_reads_it_with_breadcrumbs(client, login_as, people, public):
    login_as(people["member"])
    form = client.get("/c/animateurs/wiki/new")
    assert form.status_code == 200
    assert '<label for="title">Titre</label>' in text(form)
    assert '<option selected value="">Aucune : page de premier niveau</option>' in text(form)

    created = send(
        client,
        "/c/animateurs/wiki/new",
        {"title": "  Guide de l'animateur ", "body": "Bienvenue dans le **guide**.", "parent": ""},
    )
    assert created.status_code == 302
    assert created.headers["Location"] == "/c/animateurs/wiki/guide-de-l-animateur"
    guide = page_named("guide-de-l-animateur")
    assert guide.title == "Guide de l'animateur"
    assert guide.body_source == "Bienvenue dans le **guide**."
    assert "<strong>guide</strong>" in guide.body_html
    assert guide.current_revision == 1
    assert guide.ap_id == f"https://maillage.test/wiki/{guide.id}"
    assert guide.local is True
    assert revision_numbers(guide) == [1]

    child_form = text(client.get("/c/animateurs/wiki/new?parent=guide-de-l-animateur"))
    assert f'<option selected value="{guide.id}">Guide de l&#39;animateur</option>' in child_form
    send(
        client,
        "/c/animateurs/wiki/new",
        {"title": "Lancer une communauté", "body": "Étape 1", "parent": str(guide.id)},
    )
    child = page_named("lancer-une-communaute")
    assert child.parent_id == guide.id
    send(
        client,
        "/c/animateurs/wiki/new",
        {"title": "Check-list", "body": "- accueil", "parent": str(child.id)},
    )

    shown = text(client.get("/c/animateurs/wiki/check-list"))
    assert "<h1>Check-list</h1>" in shown
    crumbs = re.search(r'<nav class="breadcrumb".*?</nav>', shown, re.S).group(0)
    assert re.findall(r"<li>(?:<a [^>]*>)?([^<]+)", crumbs) == [
        "Accueil",
        "Club des animateurs",
        "Wiki",
        "Guide de l&#39;animateur",
        "Lancer une communauté",
    ]
    assert '<li aria-current="page">Check-list</li>' in crumbs

    parent_page = text(client.get("/c/animateurs/wiki/lancer-une-communaute"))
    assert "Sous-pages" in parent_page
    assert 'href="/c/animateurs/wiki/check-list">Check-list</a>' in parent_page


def test_the_wiki_home_shows_the_tree_as_nested_lists(client, people, public, make_page):
    guide = make_page(public, people["member"], "Guide de l'animateur")
    launch = make_page(public, people["member"], "Lancer une communauté", parent=guide)
    make_page(public, people["member"], "Check-list", parent=launch)
    make_page(public, people["member"], "Boîte à outils")
    index = text(client.get("/c/animateurs/wiki"))
    # The tree ends where its section does (the footer holds lists too).
    tree = re.search(r'<ul class="wiki-tree">.*?</ul>(?=\s*</section>)', index, re.S).group(0)
    tree = tree.replace(' class="wiki-tree"', "", 1)
    nested = re.sub(r"\s+", " ", re.sub(r"<(?!/?ul>|/?li>)[^>]*>", "", tree))
    assert nested == (
        "<ul> <li> Guide de l&#39;animateur <ul> <li> Lancer une communauté "
        "<ul> <li> Check-list </li> </ul> </li> </ul> </li> <li> Boîte à outils </li> </ul>"
    )
    assert '<h2 id="wiki-tree-title">Sommaire</h2>' in index
    assert 'aria-current="page">Wiki</a>' in index  # the community menu shows where we are


def test_edit_saves_a_new_revision_and_keeps_the_address(
    client, login_as, people, public, make_page
):
    page = make_page(public, people["member"], "Rituels", "Le mardi.")
    login_as(people["other"])
    form = text(client.get("/c/animateurs/wiki/rituels/edit"))
    assert 'name="base_revision" type="hidden" value="1"' in form
    assert "Le mardi.</textarea>" in form

    saved = send(
        client,
        "/c/animateurs/wiki/rituels/edit",
        {
            "title": "Rituels d'animation",
            "body": "Le mardi.\r\nLe jeudi aussi.\r\n",
            "comment": "Ajout du jeudi",
            "base_revision": "1",
        },
    )
    assert saved.status_code == 302
    assert saved.headers["Location"] == "/c/animateurs/wiki/rituels"
    page = page_named("rituels")
    assert page.title == "Rituels d'animation"
    assert page.body_source == "Le mardi.\nLe jeudi aussi."  # one line ending, no trailing blank
    assert page.current_revision == 2
    assert page.updated_by_id == people["other"].id
    assert page.edited_by_others is True
    second = db.session.scalar(select(WikiRevision).where(WikiRevision.number == 2))
    assert (second.author_id, second.comment, second.title) == (
        people["other"].id,
        "Ajout du jeudi",
        "Rituels d'animation",
    )
    shown = text(client.get("/c/animateurs/wiki/rituels"))
    assert "La page est enregistrée (version 2)." in shown
    assert "Version 2" in shown
    assert "Mia Membre" in shown


def test_saving_without_change_creates_no_revision(client, login_as, people, public, make_page):
    make_page(public, people["member"], "Rituels", "Le mardi.")
    login_as(people["member"])
    answer = send(
        client,
        "/c/animateurs/wiki/rituels/edit",
        {"title": "Rituels", "body": "Le mardi.\r\n", "base_revision": "1"},
        follow_redirects=True,
    )
    assert "Aucune modification : la page est inchangée." in text(answer)
    assert revision_numbers(page_named("rituels")) == [1]


# -- addresses ---------------------------------------------------------------------------------


def test_slugs_are_unique_in_a_community_and_stable(people, public, private, make_page, edit_page):
    first = make_page(public, people["member"], "Fiche n°3 : l'accueil")
    second = make_page(public, people["member"], "Fiche n°3 — L'accueil !")
    elsewhere = make_page(private, people["member"], "Fiche n°3 : l'accueil")
    reserved = make_page(public, people["member"], "New")
    symbols = make_page(public, people["member"], "??? !!!")
    assert first.slug == "fiche-n3-l-accueil"
    assert second.slug == "fiche-n3-l-accueil-2"
    assert elsewhere.slug == "fiche-n3-l-accueil"
    assert reserved.slug == "new-2"
    assert symbols.slug == "page"
    long_title = make_page(public, people["member"], "Très " * 39 + "long")
    assert len(long_title.slug) <= 72

    edit_page(first, people["member"], first.body_source, title="Un tout autre titre")
    db.session.expire_all()
    renamed = db.session.get(WikiPage, first.id)
    assert (renamed.slug, renamed.title) == ("fiche-n3-l-accueil", "Un tout autre titre")


def test_the_stable_id_redirects_to_the_page(client, people, public, make_page):
    page = make_page(public, people["member"], "Accueil")
    answer = client.get(f"/wiki/{page.id}")
    assert answer.status_code == 301
    assert answer.headers["Location"] == "/c/animateurs/wiki/accueil"
    assert client.get("/wiki/999999").status_code == 404


# -- bad input ---------------------------------------------------------------------------------


def test_empty_title_is_refused_in_french_and_nothing_is_stored(client, login_as, people, public):
    login_as(people["member"])
    answer = send(client, "/c/animateurs/wiki/new", {"title": "   ", "body": "Texte", "parent": ""})
    assert answer.status_code == 400
    html = text(answer)
    assert "Le titre est obligatoire." in html
    assert 'role="alert"' in html
    assert 'aria-invalid="true"' in html
    assert "Texte</textarea>" in html  # what was typed is kept
    assert count(WikiPage) == 0
    assert count(WikiRevision) == 0


def test_too_long_markdown_is_refused_clearly(app, client, login_as, people, public, make_page):
    limit = app.config["MAX_MARKDOWN_LENGTH"]
    login_as(people["member"])
    answer = send(client, "/c/animateurs/wiki/new", {"title": "Énorme", "body": "a" * (limit + 1)})
    assert answer.status_code == 400
    assert f"Le texte fait {limit + 1} caractères : {limit} au plus." in text(answer)
    assert count(WikiPage) == 0

    page = make_page(public, people["member"], "Petite", "court")
    answer = send(
        client,
        "/c/animateurs/wiki/petite/edit",
        {"title": "Petite", "body": "b" * (limit + 1), "base_revision": "1"},
    )
    assert answer.status_code == 400
    assert page_named("petite").body_source == "court"
    assert revision_numbers(page) == [1]
    with pytest.raises(OperationError, match="Le texte dépasse"):
        create_page(public, people["member"], "Énorme", "c" * (limit + 1))
    db.session.rollback()
    assert count(WikiPage) == 1


def test_forged_base_revision_is_refused(client, login_as, people, public, make_page):
    make_page(public, people["member"], "Accueil", "Texte")
    login_as(people["member"])
    for forged in ("", "abc", "0", "-1"):
        answer = send(
            client,
            "/c/animateurs/wiki/accueil/edit",
            {"title": "Accueil", "body": "Autre", "base_revision": forged},
        )
        assert answer.status_code == 400, forged
        assert "La version de départ est invalide" in text(answer)
    assert page_named("accueil").body_source == "Texte"


def test_javascript_links_and_raw_html_are_neutralised(client, login_as, people, public):
    hostile = (
        "[clic](javascript:alert(1)) [autre](JaVaScRiPt:alert(2))\n\n"
        "<script>alert(3)</script>\n\n"
        '<img src="x" onerror="alert(4)">\n\n'
        '<a href="javascript:alert(5)">lien</a>\n\n'
        "[ok](https://www.service-public.fr)"
    )
    login_as(people["member"])
    created = send(client, "/c/animateurs/wiki/new", {"title": "Piège", "body": hostile})
    assert created.status_code == 302, text(created)
    page = page_named("piege")
    assert page.body_source == hostile  # the source is kept as written
    html = page.body_html.lower()
    tags = re.findall(r"<[a-z][^>]*>", html)  # real tags (escaped text is "&lt;…")
    assert not [tag for tag in tags if "javascript:" in tag or re.search(r"\son\w+=", tag)]
    assert {re.match(r"<(\w+)", tag).group(1) for tag in tags} == {"p", "a"}
    assert '<a href="https://www.service-public.fr" rel="noopener noreferrer nofollow">ok</a>' in (
        page.body_html
    )
    assert "[clic](javascript:alert(1))" in page.body_html  # left as plain text, not a link
    shown = text(client.get("/c/animateurs/wiki/piege"))
    body = re.search(r'<div class="post-body wiki-body">(.*?)</div>', shown, re.S).group(1)
    assert not re.search(r"<[a-z][^>]*javascript:", body, re.I)
    assert "<script" not in body
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in body  # raw HTML is shown as text


def test_unknown_pages_and_communities_are_404(client, people, public, make_page):
    make_page(public, people["member"], "Accueil")
    for url in (
        "/c/animateurs/wiki/inconnue",
        "/c/animateurs/wiki/inconnue/edit",
        "/c/animateurs/wiki/inconnue/history",
        "/c/inconnue/wiki",
        "/c/inconnue/wiki/accueil",
    ):
        assert client.get(url).status_code in (404, 302), url
        assert client.get(url, follow_redirects=True).status_code in (404, 200)
    assert client.get("/c/animateurs/wiki/inconnue").status_code == 404
    assert client.get("/c/inconnue/wiki").status_code == 404


# -- who may do what ---------------------------------------------------------------------------


def test_anonymous_reads_a_public_wiki_but_must_sign_in_to_write(client, people, public, make_page):
    make_page(public, people["member"], "Accueil", "Bonjour")
    index = text(client.get("/c/animateurs/wiki"))
    assert "Accueil" in index
    assert "Nouvelle page" not in index
    page = text(client.get("/c/animateurs/wiki/accueil"))
    assert "Bonjour" in page
    assert "/c/animateurs/wiki/accueil/edit" not in page
    for url in ("/c/animateurs/wiki/new", "/c/animateurs/wiki/accueil/edit"):
        answer = client.get(url)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/login")
    refused = send(client, "/c/animateurs/wiki/new", {"title": "Anonyme"})
    assert refused.status_code == 302
    assert count(WikiPage) == 1


@pytest.mark.parametrize("who", ["guest", "outsider"])
def test_guests_and_outsiders_cannot_write(client, login_as, people, public, make_page, who):
    make_page(public, people["member"], "Accueil", "Bonjour")
    login_as(people[who])
    assert client.get("/c/animateurs/wiki/accueil").status_code == 200
    assert "/c/animateurs/wiki/accueil/edit" not in text(client.get("/c/animateurs/wiki/accueil"))
    assert client.get("/c/animateurs/wiki/new").status_code == 403
    created = send(client, "/c/animateurs/wiki/new", {"title": "Intrus"})
    assert created.status_code == 403
    assert "Seuls les membres de la communauté peuvent écrire dans son wiki." in text(created)
    edited = send(
        client,
        "/c/animateurs/wiki/accueil/edit",
        {"title": "Accueil", "body": "Vandalisme", "base_revision": "1"},
    )
    assert edited.status_code == 403
    assert page_named("accueil").body_source == "Bonjour"
    assert count(WikiPage) == 1
    with pytest.raises(NotAllowed):
        create_page(public, people[who], "Intrus", "")


def test_private_wiki_is_for_members_and_secret_wiki_does_not_exist_for_others(
    client, login_as, people, private, secret, make_page
):
    make_page(private, people["member"], "Interne", "Réservé")
    make_page(secret, people["member"], "Confidentiel", "Secret")
    login_as(people["outsider"])
    refused = client.get("/c/prive/wiki")
    assert refused.status_code == 403
    assert "Le wiki de cette communauté est réservé à ses membres." in text(refused)
    assert client.get("/c/prive/wiki/interne").status_code == 403
    assert client.get("/c/prive/wiki/inconnue").status_code == 403  # no hint of what exists
    hidden = f"/c/{secret.slug}/wiki"
    for url in (hidden, f"{hidden}/confidentiel", f"{hidden}/inconnue"):
        assert client.get(url).status_code == 404, url
    secret_page = page_named("confidentiel")
    assert client.get(f"/wiki/{secret_page.id}").status_code == 404

    login_as(people["guest"])
    assert "Réservé" in text(client.get("/c/prive/wiki/interne"))
    assert "Secret" in text(client.get(f"{hidden}/confidentiel"))


def test_a_switched_off_wiki_is_404_everywhere(client, login_as, people, public, make_page):
    page = make_page(public, people["member"], "Accueil", "Bonjour")
    set_modules(public, people["owner"], sorted(MODULE_KEYS - {"wiki"}))
    db.session.commit()
    login_as(people["owner"])
    for url in (
        "/c/animateurs/wiki",
        "/c/animateurs/wiki/new",
        "/c/animateurs/wiki/accueil",
        "/c/animateurs/wiki/accueil/edit",
        "/c/animateurs/wiki/accueil/history",
        "/c/animateurs/wiki/accueil/diff",
        "/c/animateurs/wiki/accueil/revisions/1",
        "/c/animateurs/wiki/accueil/move",
        "/c/animateurs/wiki/accueil/delete",
        f"/wiki/{page.id}",
    ):
        assert client.get(url).status_code == 404, url
    answer = send(
        client,
        "/c/animateurs/wiki/accueil/edit",
        {"title": "Accueil", "body": "Changé", "base_revision": "1"},
    )
    assert answer.status_code == 404
    assert "/c/animateurs/wiki" not in text(client.get("/c/animateurs"))  # not in the menu
    with pytest.raises(OperationError, match="Le wiki est désactivé"):
        create_page(public, people["owner"], "Nouvelle", "")
    db.session.rollback()
    assert page_named("accueil").body_source == "Bonjour"


# -- notifications and search ------------------------------------------------------------------


def test_creation_notifies_the_community_and_edits_notify_earlier_authors(
    people, public, make_page, edit_page
):
    with captured(signals.notification_requested) as sent:
        page = make_page(public, people["member"], "Accueil", "Bonjour")
    assert len(sent) == 1
    sender, details = sent[0]
    assert sender is page
    assert details["reason"] == "new_content"
    assert details["recipients"] is None
    assert details["url"] == "/c/animateurs/wiki/accueil"
    assert details["actor"] is people["member"]
    assert details["community"] is public

    with captured(signals.notification_requested) as sent:
        edit_page(page, people["member"], "Bonjour à tous")  # only the author so far
    assert sent == []
    with captured(signals.notification_requested) as sent:
        edit_page(page, people["other"], "Bonjour à toutes et tous")
    assert [(details["reason"], details["recipients"]) for _, details in sent] == [
        ("wiki_edit", [people["member"]])
    ]
    with captured(signals.notification_requested) as sent:
        edit_page(page, people["facilitator"], "Bienvenue")
    assert {user.username for user in sent[0][1]["recipients"]} == {"marc", "mia"}


def test_pages_are_searchable_by_title_and_body_for_those_who_may_read_them(
    client, login_as, people, public, private, make_page, edit_page
):
    from maillage.communities.search.kinds import SEARCH_KINDS

    assert "wiki_page" in SEARCH_KINDS
    page = make_page(public, people["member"], "Rituels d'animation", "Le café réseau du mardi")
    hidden = make_page(private, people["member"], "Café interne", "Le café réseau du jeudi")
    hits = {(hit.kind, hit.object_id) for hit in get_backend().search("café", None).hits}
    assert ("wiki_page", page.id) in hits
    assert ("wiki_page", hidden.id) in hits

    found = text(client.get("/search", query_string={"q": "café réseau"}))
    assert "Rituels d&#39;animation" in found or "Rituels d'animation" in found
    assert "/c/animateurs/wiki/rituels-d-animation" in found
    assert "interne" not in found.lower()

    edit_page(page, people["member"], "Le goûter partagé")
    hits = {(hit.kind, hit.object_id) for hit in get_backend().search("goûter", None).hits}
    assert hits == {("wiki_page", page.id)}

    public_hits = get_backend().search("goûter", {PUBLIC}).hits
    assert ("wiki_page", page.id) in {(hit.kind, hit.object_id) for hit in public_hits}
    update_settings(public, people["owner"], public.name, "", "private", "open", [])
    db.session.commit()
    public_hits = get_backend().search("goûter", {PUBLIC}).hits
    assert ("wiki_page", page.id) not in {(hit.kind, hit.object_id) for hit in public_hits}

    login_as(people["member"])
    page_id = page.id
    send(client, "/c/animateurs/wiki/rituels-d-animation/delete", {"confirmed": "1"})
    assert page_named("rituels-d-animation") is None
    assert ("wiki_page", page_id) not in {
        (hit.kind, hit.object_id) for hit in get_backend().search("goûter", None).hits
    }


# -- bounded queries ---------------------------------------------------------------------------


def _grow_tree(community, author, prefix: str, width: int):
    for top in range(width):
        parent = create_page(community, author, f"{prefix} {top}", "texte")
        for sub in range(width):
            child = create_page(community, author, f"{prefix} {top}.{sub}", "", parent=parent)
            create_page(community, author, f"{prefix} {top}.{sub}.1", "", parent=child, is_faq=True)
    db.session.commit()


def test_the_tree_page_and_a_page_take_a_bounded_number_of_queries(
    client, login_as, people, public, count_queries
):
    login_as(people["member"])
    _grow_tree(public, people["member"], "Fiche", 2)
    client.get("/c/animateurs/wiki")  # warm-up (templates)
    with count_queries() as small:
        html = text(client.get("/c/animateurs/wiki"))
    assert html.count("<li>") >= 2 + 4 + 4
    with count_queries() as small_page:
        client.get("/c/animateurs/wiki/fiche-0-1-1")
    _grow_tree(public, people["member"], "Note", 5)
    with count_queries() as large:
        html = text(client.get("/c/animateurs/wiki"))
    assert "Note 4.4.1" in html
    with count_queries() as large_page:
        client.get("/c/animateurs/wiki/note-4-4-1")
    assert len(large) == len(small) <= 8, large
    assert len(large_page) == len(small_page) <= 9, large_page  # with the reading recorded
