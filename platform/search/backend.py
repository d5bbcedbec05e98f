"""The search service: a small interface, filled by Whoosh as the embedded default.

Documents are plain dicts built by *providers* that the domain packages register (the platform
knows no domain model).  Every document carries an ``audience``: ``"public"`` or ``"c:<id>"`` (only
members of community ``id`` may see it).  Queries are filtered on the audiences the viewer may read
and the caller re-checks each hit with the permission policy before showing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

PUBLIC = "public"


def community_audience(community_id: int) -> str:
    """The audience of documents only members of community ``community_id`` may see."""
    return f"c:{community_id}"


@dataclass(frozen=True)
class Hit:
    kind: str
    object_id: int
    score: float


@dataclass
class Results:
    """``hits`` and ``total`` honour the ``kinds`` filter; ``facets`` counts matches per kind
    over every kind (so a page filtered on one kind can still show how many the others have)."""

    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    facets: dict[str, int] = field(default_factory=dict)
    #: matches per community id (``community_id`` of the documents), over every kind
    community_facets: dict[int, int] = field(default_factory=dict)


class SearchBackend:
    """What every backend does.  Writes are batched and come only from the outbox worker."""

    def update(self, documents: Iterable[dict], removed: Iterable[str] = ()) -> None:
        raise NotImplementedError

    def search(
        self,
        query: str,
        audiences: set[str] | None,
        kinds: set[str] | None = None,
        limit: int = 20,
        community_id: int | None = None,
    ) -> Results:
        """``audiences`` None means unrestricted (platform admins); ``community_id`` keeps the
        documents of one community."""
        raise NotImplementedError

    def is_outdated(self) -> bool:
        """Does the index need a full reindex (built by an older version)?"""
        return False

    def clear(self) -> None:
        raise NotImplementedError

    def status(self) -> dict:
        raise NotImplementedError

    def excerpt(self, query: str, text: str, length: int = 240) -> Markup:  # noqa: ARG002
        """A safe HTML extract of ``text`` around the words ``query`` matches, each in ``<mark>``.

        This default marks nothing; backends mark the words the way their analysers match them.
        """
        return fragment(text, [], length)


#: kind -> func(session, ids) -> (documents, missing ids); registered by domain packages.
PROVIDERS: dict[str, Callable[[Session, list[int]], tuple[list[dict], list[int]]]] = {}
#: kind -> func(session) -> iterable of ids, for a full reindex.
ALL_IDS: dict[str, Callable[[Session], Iterable[int]]] = {}


def provider(kind: str, all_ids: Callable[[Session], Iterable[int]]):
    """Register the document builder of ``kind`` (e.g. ``post``)."""

    def register(func):
        PROVIDERS[kind] = func
        ALL_IDS[kind] = all_ids
        return func

    return register


def doc_id(kind: str, object_id: int) -> str:
    return f"{kind}:{object_id}"


def get_backend() -> SearchBackend:
    app = current_app._get_current_object()
    backend = app.extensions.get("maillage.search")
    if backend is None:
        from maillage.platform.search.whoosh_backend import WhooshBackend

        backend = WhooshBackend(app.config["SEARCH_INDEX_PATH"])
        app.extensions["maillage.search"] = backend
    return backend


# -- excerpts ----------------------------------------------------------------------------------

ELLIPSIS = "…"


def fragment(text: str, spans: list[tuple[int, int]], length: int = 240) -> Markup:
    """Cut ``text`` (whitespace already collapsed) to about ``length`` characters around the first
    span, escape it and wrap each ``(start, end)`` span that falls inside in ``<mark>``."""
    start, end = _window(text, spans[0][0] if spans else 0, length)
    parts: list[str] = [ELLIPSIS] if start > 0 else []
    position = start
    for span_start, span_end in spans:
        if span_start < position or span_end > end:
            continue
        parts.append(escape(text[position:span_start]))
        parts.append(Markup("<mark>%s</mark>") % text[span_start:span_end])
        position = span_end
    parts.append(escape(text[position:end]))
    if end < len(text):
        parts.append(ELLIPSIS)
    return Markup("").join(parts)


def _window(text: str, focus: int, length: int) -> tuple[int, int]:
    """A ``length``-character window showing ``focus`` early on, cut at word boundaries."""
    if len(text) <= length:
        return 0, len(text)
    start = max(0, focus - length // 4)
    if start > 0:
        start = text.rfind(" ", 0, start) + 1  # back to the start of the word it falls in
    end = min(len(text), start + length)
    if end < len(text):
        space = text.rfind(" ", max(focus, start), end)
        end = space if space > start else end
    return start, end
