"""Documents in search: the index provider, how hits show, and the subscriptions that keep the
index in step (through the outbox, after the commit).

A document's search text is its description, the file name of its current version and, for text
files (plain text, CSV, Markdown), the beginning of their content (``DOCUMENT_INDEX_TEXT_LIMIT``
characters).  Its audience is public in a public community, else the community's members.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from maillage.communities import signals
from maillage.communities.community.models import Community, Visibility
from maillage.communities.documents.filetypes import TEXT_KEYS
from maillage.communities.documents.models import Document, DocumentVersion
from maillage.communities.documents.queries import document_ids_in_community
from maillage.communities.search.kinds import Presentation, register_kind
from maillage.platform.extensions import db
from maillage.platform.search.backend import PUBLIC, community_audience, doc_id, provider
from maillage.platform.search.indexing import schedule
from maillage.platform.storage import UnknownKey, get_storage

DOCUMENT = "document"
DEFAULT_INDEX_TEXT_LIMIT = 50_000


def _all_document_ids(session: Session):
    return session.scalars(select(Document.id).order_by(Document.id))


def _file_text(version_key: str) -> str:
    limit = int(current_app.config.get("DOCUMENT_INDEX_TEXT_LIMIT", DEFAULT_INDEX_TEXT_LIMIT))
    try:
        data = get_storage().read_head(version_key, limit * 4)  # UTF-8: 4 bytes at most each
    except UnknownKey:
        return ""
    return data.decode("utf-8", errors="ignore")[:limit]


@provider(DOCUMENT, all_ids=_all_document_ids)
def document_documents(session: Session, ids: list[int]) -> tuple[list[dict], list[int]]:
    rows = session.execute(
        select(
            Document.id,
            Document.title,
            Document.description,
            Document.community_id,
            Community.visibility,
            DocumentVersion.file_name,
            DocumentVersion.type_key,
            DocumentVersion.storage_key,
        )
        .join(Community, Community.id == Document.community_id)
        .outerjoin(DocumentVersion, DocumentVersion.id == Document.current_version_id)
        .where(Document.id.in_(ids))
    ).all()
    documents = [
        {
            "id": doc_id(DOCUMENT, row.id),
            "kind": DOCUMENT,
            "object_id": row.id,
            "audience": PUBLIC
            if row.visibility == Visibility.PUBLIC
            else community_audience(row.community_id),
            "community_id": row.community_id,
            "title": row.title,
            "text": "\n".join(
                filter(
                    None,
                    [
                        row.description,
                        row.file_name,
                        _file_text(row.storage_key) if row.type_key in TEXT_KEYS else "",
                    ],
                )
            ),
        }
        for row in rows
    ]
    found = {row.id for row in rows}
    return documents, [document_id for document_id in ids if document_id not in found]


# -- how hits show -----------------------------------------------------------------------------


def _load(ids: list[int]) -> list[Document]:
    return list(
        db.session.scalars(
            select(Document)
            .where(Document.id.in_(ids))
            .options(
                joinedload(Document.community),
                joinedload(Document.uploader),
                joinedload(Document.current_version),
            )
        ).unique()
    )


def _present(document: Document) -> Presentation:
    version = document.current_version
    return Presentation(
        title=document.title,
        text=" — ".join(filter(None, [version.file_name if version else "", document.description])),
        url=url_for("documents.show", slug=document.community.slug, document_id=document.id),
        community=document.community,
        author=document.uploader,
        date=document.updated_at or document.created_at,
    )


register_kind(DOCUMENT, _l("Document"), _l("Documents"), _load, _present, document_ids_in_community)


# -- subscriptions -----------------------------------------------------------------------------


@signals.content_created.connect
@signals.content_updated.connect
@signals.content_deleted.connect
def _document_changed(sender, **_extra) -> None:
    if isinstance(sender, Document):
        schedule(DOCUMENT, sender.id)
