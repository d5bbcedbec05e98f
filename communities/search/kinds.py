"""What the search pages know of each kind of document: its name, how to load hits in bulk and
how to present one.  Content modules register their kinds here (from their ``subscribers``
module) next to the index provider (``maillage.platform.search.backend.provider``) that builds
the documents; the search pages, the API and the facets then list every registered kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Presentation:
    """One result as the search page shows it (plain text: the page escapes and highlights)."""

    title: str
    text: str
    url: str
    community: object | None = None
    author: object | None = None
    date: dt.datetime | None = None


@dataclass(frozen=True)
class SearchKind:
    kind: str
    singular: object
    plural: object
    #: the objects of a page of hits, with what ``present`` reads eager-loaded (one query)
    load: Callable[[list[int]], list]
    present: Callable[[object], Presentation]
    #: ids of this kind's objects in a community (reindexed when its visibility changes)
    ids_in_community: Callable[[Session, int], Iterable[int]] | None = None


SEARCH_KINDS: dict[str, SearchKind] = {}


def register_kind(
    kind: str,
    singular,
    plural,
    load: Callable[[list[int]], list],
    present: Callable[[object], Presentation],
    ids_in_community: Callable[[Session, int], Iterable[int]] | None = None,
) -> SearchKind:
    """Make ``kind`` searchable; each hit is shown only when ``can(viewer, "view", obj)``."""
    SEARCH_KINDS[kind] = SearchKind(kind, singular, plural, load, present, ids_in_community)
    return SEARCH_KINDS[kind]
