"""Folders, documents and their versions in the personal data registry; the archive holds the
files the person uploaded (every version of theirs, under ``files/documents/``).

Documents stay when the person keeps their contributions.  Otherwise a document whose versions
are all theirs is deleted as ``delete_document`` does it (the files go after the commit); a
document others also uploaded versions of stays, as the shared history of that file.  Folders
are the community's structure: they stay, the ``created_by_id`` pointing at the anonymised
account.
"""

from __future__ import annotations

from sqlalchemy import delete, exists, select

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.documents.models import Document, DocumentFolder, DocumentVersion
from maillage.platform.extensions import db
from maillage.platform.personal_data.archive import safe_name
from maillage.platform.personal_data.registry import Erasure, holds_personal_data
from maillage.platform.personal_data.rows import chunked, export_rows
from maillage.platform.storage import get_storage


def export_folders(user) -> list[dict]:
    return export_rows(
        select(
            DocumentFolder.id,
            Community.slug.label("community"),
            DocumentFolder.name,
            DocumentFolder.created_at,
        )
        .join(Community, Community.id == DocumentFolder.community_id)
        .where(DocumentFolder.created_by_id == user.id),
        DocumentFolder.id,
    )


def export_documents(user) -> list[dict]:
    return export_rows(
        select(
            Document.id,
            Document.ap_id.label("url"),
            Community.slug.label("community"),
            Document.title,
            Document.description,
            Document.version_count,
            Document.created_at,
            Document.updated_at,
        )
        .join(Community, Community.id == Document.community_id)
        .where(Document.uploader_id == user.id),
        Document.id,
    )


def _version_columns():
    return (
        DocumentVersion.id,
        DocumentVersion.document_id,
        Document.title.label("document_title"),
        Community.slug.label("community"),
        DocumentVersion.number,
        DocumentVersion.file_name,
        DocumentVersion.size,
        DocumentVersion.mime_type,
        DocumentVersion.sha256,
        DocumentVersion.comment,
        DocumentVersion.created_at,
    )


def _versions(user):
    return (
        select(*_version_columns(), DocumentVersion.storage_key)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(Community, Community.id == Document.community_id)
        .where(DocumentVersion.uploader_id == user.id)
    )


def archive_name(row) -> str:
    """Where the version's file is in the archive (the JSON says it too)."""
    name = f"{row['document_id']}-v{row['number']}-{row['file_name']}"
    return safe_name(f"documents/{row['community']}/{name}")


def export_versions(user) -> list[dict]:
    rows = export_rows(_versions(user), DocumentVersion.id)
    for row in rows:
        row["archive_file"] = "files/" + archive_name(row)
        del row["storage_key"]
    return rows


def version_files(user):
    for row in chunked(_versions(user), DocumentVersion.id):
        yield archive_name(row._mapping), row.storage_key


def erase_documents(user, erasure: Erasure) -> None:
    if erasure != Erasure.DELETE_CONTENT:
        return
    others = exists().where(
        DocumentVersion.document_id == Document.id, DocumentVersion.uploader_id != user.id
    )
    storage = get_storage()
    for document in db.session.scalars(
        select(Document).where(Document.uploader_id == user.id, ~others)
    ).all():
        signals.content_deleted.send(document, community=document.community, actor=user)
        for key, preview_key in db.session.execute(
            select(DocumentVersion.storage_key, DocumentVersion.preview_key).where(
                DocumentVersion.document_id == document.id
            )
        ):
            storage.delete_after_commit(key)
            if preview_key:
                storage.delete_after_commit(preview_key)
        document.current_version = None
        db.session.flush()
        db.session.execute(
            delete(DocumentVersion).where(DocumentVersion.document_id == document.id)
        )
        db.session.delete(document)
    db.session.flush()


holds_personal_data(
    DocumentFolder,
    section="document_folders",
    export=export_folders,
    erase=lambda _user, _erasure: None,
)
holds_personal_data(Document, section="documents", export=export_documents, erase=erase_documents)
holds_personal_data(
    DocumentVersion,
    section="document_versions",
    export=export_versions,
    erase=lambda _user, _erasure: None,  # with their document (see erase_documents)
    files=version_files,
)
