"""Edit conflicts: a save made from an old version never overwrites silently.  The check is a
compare-and-swap in the database, proved with two browser sessions, with a stale object, and with
two saves running at the same instant in two threads."""

from __future__ import annotations

import re
import threading
import time
from html import unescape

import pytest
from sqlalchemy import update

from maillage.communities import signals
from maillage.communities.wiki.models import WikiPage, WikiRevision
from maillage.communities.wiki.operations import EditConflict, save_page
from maillage.platform.extensions import db
from tests.communities.test_wiki_support import count, csrf, page_named, revision_numbers, text
from tests.conftest import login

pytest_plugins = ("tests.communities.test_wiki_support",)

BASE = "\n".join(
    [
        "# Accueil des nouveaux membres",
        "",
        "1. Envoyer le message de bienvenue.",
        "2. Présenter la charte.",
        "3. Proposer un café réseau.",
        "",
        "Contact : l'équipe d'animation.",
    ]
)
URL = "/c/animateurs/wiki/accueil/edit"


def textarea(html: str) -> str:
    found = re.search(r"<textarea[^>]*>\r?\n?(.*?)</textarea>", html, re.S)
    return unescape(found.group(1))


def hidden_base(html: str) -> str:
    return re.search(r'name="base_revision" type="hidden" value="(\d+)"', html).group(1)


@pytest.fixture
def two_sessions(app, people, public, make_page):
    """The page at version 1 and two people with its edit form open in their browsers."""
    make_page(public, people["member"], "Accueil", BASE)
    marc, mia = app.test_client(), app.test_client()
    login(marc, people["member"])
    login(mia, people["other"])
    for client in (marc, mia):
        assert hidden_base(text(client.get(URL))) == "1"
    return marc, mia


def save(client, body: str, base: str = "1", title: str = "Accueil", comment: str = ""):
    return client.post(
        URL,
        data={
            "csrf_token": csrf(client),
            "title": title,
            "body": body,
            "base_revision": base,
            "comment": comment,
        },
    )


def test_changes_to_different_lines_are_offered_merged_and_saved_only_when_resubmitted(
    two_sessions, people
):
    marc, mia = two_sessions
    marc_text = BASE.replace("2. Présenter la charte.", "2. Présenter la charte et le wiki.")
    mia_text = BASE.replace("Contact : l'équipe d'animation.", "Contact : animation@exemple.fr")
    assert save(marc, marc_text, comment="Le wiki aussi").status_code == 302

    conflict = save(mia, mia_text, comment="Adresse de contact")
    assert conflict.status_code == 409
    html = text(conflict)
    assert "<title>Conflit de modification" in html
    alert = re.search(r'<div class="error-summary" role="alert">(.*?)</div>', html, re.S).group(1)
    assert "vous partiez de la version 1, elle est maintenant à la version 2" in alert
    assert "Votre texte n'a pas été enregistré" in alert
    # Nothing of Mia's was stored.
    page = page_named("accueil")
    assert page.body_source == marc_text
    assert revision_numbers(page) == [1, 2]

    # Who saved in between, and what they changed, named in words.
    assert "Version 2 · Marc Membre" in html
    assert "« Le wiki aussi »" in html
    theirs = re.search(r"<caption>Leurs modifications.*?</table>", html, re.S).group(0)
    assert "<del>2. Présenter la charte.</del>" in theirs
    assert "<ins>2. Présenter la charte et le wiki.</ins>" in theirs
    assert "− supprimée" in theirs
    assert "+ ajoutée" in theirs
    mine = re.search(r"<caption>Vos modifications.*?</table>", html, re.S).group(0)
    assert "<ins>Contact : animation@exemple.fr</ins>" in mine

    # The merge: both changes, proposed in the form, which now starts from version 2.
    assert "touchent des lignes différentes" in html
    merged = textarea(html)
    assert "2. Présenter la charte et le wiki." in merged
    assert "Contact : animation@exemple.fr" in merged
    assert hidden_base(html) == "2"
    assert 'value="Adresse de contact"' in html  # the comment is kept

    again = save(mia, merged, base="2", comment="Adresse de contact")
    assert again.status_code == 302
    page = page_named("accueil")
    assert revision_numbers(page) == [1, 2, 3]
    assert "et le wiki." in page.body_source
    assert "animation@exemple.fr" in page.body_source
    assert page.updated_by_id == people["other"].id


