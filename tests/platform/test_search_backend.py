"""The Whoosh backend on its own: matching, audiences, facets, excerpts, and its single writer."""

from __future__ import annotations

import threading

import pytest

from maillage.platform.search.backend import fragment
from maillage.platform.search.whoosh_backend import WhooshBackend, without_stopwords


def doc(kind: str, object_id: int, title: str, text: str = "", audience: str = "public") -> dict:
    return {
        "id": f"{kind}:{object_id}",
        "kind": kind,
        "object_id": object_id,
        "audience": audience,
        "title": title,
        "text": text,
    }


@pytest.fixture
def backend(tmp_path):
    backend = WhooshBackend(tmp_path / "index")
    backend.update(
        [
            doc("post", 1, "Réunion de lancement", "Les réunions du comité"),
            doc("post", 2, "Budget annexe", "Réunion budgétaire", audience="c:7"),
            doc("post", 3, "Weekly meeting", "Agenda"),
            doc("community", 1, "Acheteurs publics", "Réunions trimestrielles"),
            doc("user", 1, "Reine Union", "Chargée de mission"),
        ]
    )
    return backend


def found(results) -> list[tuple[str, int]]:
    return sorted((hit.kind, hit.object_id) for hit in results.hits)


def test_audiences_filter_what_is_found(backend):
    assert found(backend.search("reunion", {"public"})) == [("community", 1), ("post", 1)]
    assert found(backend.search("reunion", {"public", "c:7"})) == [
        ("community", 1),
        ("post", 1),
        ("post", 2),
    ]
    assert found(backend.search("reunion", None)) == [("community", 1), ("post", 1), ("post", 2)]
    assert found(backend.search("reunion", {"c:8"})) == []


def test_facets_count_every_kind_while_hits_follow_the_filter(backend):
    results = backend.search("reunion", None, kinds={"community"})
    assert found(results) == [("community", 1)]
    assert results.total == 1
    assert results.facets == {"post": 2, "community": 1}


def test_titles_weigh_more_than_text(backend):
    results = backend.search("reunion", {"public"})
    assert (results.hits[0].kind, results.hits[0].object_id) == ("post", 1)


def test_updates_replace_and_removals_delete(backend):
    backend.update([doc("post", 1, "Séminaire", "Programme")], removed=["community:1"])
    assert found(backend.search("reunion", {"public"})) == []
    assert found(backend.search("seminaires", {"public"})) == [("post", 1)]
    assert backend.status()["documents"] == 4


def test_clear_empties_the_index(backend):
    backend.clear()
    assert backend.search("reunion", None).hits == []
    assert backend.status() == {"status": "ok", "backend": "whoosh", "documents": 0}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("la réunion", "réunion"),
        ("la", "la"),
        ("réunion OR la", "réunion"),
        ("NOT les budget", "budget"),
        ('"de la" budget', '"de la" budget'),
        ("the meeting", "meeting"),
    ],
)
def test_stop_words_are_dropped_from_queries_when_words_remain(query, expected):
    assert without_stopwords(query) == expected


def test_index_syntax_is_plain_text(backend):
    for query in ["audience:c:7", "*:*", "kind:post", "réun*", "title_fr:budget", "((", '"']:
        results = backend.search(query, {"public"})
        assert ("post", 2) not in found(results), query


def test_excerpts_mark_matches_and_escape_the_rest(backend):
    text = "Avant la <b>réunion</b> & après : " + "mot " * 100 + "les réunions reprennent."
    excerpt = backend.excerpt("reunion", text, length=60)
    assert str(excerpt).startswith("Avant la &lt;b&gt;<mark>réunion</mark>&lt;/b&gt; &amp; après")
    assert str(excerpt).endswith("…")
    later = backend.excerpt("reprennent", text, length=60)
    assert str(later).startswith("…")
    assert "<mark>reprennent</mark>" in str(later)
    assert str(backend.excerpt("meetings", "A meeting.")) == "A <mark>meeting</mark>."
    assert str(backend.excerpt("absent", "Court texte.")) == "Court texte."


def test_fragment_cuts_at_word_boundaries():
    text = "un deux trois quatre cinq six sept huit neuf dix"
    assert str(fragment(text, [], 14)) == "un deux trois…"
    start = text.index("neuf")
    assert str(fragment(text, [(start, start + 4)], 14)) == "…huit <mark>neuf</mark> dix"


def test_concurrent_writers_wait_for_each_other(tmp_path):
    """Several backends (worker processes) on one folder: the file lock serialises the writers,
    and readers opening the index while a writer replaces its files never fail."""
    folder = tmp_path / "ix"
    WhooshBackend(folder).update([])
    errors = []

    def write(start):
        backend = WhooshBackend(folder)
        try:
            for number in range(start, start + 20):
                backend.update([doc("post", number, f"Note {number}")])
        except Exception as exc:  # reported below
            errors.append(exc)

    def read():
        try:
            for _ in range(40):
                fresh = WhooshBackend(folder)
                assert fresh.status()["status"] == "ok"
                fresh.search("note", None)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(start,)) for start in (0, 100)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert WhooshBackend(folder).status()["documents"] == 40


def test_an_index_built_with_another_schema_is_outdated(tmp_path):
    """An index from an older version (fewer fields) asks for a reindex; a current one not."""
    from whoosh import index
    from whoosh.fields import ID, Schema

    old = tmp_path / "old"
    old.mkdir()
    index.create_in(old, Schema(id=ID(stored=True, unique=True), kind=ID(stored=True)))
    assert WhooshBackend(old).is_outdated()
    current = WhooshBackend(tmp_path / "current")
    current.update([])
    assert not current.is_outdated()


def test_reindex_if_outdated_only_rebuilds_an_old_index(app):
    from maillage.platform.search.backend import get_backend

    runner = app.test_cli_runner()
    get_backend().update([])
    kept = runner.invoke(args=["maillage", "reindex", "--if-outdated"])
    assert kept.exit_code == 0
    assert "à jour" in kept.output
    rebuilt = runner.invoke(args=["maillage", "reindex"])
    assert "documents indexés" in rebuilt.output
