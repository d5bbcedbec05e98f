"""Line-based comparison and three-way merge of wiki texts (difflib, no dependency).

``line_diff`` gives the rows a diff table shows (unchanged context, removed and added lines with
their numbers, and "n unchanged lines" gaps).  ``merge3`` merges two edits of the same base
version: when they change different lines it returns the merged text, otherwise it says the
changes collide and lets a person choose.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

CONTEXT_LINES = 3

CONTEXT, REMOVED, ADDED, GAP = "context", "removed", "added", "gap"


@dataclass(frozen=True)
class DiffRow:
    kind: str
    old_number: int | None = None
    new_number: int | None = None
    text: str = ""
    #: for a gap: how many unchanged lines are not shown
    hidden: int = 0


@dataclass(frozen=True)
class Hunk:
    """Lines ``start:end`` of the base replaced by ``lines`` (an insertion when start == end)."""

    start: int
    end: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Merge:
    clean: bool
    text: str | None


def normalise(text: str) -> str:
    """One line ending (browsers send CRLF), no trailing blank lines or spaces at the end."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


def split_lines(text: str) -> list[str]:
    return text.split("\n") if text else []


def line_diff(old: str, new: str, context: int = CONTEXT_LINES) -> list[DiffRow]:
    """The rows of a diff from ``old`` to ``new``; empty when the texts are the same."""
    a, b = split_lines(old), split_lines(new)
    rows: list[DiffRow] = []
    shown_until = 0  # index in ``a`` after the last line shown
    for group in SequenceMatcher(None, a, b).get_grouped_opcodes(context):
        if group[0][1] > shown_until:
            rows.append(DiffRow(GAP, hidden=group[0][1] - shown_until))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    DiffRow(CONTEXT, i + 1, j + 1, a[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            rows.extend(DiffRow(REMOVED, i + 1, None, a[i]) for i in range(i1, i2))
            rows.extend(DiffRow(ADDED, None, j + 1, b[j]) for j in range(j1, j2))
        shown_until = group[-1][2]
    if rows and shown_until < len(a):
        rows.append(DiffRow(GAP, hidden=len(a) - shown_until))
    return rows


def diff_counts(rows: list[DiffRow]) -> tuple[int, int]:
    """(lines added, lines removed)."""
    added = sum(1 for row in rows if row.kind == ADDED)
    removed = sum(1 for row in rows if row.kind == REMOVED)
    return added, removed


def hunks(base: list[str], other: list[str]) -> list[Hunk]:
    return [
        Hunk(i1, i2, tuple(other[j1:j2]))
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, base, other).get_opcodes()
        if tag != "equal"
    ]


def _collide(first: Hunk, second: Hunk) -> bool:
    """Whether two hunks touch the same base lines (an insertion touches its neighbours)."""
    if first.start < second.end and second.start < first.end:
        return True
    if first.start == first.end and second.start <= first.start <= second.end:
        return True
    return second.start == second.end and first.start <= second.start <= first.end


def merge3(base: str, mine: str, theirs: str) -> Merge:
    """Merge two edits of ``base``; clean only when they change different lines."""
    base_lines = split_lines(base)
    my_hunks = hunks(base_lines, split_lines(mine))
    their_hunks = [hunk for hunk in hunks(base_lines, split_lines(theirs)) if hunk not in my_hunks]
    if any(_collide(m, t) for m in my_hunks for t in their_hunks):
        return Merge(False, None)
    merged: list[str] = []
    position = 0
    for hunk in sorted(my_hunks + their_hunks, key=lambda h: (h.start, h.end)):
        merged.extend(base_lines[position : hunk.start])
        merged.extend(hunk.lines)
        position = hunk.end
    merged.extend(base_lines[position:])
    return Merge(True, "\n".join(merged))


def merge_title(base: str, mine: str, theirs: str) -> tuple[str, bool]:
    """(title to propose, whether both changed it differently)."""
    if theirs in (mine, base):
        return mine, False
    if mine == base:
        return theirs, False
    return mine, True
