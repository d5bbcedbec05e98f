"""Every write on documents, their versions and folders.

Files are checked before anything is written (uploads.receive), stored once the rows exist and
tied to the transaction: if it does not commit, the stored files are removed again; deleted
documents lose their files only after the commit (platform/storage.py).  The caller commits.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.documents import previews
from maillage.communities.documents.filenames import title_from_filename
from maillage.communities.documents.models import Document, DocumentFolder, DocumentVersion
from maillage.communities.documents.queries import folder_depth
from maillage.communities.documents.uploads import CheckedFile, Upload, receive
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.storage import get_storage

MODULE = "documents"
TITLE_MAX = 200
DESCRIPTION_MAX = 5000
COMMENT_MAX = 500
FOLDER_NAME_MAX = 120
MAX_FOLDER_DEPTH = 8
MAX_FOLDERS = 1000

EDIT_REFUSED = _l(
    "Seuls la personne qui a déposé le document et les modérateurs peuvent le modifier."
)
MOVE_REFUSED = _l(
    "Seuls la personne qui a déposé le document et les modérateurs peuvent le déplacer."
)
DELETE_REFUSED = _l(
    "Seuls la personne qui a déposé le document et les modérateurs peuvent le supprimer."
)


def document_path(community: Community, document_id: int) -> str:
    return f"/c/{community.slug}/documents/{document_id}"


# -- validation --------------------------------------------------------------------------------


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _validate_title(title: str) -> str:
    title = _one_line(title)
    if not title:
        raise OperationError(_l("Le titre est obligatoire."))
    if len(title) > TITLE_MAX:
        raise OperationError(_l("Le titre fait %(n)d caractères au plus."), n=TITLE_MAX)
    return title


def _validate_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise OperationError(_l("La description fait %(n)d caractères au plus."), n=DESCRIPTION_MAX)
    return description


def _validate_comment(comment: str | None) -> str:
    comment = _one_line(comment)
    if len(comment) > COMMENT_MAX:
        raise OperationError(_l("Le commentaire fait %(n)d caractères au plus."), n=COMMENT_MAX)
    return comment


def _require_enabled(community: Community) -> None:
    if not is_enabled(community, MODULE):
        raise OperationError(_l("Les documents sont désactivés dans cette communauté."))


def _check_folder(community: Community, folder: DocumentFolder | None) -> None:
    if folder is not None and folder.community_id != community.id:
        raise OperationError(_l("Ce dossier n'appartient pas à cette communauté."))


# -- documents ---------------------------------------------------------------------------------


def upload_document(
    community: Community,
    actor: User,
    upload: Upload,
    *,
    title: str = "",
    description: str = "",
    folder: DocumentFolder | None = None,
    comment: str = "",
) -> Document:
    """A new document whose first version is ``upload``."""
    if not can(actor, "post", community):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent y déposer des documents."))
    _require_enabled(community)
    _check_folder(community, folder)
    description, comment = _validate_description(description), _validate_comment(comment)
    checked = receive(upload)
    try:
        document = Document(
            community=community,
            folder=folder,
            title=_validate_title(title or title_from_filename(checked.name)),
            description=description,
            uploader=actor,
        )
        db.session.add(document)
        db.session.flush()
        document.ap_id = current_app.config["BASE_URL"] + document_path(community, document.id)
        _add_version(document, actor, checked, comment)
    finally:
        checked.discard()  # nothing happens once stored
    record(actor, "document.upload", document, community=community.id)
    signals.content_created.send(document, community=community, actor=actor)
    signals.notification_requested.send(
        document,
        community=community,
        actor=actor,
        reason="new_content",
        url=document_path(community, document.id),
        title=document.title,
        recipients=None,
    )
    return document


def _add_version(
    document: Document, actor: User, checked: CheckedFile, comment: str
) -> DocumentVersion:
    number = _next_number(document)
    storage = get_storage()
    version = DocumentVersion(
        document_id=document.id,
        number=number,
        storage_key=storage.store(checked.staged),
        file_name=checked.name,
        size=checked.staged.size,
        type_key=checked.file_type.key,
        mime_type=checked.file_type.mime,
        sha256=checked.staged.sha256,
        uploader=actor,
        comment=comment,
    )
    _attach_preview(version)
    db.session.add(version)
    db.session.flush()
    document.current_version = version
    document.updated_at = utcnow()
    return version


def _next_number(document: Document) -> int:
    """The next version number, counted by the database (two uploads at once get two numbers)."""
    db.session.execute(
        update(Document)
        .where(Document.id == document.id)
        .values(version_count=Document.version_count + 1)
    )
    db.session.refresh(document, ["version_count"])
    return document.version_count


def _attach_preview(version: DocumentVersion) -> None:
    if previews.preview_kind(version.type_key) != "image":
        version.preview_status = previews.NONE
        return
    storage = get_storage()
    thumbnail = previews.make_thumbnail(storage, version.storage_key, version.type_key)
    version.preview_status = thumbnail.status
    version.image_width = thumbnail.width or None
    version.image_height = thumbnail.height or None
    if thumbnail.status == previews.READY:
        version.preview_key = storage.store_bytes(thumbnail.data)


def add_version(
    document: Document, actor: User, upload: Upload, comment: str = ""
) -> DocumentVersion:
    """A new version of ``document``: it becomes the current one, the others stay in history."""
    if not can(actor, "new_version", document):
        raise NotAllowed(EDIT_REFUSED)
    _require_enabled(document.community)
    comment = _validate_comment(comment)
    checked = receive(upload)
    try:
        version = _add_version(document, actor, checked, comment)
    finally:
        checked.discard()
    record(actor, "document.version", document, number=version.number)
    signals.content_updated.send(document, community=document.community, actor=actor)
    return version


def restore_version(document: Document, actor: User, old: DocumentVersion) -> DocumentVersion:
    """A new version holding a copy of ``old``'s file; the history keeps every version."""
    if not can(actor, "restore", document):
        raise NotAllowed(EDIT_REFUSED)
    _require_enabled(document.community)
    if old.document_id != document.id:
        raise OperationError(_l("Cette version n'appartient pas à ce document."))
    if document.current_version_id == old.id:
        raise Conflict(_l("Cette version est déjà la version actuelle."))
    storage = get_storage()
    version = DocumentVersion(
        document_id=document.id,
        number=_next_number(document),
        storage_key=storage.copy(old.storage_key),
        file_name=old.file_name,
        size=old.size,
        type_key=old.type_key,
        mime_type=old.mime_type,
        sha256=old.sha256,
        uploader=actor,
        comment="",
        restored_from=old.number,
        preview_status=old.preview_status,
        preview_key=storage.copy(old.preview_key) if old.preview_key else None,
        image_width=old.image_width,
        image_height=old.image_height,
    )
    db.session.add(version)
    db.session.flush()
    document.current_version = version
    document.updated_at = utcnow()
    record(actor, "document.restore", document, number=version.number, restored=old.number)
    signals.content_updated.send(document, community=document.community, actor=actor)
    return version


