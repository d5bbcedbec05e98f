"""Line diffs and three-way merges of wiki texts (pure functions)."""

from __future__ import annotations

from maillage.communities.wiki.diffing import (
    ADDED,
    CONTEXT,
    GAP,
    REMOVED,
    diff_counts,
    line_diff,
    merge3,
    merge_title,
    normalise,
)

BASE = "\n".join(f"ligne {n}" for n in range(1, 21))


def replace_line(text: str, number: int, new: str) -> str:
    lines = text.split("\n")
    lines[number - 1] = new
    return "\n".join(lines)


def test_same_texts_have_no_diff_rows():
    assert line_diff(BASE, BASE) == []
    assert line_diff("", "") == []


def test_a_changed_line_shows_removed_then_added_with_numbers_and_context():
    rows = line_diff(BASE, replace_line(BASE, 10, "ligne dix"))
    kinds = [row.kind for row in rows]
    assert kinds == [GAP, *[CONTEXT] * 3, REMOVED, ADDED, *[CONTEXT] * 3, GAP]
    removed, added = rows[4], rows[5]
    assert (removed.old_number, removed.new_number, removed.text) == (10, None, "ligne 10")
    assert (added.old_number, added.new_number, added.text) == (None, 10, "ligne dix")
    assert rows[0].hidden == 6  # lines 1-6 are not shown
    assert rows[-1].hidden == 7  # lines 14-20 neither
    assert diff_counts(rows) == (1, 1)


def test_diff_from_and_to_an_empty_text():
    rows = line_diff("", "un\ndeux")
    assert [(row.kind, row.new_number, row.text) for row in rows] == [
        (ADDED, 1, "un"),
        (ADDED, 2, "deux"),
    ]
    assert diff_counts(line_diff("un\ndeux", "")) == (0, 2)


def test_normalise_unifies_line_endings_and_trailing_space():
    assert normalise("a\r\nb\rc\n\n  ") == "a\nb\nc"


def test_changes_to_different_lines_merge_cleanly():
    mine = replace_line(BASE, 3, "ligne trois (moi)")
    theirs = replace_line(BASE, 15, "ligne quinze (eux)") + "\nligne 21 (eux)"
    merged = merge3(BASE, mine, theirs)
    assert merged.clean
    lines = merged.text.split("\n")
    assert lines[2] == "ligne trois (moi)"
    assert lines[14] == "ligne quinze (eux)"
    assert lines[-1] == "ligne 21 (eux)"
    assert len(lines) == 21


def test_adjacent_lines_changed_by_each_side_still_merge():
    mine = replace_line(BASE, 4, "quatre (moi)")
    theirs = replace_line(BASE, 5, "cinq (eux)")
    merged = merge3(BASE, mine, theirs)
    assert merged.clean
    assert merged.text.split("\n")[3:5] == ["quatre (moi)", "cinq (eux)"]


def test_changes_to_the_same_line_collide():
    mine = replace_line(BASE, 7, "sept (moi)")
    theirs = replace_line(BASE, 7, "sept (eux)")
    assert merge3(BASE, mine, theirs) == merge3(BASE, mine, theirs)
    assert not merge3(BASE, mine, theirs).clean
    assert merge3(BASE, mine, theirs).text is None


def test_insertions_at_the_same_place_collide_but_identical_changes_do_not():
    mine = BASE + "\najout (moi)"
    theirs = BASE + "\najout (eux)"
    assert not merge3(BASE, mine, theirs).clean
    same = replace_line(BASE, 2, "deux")
    merged = merge3(BASE, same, same)
    assert merged.clean
    assert merged.text == same


def test_one_side_unchanged_gives_the_other_side():
    theirs = replace_line(BASE, 1, "première")
    assert merge3(BASE, BASE, theirs).text == theirs
    assert merge3(BASE, theirs, BASE).text == theirs


def test_titles_merge_when_only_one_side_changed_them():
    assert merge_title("Accueil", "Accueil", "Bienvenue") == ("Bienvenue", False)
    assert merge_title("Accueil", "Bonjour", "Accueil") == ("Bonjour", False)
    assert merge_title("Accueil", "Bonjour", "Bonjour") == ("Bonjour", False)
    assert merge_title("Accueil", "Bonjour", "Bienvenue") == ("Bonjour", True)
