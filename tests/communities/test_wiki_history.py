"""Revision history over HTTP: the history table, diffs between any two versions (accessible:
words, not colours), reading an old version, restoring it, 404s, and bounded queries."""

from __future__ import annotations

import re

from maillage.communities.wiki.models import WikiRevision
from maillage.platform.extensions import db
from tests.communities.test_wiki_support import count, page_named, revision_numbers, send, text

pytest_plugins = ("tests.communities.test_wiki_support",)

V1 = "Le café réseau a lieu le mardi.\n\nIl dure 30 minutes."
V2 = "Le café réseau a lieu le jeudi.\n\nIl dure 30 minutes."
V3 = "Le café réseau a lieu le jeudi.\n\nIl dure 45 minutes.\n\nInscription sur le wiki."


def three_versions(make_page, edit_page, people, public):
    page = make_page(public, people["member"], "Café réseau", V1)
    edit_page(page, people["other"], V2, comment="Changement de jour")
    edit_page(page, people["facilitator"], V3, title="Le café réseau", comment="Durée")
    return page


def test_history_lists_every_version_with_author_and_summary(
    client, people, public, make_page, edit_page
):
    three_versions(make_page, edit_page, people, public)
    html = text(client.get("/c/animateurs/wiki/cafe-reseau/history"))
    table = re.search(r'<table class="wiki-history">.*?</table>', html, re.S).group(0)
    assert "<caption>3 versions, de la plus récente à la plus ancienne</caption>" in table
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", table, re.S)
    assert [re.search(r"Version (\d+)", row).group(1) for row in rows] == ["3", "2", "1"]
    assert "Fanny Facilitatrice" in rows[0]
    assert "Durée" in rows[0]
    assert "actuelle" in rows[0]
    assert "Mia Membre" in rows[1]
    assert "Changement de jour" in rows[1]
    assert "titre : « Café réseau »" in rows[1]  # an older title is pointed out
    assert "Marc Membre" in rows[2]
    # Two labelled radio groups choose what to compare; the last change is preselected.
    assert re.search(r'<input type="radio" name="from" value="2" id="from-2" checked>', table)
    assert re.search(r'<input type="radio" name="to" value="3" id="to-3" checked>', table)
    assert '<label for="from-1" class="visually-hidden">Comparer depuis la version 1</label>' in (
        table
    )
    assert 'action="/c/animateurs/wiki/cafe-reseau/diff"' in html


def test_diff_between_any_two_versions_names_each_change_in_words(
    client, people, public, make_page, edit_page
):
    three_versions(make_page, edit_page, people, public)
    answer = client.get("/c/animateurs/wiki/cafe-reseau/diff?from=1&to=3")
    assert answer.status_code == 200
    html = text(answer)
    assert "<h1>Versions 1 et 3 de « Le café réseau »</h1>" in html
    assert "Titre : « Café réseau » devient « Le café réseau »." in html
    assert "4 lignes ajoutées, 2 lignes supprimées." in html
    table = re.search(r'<table class="wiki-diff">.*?</table>', html, re.S).group(0)
    assert "<caption>Différences de la version 1 à la version 3</caption>" in table
    assert '<th scope="col" class="diff-change">Changement</th>' in table
    removed = re.findall(r'<tr class="diff-removed">(.*?)</tr>', table, re.S)
    added = re.findall(r'<tr class="diff-added">(.*?)</tr>', table, re.S)
    assert all("− supprimée" in row for row in removed)
    assert all("+ ajoutée" in row for row in added)
    assert any("<del>Le café réseau a lieu le mardi.</del>" in row for row in removed)
    assert any("<ins>Inscription sur le wiki.</ins>" in row for row in added)
    assert any('<span class="meta">(ligne vide)</span>' in row for row in added)

    default = text(client.get("/c/animateurs/wiki/cafe-reseau/diff"))
    assert "<h1>Versions 2 et 3 de « Le café réseau »</h1>" in default
    backwards = text(client.get("/c/animateurs/wiki/cafe-reseau/diff?from=3&to=1"))
    assert "<ins>Le café réseau a lieu le mardi.</ins>" in backwards
    same = text(client.get("/c/animateurs/wiki/cafe-reseau/diff?from=2&to=2"))
    assert "Aucune différence dans le texte." in same