def edit_document(document: Document, actor: User, title: str, description: str) -> Document:
    if not can(actor, "edit", document):
        raise NotAllowed(EDIT_REFUSED)
    _require_enabled(document.community)
    title, description = _validate_title(title), _validate_description(description)
    document.title, document.description, document.updated_at = title, description, utcnow()
    record(actor, "document.edit", document)
    signals.content_updated.send(document, community=document.community, actor=actor)
    return document


def move_document(document: Document, actor: User, folder: DocumentFolder | None) -> Document:
    if not can(actor, "move", document):
        raise NotAllowed(MOVE_REFUSED)
    _require_enabled(document.community)
    _check_folder(document.community, folder)
    if document.folder_id != (folder.id if folder else None):
        document.folder = folder
        document.updated_at = utcnow()
        record(actor, "document.move", document, folder=folder.id if folder else None)
        signals.content_updated.send(document, community=document.community, actor=actor)
    return document


def delete_document(document: Document, actor: User) -> None:
    """Delete the document and its versions; the files go once the deletion is committed."""
    if not can(actor, "delete", document):
        raise NotAllowed(DELETE_REFUSED)
    community = document.community
    record(actor, "document.delete", document, community=community.id, title=document.title)
    signals.content_deleted.send(document, community=community, actor=actor)
    storage = get_storage()
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
    db.session.execute(delete(DocumentVersion).where(DocumentVersion.document_id == document.id))
    db.session.delete(document)
    db.session.flush()