def test_changes_to_the_same_line_show_both_versions_side_by_side(two_sessions):
    marc, mia = two_sessions
    marc_text = BASE.replace("3. Proposer un café réseau.", "3. Proposer un déjeuner.")
    mia_text = BASE.replace("3. Proposer un café réseau.", "3. Proposer une visio.")
    save(marc, marc_text)

    conflict = save(mia, mia_text)
    assert conflict.status_code == 409
    html = text(conflict)
    assert "la fusion automatique n'est pas possible" in html
    versions = re.search(r'<div class="wiki-versions">(.*?)</div>\s*</section>', html, re.S)
    both = versions.group(1)
    assert '<h3 id="version-mine">Votre version</h3>' in both
    assert '<h3 id="version-current">Version actuelle (2)</h3>' in both
    assert "3. Proposer une visio." in both
    assert "3. Proposer un déjeuner." in both
    assert textarea(html) == mia_text  # the form keeps Mia's text, to adjust consciously
    assert hidden_base(html) == "2"
    assert page_named("accueil").body_source == marc_text


def test_a_title_changed_on_both_sides_is_pointed_out(two_sessions):
    marc, mia = two_sessions
    save(marc, BASE, title="Accueil des nouveaux")
    html = text(save(mia, BASE + "\nAjout.", title="Bienvenue"))
    assert "Le titre a été changé des deux côtés" in html
    assert "« Accueil des nouveaux » (version actuelle)" in html
    assert 'value="Bienvenue"' in html


def test_the_check_is_made_by_the_database_not_by_the_loaded_object(people, public, make_page):
    page = make_page(public, people["member"], "Accueil", BASE)
    assert page.current_revision == 1  # loaded: this object still says version 1
    # Another process saves version 2 behind this session's back.
    with db.engine.begin() as connection:
        connection.execute(
            update(WikiPage)
            .where(WikiPage.id == page.id)
            .values(current_revision=2, body_source="Écrit ailleurs")
        )
    assert page.current_revision == 1
    with pytest.raises(EditConflict):
        save_page(page, people["other"], "Accueil", "Mon texte", base_revision=1)
    db.session.rollback()
    assert count(WikiRevision) == 1
    assert page_named("accueil").body_source == "Écrit ailleurs"


def test_two_simultaneous_saves_cannot_both_win(app, people, public, make_page):
    """The first writer is held inside its transaction, after its UPDATE, while the second one
    saves from the same version: the second must get the conflict page, never overwrite."""
    make_page(public, people["member"], "Accueil", BASE)
    first, second = app.test_client(), app.test_client()
    login(first, people["member"])
    login(second, people["other"])
    first_id = people["member"].id
    inside, second_started = threading.Event(), threading.Event()
    answers: dict[str, object] = {}
    tokens = {"first": csrf(first), "second": csrf(second)}

    def hold_first_writer(sender, actor=None, **_extra):
        if isinstance(sender, WikiPage) and actor.id == first_id:
            inside.set()
            second_started.wait(5)
            time.sleep(0.4)  # the second writer is now saving too

    def post(name, client, body):
        if name == "second":
            second_started.set()
        answers[name] = client.post(
            URL,
            data={
                "csrf_token": tokens[name],
                "title": "Accueil",
                "body": body,
                "base_revision": "1",
            },
        )

    with signals.content_updated.connected_to(hold_first_writer):
        one = threading.Thread(target=post, args=("first", first, BASE + "\nPremier."))
        one.start()
        assert inside.wait(10)
        two = threading.Thread(target=post, args=("second", second, BASE + "\nSecond."))
        two.start()
        one.join(20)
        two.join(20)

    assert answers["first"].status_code == 302
    assert answers["second"].status_code == 409
    assert "vous partiez de la version 1" in text(answers["second"])
    page = page_named("accueil")
    assert page.current_revision == 2
    assert page.body_source.endswith("Premier.")
    assert revision_numbers(page) == [1, 2]


def test_restoring_from_a_stale_view_is_a_conflict_too(client, login_as, people, public, make_page):
    make_page(public, people["member"], "Accueil", BASE)
    login_as(people["member"])
    save(client, BASE + "\nv2")
    form = text(client.get("/c/animateurs/wiki/accueil/revisions/1"))
    assert hidden_base(form) == "2"
    page = page_named("accueil")
    save_page(page, people["other"], "Accueil", BASE + "\nv3", base_revision=2)
    db.session.commit()

    answer = client.post(
        "/c/animateurs/wiki/accueil/revisions/1/restore",
        data={"csrf_token": csrf(client), "base_revision": "2"},
    )
    assert answer.status_code == 409
    assert "elle est maintenant à la version 3" in text(answer)
    assert hidden_base(text(answer)) == "3"
    assert revision_numbers(page_named("accueil")) == [1, 2, 3]
    assert page_named("accueil").body_source.endswith("v3")