def test_unknown_revisions_are_404(client, people, public, make_page, edit_page):
    three_versions(make_page, edit_page, people, public)
    for url in (
        "/c/animateurs/wiki/cafe-reseau/revisions/4",
        "/c/animateurs/wiki/cafe-reseau/revisions/0",
        "/c/animateurs/wiki/cafe-reseau/diff?from=1&to=9",
        "/c/animateurs/wiki/cafe-reseau/diff?from=x&to=2",
        "/c/animateurs/wiki/cafe-reseau/diff?from=-1&to=2",
        "/c/animateurs/wiki/autre/diff?from=1&to=2",
    ):
        assert client.get(url).status_code == 404, url


def test_an_old_version_reads_as_it_was_and_can_be_restored(
    client, login_as, people, public, make_page, edit_page
):
    three_versions(make_page, edit_page, people, public)
    anonymous = text(client.get("/c/animateurs/wiki/cafe-reseau/revisions/1"))
    assert "<h1>Version 1 de « Café réseau »</h1>" in anonymous
    assert "<p>Le café réseau a lieu le mardi.</p>" in anonymous
    assert "Vous consultez une ancienne version." in anonymous
    assert "/diff?from=1&amp;to=3" in anonymous
    assert "Restaurer" not in anonymous  # only contributors restore

    login_as(people["member"])
    shown = text(client.get("/c/animateurs/wiki/cafe-reseau/revisions/1"))
    assert 'action="/c/animateurs/wiki/cafe-reseau/revisions/1/restore"' in shown
    assert "dans une nouvelle version 4" in shown
    restored = send(
        client,
        "/c/animateurs/wiki/cafe-reseau/revisions/1/restore",
        {"base_revision": "3", "comment": "Retour au mardi"},
    )
    assert restored.status_code == 302
    page = page_named("cafe-reseau")
    assert (page.title, page.body_source, page.current_revision) == ("Café réseau", V1, 4)
    assert "<p>Il dure 30 minutes.</p>" in page.body_html
    fourth = db.session.scalar(db.select(WikiRevision).where(WikiRevision.number == 4))
    assert (fourth.restored_from, fourth.comment, fourth.author_id) == (
        1,
        "Retour au mardi",
        people["member"].id,
    )
    shown = text(client.get("/c/animateurs/wiki/cafe-reseau"))
    assert "La version 1 est restaurée (nouvelle version 4)." in shown
    assert "<p>Le café réseau a lieu le mardi.</p>" in shown
    history = text(client.get("/c/animateurs/wiki/cafe-reseau/history"))
    assert "Restauration de la version 1 : " in history

    current = send(
        client, "/c/animateurs/wiki/cafe-reseau/revisions/4/restore", {"base_revision": "4"}
    )
    assert current.status_code == 400
    assert "Cette version est déjà la version actuelle." in text(current)
    assert revision_numbers(page_named("cafe-reseau")) == [1, 2, 3, 4]


def test_guests_cannot_restore(client, login_as, people, public, make_page, edit_page):
    three_versions(make_page, edit_page, people, public)
    login_as(people["guest"])
    assert "Restaurer" not in text(client.get("/c/animateurs/wiki/cafe-reseau/revisions/1"))
    refused = send(
        client, "/c/animateurs/wiki/cafe-reseau/revisions/1/restore", {"base_revision": "3"}
    )
    assert refused.status_code == 403
    assert count(WikiRevision) == 3


def test_history_and_diff_take_a_bounded_number_of_queries(
    client, people, public, make_page, edit_page, count_queries
):
    page = make_page(public, people["member"], "Journal", "v1")
    authors = [people[name] for name in ("member", "other", "facilitator", "moderator")]
    for number in range(2, 6):
        edit_page(page, authors[number % 4], f"v{number}")
    client.get("/c/animateurs/wiki/journal/history")
    with count_queries() as few:
        client.get("/c/animateurs/wiki/journal/history")
    for number in range(6, 40):
        edit_page(page, authors[number % 4], f"v{number}")
    with count_queries() as many:
        html = text(client.get("/c/animateurs/wiki/journal/history"))
    assert html.count('<th scope="row">') == 39
    assert len(many) == len(few) <= 8
    with count_queries() as diff:
        client.get("/c/animateurs/wiki/journal/diff?from=3&to=30")
    assert len(diff) <= 6


def test_long_histories_are_paginated(client, people, public, make_page, edit_page):
    page = make_page(public, people["member"], "Journal", "v1")
    for number in range(2, 53):
        edit_page(page, people["member"], f"v{number}")
    first = text(client.get("/c/animateurs/wiki/journal/history"))
    assert first.count('<th scope="row">') == 50
    assert "Page 1 sur 2" in first
    second = text(client.get("/c/animateurs/wiki/journal/history?page=2"))
    assert second.count('<th scope="row">') == 2
    assert ">Version 1</a>" in second