# -- folders -----------------------------------------------------------------------------------


def _validate_folder_name(name: str) -> str:
    name = _one_line("".join(ch for ch in name or "" if ch.isprintable()))
    if not name:
        raise OperationError(_l("Le nom du dossier est obligatoire."))
    if len(name) > FOLDER_NAME_MAX:
        raise OperationError(
            _l("Le nom du dossier fait %(n)d caractères au plus."), n=FOLDER_NAME_MAX
        )
    return name


def _check_unique_name(community: Community, parent_id: int | None, name: str, own_id=None):
    siblings = db.session.scalars(
        select(DocumentFolder.name).where(
            DocumentFolder.community_id == community.id,
            DocumentFolder.parent_id.is_(None)
            if parent_id is None
            else DocumentFolder.parent_id == parent_id,
            DocumentFolder.id != (own_id or -1),
        )
    )
    if name.casefold() in {sibling.casefold() for sibling in siblings}:
        raise Conflict(_l("Un dossier « %(name)s » existe déjà à cet endroit."), name=name)


def create_folder(
    community: Community, actor: User, name: str, parent: DocumentFolder | None = None
) -> DocumentFolder:
    if not can(actor, "post", community):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent y créer des dossiers."))
    _require_enabled(community)
    _check_folder(community, parent)
    name = _validate_folder_name(name)
    if parent is not None and folder_depth(parent) >= MAX_FOLDER_DEPTH:
        raise OperationError(
            _l("Les dossiers s'imbriquent sur %(n)d niveaux au plus."), n=MAX_FOLDER_DEPTH
        )
    count = db.session.scalar(
        select(func.count())
        .select_from(DocumentFolder)
        .where(DocumentFolder.community_id == community.id)
    )
    if count >= MAX_FOLDERS:
        raise OperationError(_l("Une communauté compte %(n)d dossiers au plus."), n=MAX_FOLDERS)
    _check_unique_name(community, parent.id if parent else None, name)
    folder = DocumentFolder(community=community, parent=parent, name=name, created_by_id=actor.id)
    db.session.add(folder)
    db.session.flush()
    record(actor, "document_folder.create", folder, community=community.id)
    return folder


def rename_folder(folder: DocumentFolder, actor: User, name: str) -> DocumentFolder:
    if not can(actor, "edit", folder):
        raise NotAllowed(
            _l("Seuls la personne qui a créé le dossier et les modérateurs peuvent le modifier.")
        )
    _require_enabled(folder.community)
    name = _validate_folder_name(name)
    _check_unique_name(folder.community, folder.parent_id, name, own_id=folder.id)
    folder.name = name
    record(actor, "document_folder.rename", folder)
    return folder


def delete_folder(folder: DocumentFolder, actor: User) -> None:
    """Delete an empty folder (no documents, no folders inside)."""
    if not can(actor, "delete", folder):
        raise NotAllowed(
            _l("Seuls la personne qui a créé le dossier et les modérateurs peuvent le supprimer.")
        )
    _require_enabled(folder.community)
    has_documents = db.session.scalar(select(Document.id).where(Document.folder_id == folder.id))
    has_folders = db.session.scalar(
        select(DocumentFolder.id).where(DocumentFolder.parent_id == folder.id)
    )
    if has_documents or has_folders:
        raise Conflict(
            _l(
                "Le dossier « %(name)s » n'est pas vide : déplacez ou supprimez d'abord ce "
                "qu'il contient."
            ),
            name=folder.name,
        )
    record(actor, "document_folder.delete", folder, community=folder.community_id)
    db.session.delete(folder)
