"""Keeping the index in step with the database, through the outbox and one writer."""

from __future__ import annotations

from collections import defaultdict

from flask import current_app
from sqlalchemy.orm import Session

from maillage.platform.extensions import db
from maillage.platform.outbox.operations import enqueue, handler
from maillage.platform.search.backend import ALL_IDS, PROVIDERS, doc_id, get_backend


def schedule(kind: str, object_id: int, session: Session | None = None) -> None:
    """(Re)index ``kind:object_id`` after the current transaction commits."""
    # ``kind`` is the outbox item's own first argument: the document kind travels as ``doc_kind``.
    enqueue("search.index", session=session, doc_kind=kind, id=object_id)


@handler("search.index")
def index_batch(session: Session, payloads: list[dict]) -> None:
    """Rebuild the documents of a batch of objects; objects that are gone are removed."""
    ids_by_kind: dict[str, set[int]] = defaultdict(set)
    for payload in payloads:
        ids_by_kind[payload["doc_kind"]].add(payload["id"])
    documents, removed = [], []
    for kind, ids in ids_by_kind.items():
        docs, missing = PROVIDERS[kind](session, sorted(ids))
        documents.extend(docs)
        removed.extend(doc_id(kind, object_id) for object_id in missing)
    get_backend().update(documents, removed)


def reindex_all(batch_size: int = 2000) -> int:
    """Rebuild the whole index from the database (``flask maillage reindex``)."""
    backend = get_backend()
    backend.clear()
    count = 0
    with Session(db.engine) as session:
        for kind, all_ids in ALL_IDS.items():
            ids = list(all_ids(session))
            for start in range(0, len(ids), batch_size):
                docs, _missing = PROVIDERS[kind](session, ids[start : start + batch_size])
                backend.update(docs)
                count += len(docs)
    current_app.logger.info("reindexed %d documents", count)
    return count
