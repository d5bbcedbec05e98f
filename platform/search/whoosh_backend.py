"""Whoosh (Whoosh-Reloaded) backend.

Whoosh allows one writer at a time.  Writes come only from the outbox worker, in batches, and a
file lock serialises them across worker processes, so no user ever waits on or sees a lock error.
Text is indexed twice, with a French and an English analyser (accents folded, stemmed), and
queries search both.

Queries are people's words, not a query language: every word must match (in either language),
words that are stop words in French or English are ignored when other words remain, quoted
phrases, ``OR``, ``NOT`` and parentheses work, and field names, wildcards and ranges are plain text
(so nobody can ask for ``audience:…`` or expand ``*`` over the whole index).
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from markupsafe import Markup
from whoosh import index
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.lang import stopwords_for_language
from whoosh.qparser import AndGroup, MultifieldParser, plugins
from whoosh.query import And, NullQuery, Or, Term
from whoosh.support.charset import accent_map

from maillage.platform.search.backend import Hit, Results, SearchBackend, fragment

LANGUAGES = ("fr", "en")
TEXT_FIELDS = ("title_fr", "title_en", "text_fr", "text_en")
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
# Frequent French words Whoosh's list lacks; ignored in queries like the listed ones.
EXTRA_QUERY_STOPWORDS = frozenset({"les", "cet", "cette", "ceci", "cela", "ca", "comme", "dont"})
#: Longest text analysed to build an excerpt (the extract is taken from its beginning).
EXCERPT_SOURCE_LIMIT = 20_000
#: Attempts to read the table of contents while another process's writer replaces it.
TOC_READ_ATTEMPTS = 20


def retry_while_files_move(read: Callable):
    """Run ``read`` again when a file vanished under it.

    A writer in another process commits by writing a new table of contents and deleting the old
    one and merged segments; a reader that listed the folder just before may then fail to open
    them.  Whoosh retries this way inside ``FileIndex.reader`` but not when opening the index or
    counting documents, so every read of the table of contents goes through here.
    """
    for attempt in range(TOC_READ_ATTEMPTS):
        try:
            return read()
        except FileNotFoundError:
            if attempt == TOC_READ_ATTEMPTS - 1:
                raise
            time.sleep(0.02)
    raise AssertionError("unreachable")


def _fold(word: str) -> str:
    return word.lower().translate(accent_map)


def _folded_stopwords(lang: str) -> frozenset[str]:
    return frozenset(_fold(word) for word in stopwords_for_language(lang))


def analyser(lang: str):
    return (
        RegexTokenizer(r"\w+")
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=_folded_stopwords(lang), minsize=1)
        | StemFilter(lang=lang, cachesize=50000)
    )


@functools.cache
def _shared_analyser(lang: str):
    return analyser(lang)


@functools.cache
def _query_stopwords() -> frozenset[str]:
    return (
        frozenset()
        .union(*(_folded_stopwords(lang) for lang in LANGUAGES))
        .union(EXTRA_QUERY_STOPWORDS)
    )


def schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # Columns (sortable) make facet counts read stored columns instead of rebuilding a field
        # cache in every new searcher.
        kind=ID(stored=True, sortable=True),
        object_id=NUMERIC(stored=True, bits=64),
        audience=KEYWORD(),
        community=ID(stored=True, sortable=True),
        title_fr=TEXT(analyzer=analyser("fr"), field_boost=2.0),
        title_en=TEXT(analyzer=analyser("en"), field_boost=2.0),
        text_fr=TEXT(analyzer=analyser("fr")),
        text_en=TEXT(analyzer=analyser("en")),
    )


# -- query parsing -----------------------------------------------------------------------------

_QUERY_TOKEN = re.compile(r'"[^"]*"?|[^\s"]+')


def without_stopwords(query: str) -> str:
    """Drop bare words that are stop words in French or English, unless nothing would remain.

    Each word must match somewhere; a word the French analyser ignores (``la``) would otherwise
    have to be found by the English one, and ``la réunion`` would miss a text saying ``réunion``.
    """
    stopwords = _query_stopwords()
    kept: list[str] = []
    for token in _QUERY_TOKEN.findall(query):
        words = re.findall(r"\w+", token)
        is_stopword = (
            not token.startswith('"')
            and token not in OPERATORS
            and bool(words)
            and all(_fold(word) in stopwords for word in words)
        )
        if not is_stopword:
            kept.append(token)
        elif kept and kept[-1] in OPERATORS:
            kept.pop()  # "budget NOT la": the operator goes with its word
    if all(token in OPERATORS for token in kept):
        return query
    return " ".join(kept)


def parser(schema_: Schema) -> MultifieldParser:
    words = MultifieldParser(list(TEXT_FIELDS), schema_, group=AndGroup)
    for plugin in (
        plugins.FieldsPlugin,
        plugins.WildcardPlugin,
        plugins.RangePlugin,
        plugins.EveryPlugin,
    ):
        words.remove_plugin_class(plugin)
    return words


@functools.cache
def _query_parser() -> MultifieldParser:
    return parser(schema())


def query_words(query: str) -> list[str]:
    """The words of ``query`` worth highlighting (operators left out)."""
    return [word for word in re.findall(r"\w+", query) if word not in OPERATORS]


class WhooshBackend(SearchBackend):
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._index = None

    # -- index lifecycle ---------------------------------------------------------------------
    def _open(self):
        if self._index is None:
            self.path.mkdir(parents=True, exist_ok=True)
            if retry_while_files_move(lambda: index.exists_in(self.path)):
                self._index = retry_while_files_move(lambda: index.open_dir(self.path))
            else:
                with self._write_lock():
                    self._index = (
                        index.open_dir(self.path)
                        if index.exists_in(self.path)
                        else index.create_in(self.path, schema())
                    )
        return self._index

    @contextmanager
    def _write_lock(self):
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "maillage-writer.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- writes ------------------------------------------------------------------------------
    def update(self, documents: Iterable[dict], removed: Iterable[str] = ()) -> None:
        ix = self._open()
        with self._write_lock():
            writer = ix.writer(timeout=30)
            try:
                for doc_id in removed:
                    writer.delete_by_term("id", doc_id)
                for doc in documents:
                    writer.update_document(**self._fields(doc))
            except Exception:
                writer.cancel()
                raise
            writer.commit()

    def clear(self) -> None:
        """Empty the index, recreated with the current schema (a full reindex follows)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with self._write_lock():
            self._index = index.create_in(self.path, schema())

    @staticmethod
    def _fields(doc: dict) -> dict:
        return {
            "id": doc["id"],
            "kind": doc["kind"],
            "object_id": doc["object_id"],
            "audience": doc["audience"],
            "community": str(doc.get("community_id") or ""),
            "title_fr": doc.get("title", ""),
            "title_en": doc.get("title", ""),
            "text_fr": doc.get("text", ""),
            "text_en": doc.get("text", ""),
        }

    # -- reads -------------------------------------------------------------------------------
    def search(self, query, audiences, kinds=None, limit=20, community_id=None) -> Results:
        ix = self._open()
        # ``ix.schema`` rereads the table of contents on every access; the schema is ours.
        parsed = _query_parser().parse(without_stopwords(query))
        if parsed is None or parsed is NullQuery:
            return Results()
        allowed = None
        if audiences is not None:
            allowed = Or([Term("audience", audience) for audience in sorted(audiences)])
        if community_id is not None:
            allowed = _and(allowed, Term("community", str(community_id)))
        kind_filter = Or([Term("kind", kind) for kind in sorted(kinds)]) if kinds else None
        with retry_while_files_move(ix.searcher) as searcher:
            # Facets count every match the viewer may see; without a kind filter the same pass
            # gives the best hits, with one the counting pass skips scoring.
            everything = searcher.search(
                parsed,
                filter=allowed,
                limit=limit if kind_filter is None else 1,
                groupedby=["kind", "community"],
                scored=kind_filter is None,
            )
            facets = {name: len(ids) for name, ids in everything.groups("kind").items()}
            found = everything
            if kind_filter is not None:
                found = searcher.search(parsed, filter=_and(allowed, kind_filter), limit=limit)
            hits = [Hit(hit["kind"], int(hit["object_id"]), hit.score) for hit in found]
            total = sum(facets.get(kind, 0) for kind in kinds) if kinds else sum(facets.values())
            return Results(
                hits=hits,
                total=total,
                facets=facets,
                community_facets=_community_counts(everything.groups("community")),
            )

    def is_outdated(self) -> bool:
        """Was the index built with another schema (a reindex is needed)?"""
        ix = self._open()
        return _shape(retry_while_files_move(lambda: ix.schema)) != _shape(schema())

    def status(self) -> dict:
        try:
            ix = self._open()
            documents = retry_while_files_move(ix.doc_count)
            return {"status": "ok", "backend": "whoosh", "documents": documents}
        except Exception as exc:
            return {"status": "error", "backend": "whoosh", "error": type(exc).__name__}

    # -- excerpts ----------------------------------------------------------------------------
    def excerpt(self, query: str, text: str, length: int = 240) -> Markup:
        text = " ".join(text[:EXCERPT_SOURCE_LIMIT].split())
        return fragment(text, matching_spans(query, text), length)


def _shape(schema_: Schema) -> set[tuple[str, str, bool]]:
    """What must match for an index to be read with the current code: field names, types and
    which fields have columns."""
    return {
        (name, type(field).__name__, getattr(field, "column_type", None) is not None)
        for name, field in schema_.items()
    }


def _community_counts(groups: dict) -> dict[int, int]:
    return {int(name): len(ids) for name, ids in groups.items() if name and name.isdigit()}


def matching_spans(query: str, text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` character spans of words of ``text`` that words of ``query`` match
    through the French or the English analyser (``réunions`` for ``reunion``…), sorted."""
    words = " ".join(query_words(query))
    spans: set[tuple[int, int]] = set()
    if not words:
        return []
    for lang in LANGUAGES:
        analyse = _shared_analyser(lang)
        wanted = {token.text for token in analyse(words)}
        if not wanted:
            continue
        # Whoosh reuses one token object: copy what is needed as the loop goes.
        spans.update(
            (token.startchar, token.endchar)
            for token in analyse(text, chars=True)
            if token.text in wanted
        )
    return sorted(spans)


def _and(*filters):
    present = [f for f in filters if f is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return And(present)
