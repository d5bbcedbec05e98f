"""Reads shared by the document pages; each is one query (two for a counted page)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, literal, select
from sqlalchemy.orm import aliased, joinedload

from maillage.communities.community.models import Community
from maillage.communities.documents.models import Document, DocumentFolder, DocumentVersion
from maillage.platform.extensions import db

#: Folders never nest deeper than this (operations.MAX_FOLDER_DEPTH); a guard for the CTE.
PATH_LIMIT = 50
HISTORY_LIMIT = 200


def folder_path(folder: DocumentFolder) -> list[DocumentFolder]:
    """``folder`` and its ancestors, from the root down, in one (recursive) query."""
    chain = (
        select(DocumentFolder.id, DocumentFolder.parent_id, literal(0).label("depth"))
        .where(DocumentFolder.id == folder.id)
        .cte("folder_chain", recursive=True)
    )
    parent = aliased(DocumentFolder)
    chain = chain.union_all(
        select(parent.id, parent.parent_id, chain.c.depth + 1).where(
            parent.id == chain.c.parent_id, chain.c.depth < PATH_LIMIT
        )
    )
    return list(
        db.session.scalars(
            select(DocumentFolder)
            .join(chain, DocumentFolder.id == chain.c.id)
            .order_by(chain.c.depth.desc())
        )
    )


def folder_depth(folder: DocumentFolder) -> int:
    """1 for a folder at the root, 2 inside it…"""
    return len(folder_path(folder))


def folder_in(community: Community, folder_id: int) -> DocumentFolder | None:
    return db.session.scalar(
        select(DocumentFolder).where(
            DocumentFolder.id == folder_id, DocumentFolder.community_id == community.id
        )
    )


@dataclass
class FolderEntry:
    folder: DocumentFolder
    document_count: int


def subfolders(community: Community, parent: DocumentFolder | None) -> list[FolderEntry]:
    """The folders directly inside ``parent`` (None: the root), by name, with how many documents
    each holds, in one query."""
    count = (
        select(func.count(Document.id))
        .where(Document.folder_id == DocumentFolder.id)
        .correlate(DocumentFolder)
        .scalar_subquery()
    )
    where_parent = (
        DocumentFolder.parent_id.is_(None)
        if parent is None
        else DocumentFolder.parent_id == parent.id
    )
    rows = db.session.execute(
        select(DocumentFolder, count)
        .where(DocumentFolder.community_id == community.id, where_parent)
        .order_by(func.lower(DocumentFolder.name), DocumentFolder.id)
    )
    return [FolderEntry(folder, documents) for folder, documents in rows]


@dataclass
class DocumentPage:
    items: list[Document]
    total: int
    page: int
    pages: int


def documents_in(
    community: Community, folder: DocumentFolder | None, page: int = 1, per_page: int = 50
) -> DocumentPage:
    """A page of the documents directly in ``folder`` (None: the root), by title, with their
    current version and uploader: two queries whatever the page holds."""
    where = [
        Document.community_id == community.id,
        Document.folder_id.is_(None) if folder is None else Document.folder_id == folder.id,
    ]
    total = db.session.scalar(select(func.count()).select_from(Document).where(*where)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = list(
        db.session.scalars(
            select(Document)
            .where(*where)
            .options(joinedload(Document.current_version), joinedload(Document.uploader))
            .order_by(func.lower(Document.title), Document.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).unique()
    )
    return DocumentPage(items, total, page, pages)


def document_in(community: Community, document_id: int) -> Document | None:
    """One document of ``community`` with what its page shows, in one query."""
    return db.session.scalar(
        select(Document)
        .where(Document.id == document_id, Document.community_id == community.id)
        .options(
            joinedload(Document.current_version),
            joinedload(Document.uploader),
            joinedload(Document.folder),
        )
    )


def history(document: Document, limit: int = HISTORY_LIMIT) -> list[DocumentVersion]:
    """The document's versions, newest first, with their uploaders."""
    return list(
        db.session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document.id)
            .options(joinedload(DocumentVersion.uploader))
            .order_by(DocumentVersion.number.desc())
            .limit(limit)
        ).unique()
    )


def version_of(document: Document, number: int) -> DocumentVersion | None:
    return db.session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == number
        )
    )


def folder_choices(community: Community) -> list[tuple[int, str]]:
    """Every folder of the community as ``(id, "Parent / Enfant")``, in tree order (one query)."""
    rows = db.session.execute(
        select(DocumentFolder.id, DocumentFolder.parent_id, DocumentFolder.name).where(
            DocumentFolder.community_id == community.id
        )
    ).all()
    children: dict[int | None, list] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    choices: list[tuple[int, str]] = []

    def walk(parent_id: int | None, prefix: str, depth: int) -> None:
        if depth > PATH_LIMIT:
            return
        for row in sorted(children.get(parent_id, []), key=lambda r: (r.name.casefold(), r.id)):
            label = f"{prefix}{row.name}"
            choices.append((row.id, label))
            walk(row.id, f"{label} / ", depth + 1)

    walk(None, "", 0)
    return choices


def document_ids_in_community(session, community_id: int):
    return session.scalars(
        select(Document.id).where(Document.community_id == community_id).order_by(Document.id)
    )
