"""Documents over HTTP: folder pages, the document page, forms to upload, edit, move, restore and
delete.  Thin handlers: parse, ask the permission policy, call an operation, render.

A secret community's documents are a 404 to outsiders, like an unknown address; a private
community's document pages are a 403 to outsiders and its documents a 404.  The module switched
off is a 404 everywhere.  Every form works without JavaScript (POST, then redirect).

Uploads: Flask's ``MAX_CONTENT_LENGTH`` (small, for every other form) is raised for the upload
routes only, to ``DOCUMENT_MAX_SIZE`` plus room for the form; the CSRF check runs after that
(the upload views are exempt from the global check and call it themselves).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge

from maillage.communities import signals
from maillage.communities.documents import previews, queries
from maillage.communities.documents.blueprint import blueprint
from maillage.communities.documents.filenames import human_size
from maillage.communities.documents.filetypes import TYPES
from maillage.communities.documents.forms import (
    ROOT,
    EditForm,
    FolderForm,
    UploadForm,
    VersionForm,
    set_folder_choices,
)
from maillage.communities.documents.operations import (
    DELETE_REFUSED,
    EDIT_REFUSED,
    add_version,
    create_folder,
    delete_document,
    delete_folder,
    edit_document,
    move_document,
    rename_folder,
    restore_version,
    upload_document,
)
from maillage.communities.documents.uploads import Upload, accepted_extensions, max_size
from maillage.communities.modules import community_with_module
from maillage.communities.permissions import can
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import csrf, db
from maillage.platform.storage import get_storage
from maillage.platform.views_util import confirmation_page, current_viewer, page_number

MODULE = "documents"
DEFAULT_PAGE_SIZE = 50
#: Room for the other fields and the multipart framing around the file.
FORM_OVERHEAD = 64 * 1024

REFUSALS = {
    "read": _l("Les documents de cette communauté sont réservés à ses membres."),
    "post": _l("Seuls les membres de la communauté peuvent y déposer des documents."),
    "edit": EDIT_REFUSED,
    "delete": DELETE_REFUSED,
    "folder": _l("Seuls la personne qui a créé le dossier et les modérateurs peuvent le modifier."),
}


@blueprint.app_template_filter("filesize")
def filesize_filter(size: int) -> str:
    return human_size(size)


@blueprint.context_processor
def labels() -> dict:
    return {"FILE_TYPES": TYPES, "preview_kind": previews.preview_kind}


# -- lookups -----------------------------------------------------------------------------------


def community_or_404(slug: str, action: str = "read"):
    """The community, when the viewer may see it and the module is on; a 403 when the viewer
    sees the community but may not ``action`` (read, post) in it."""
    community = community_with_module(slug, MODULE)
    if not can(current_viewer(), action, community):
        raise NotAllowed(REFUSALS[action])
    return community


def document_or_404(slug: str, document_id: int):
    community = community_with_module(slug, MODULE)
    document = queries.document_in(community, document_id)
    if document is None or not can(current_viewer(), "view", document):
        abort(404)
    return document


def folder_or_404(community, folder_id: int | None):
    if folder_id is None:
        return None
    folder = queries.folder_in(community, folder_id)
    if folder is None or not can(current_viewer(), "view", folder):
        abort(404)
    return folder


def require(action: str, obj, refusal: str) -> None:
    if not can(current_viewer(), action, obj):
        raise NotAllowed(REFUSALS[refusal])


@contextmanager
def operation_errors(form):
    """An operation's refusal of the input becomes a message on ``form``; nothing is stored."""
    try:
        yield
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            raise
        form.form_errors.append(str(exc))


def folder_url(community, folder=None, **args) -> str:
    if folder is None:
        return url_for(".index", slug=community.slug, **args)
    return url_for(".folder", slug=community.slug, folder_id=folder.id, **args)


def document_url(document) -> str:
    return url_for(".show", slug=document.community.slug, document_id=document.id)


# -- uploads: a larger body for these routes only -----------------------------------------------


def accepts_upload(view):
    """Raise the request size limit for this view, then check CSRF (exempt from the global
    check, which would read the body under the small limit).  When the body is too large the
    view gets ``too_large=True`` and shows its form with a clear message."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        too_large = False
        if request.method == "POST":
            request.max_content_length = max_size() + FORM_OVERHEAD
            try:
                request.files  # noqa: B018 - parse the body now, under the raised limit
            except RequestEntityTooLarge:
                too_large = True
            else:
                if current_app.config.get("WTF_CSRF_ENABLED", True):
                    csrf.protect()
        return view(*args, too_large=too_large, **kwargs)

    return csrf.exempt(wrapper)


def too_large_message() -> str:
    return _("Le fichier dépasse la taille maximale de %(limit)s.", limit=human_size(max_size()))


def upload_of(field) -> Upload:
    storage = field.data
    return Upload(storage.filename, storage.stream, storage.content_type)


# -- folder pages ------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/documents")
def index(slug: str):
    community = community_or_404(slug)
    return _folder_page(community, None)


@blueprint.route("/c/<slug>/documents/dossiers/<int:folder_id>")
def folder(slug: str, folder_id: int):
    community = community_or_404(slug)
    return _folder_page(community, folder_or_404(community, folder_id))


def _folder_page(community, current):
    per_page = int(current_app.config.get("DOCUMENTS_PAGE_SIZE", DEFAULT_PAGE_SIZE))
    page = queries.documents_in(community, current, page_number(), per_page)
    return render_template(
        "documents/index.html",
        community=community,
        current=current,
        path=queries.folder_path(current) if current else [],
        folders=queries.subfolders(community, current),
        documents=page,
        pagination={
            "page": page.page,
            "pages": page.pages,
            "previous_url": folder_url(community, current, page=page.page - 1)
            if page.page > 1
            else None,
            "next_url": folder_url(community, current, page=page.page + 1)
            if page.page < page.pages
            else None,
        },
    )


# -- folders -----------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/documents/dossiers/nouveau", methods=["GET", "POST"])
@login_required
def new_folder(slug: str):
    community = community_or_404(slug, "post")
    parent = folder_or_404(community, request.args.get("parent", type=int))
    form = FolderForm()
    if form.validate_on_submit():
        with operation_errors(form):
            created = create_folder(community, current_viewer(), form.name.data, parent)
            db.session.commit()
            flash(_("Le dossier « %(name)s » est créé.", name=created.name), "success")
            return redirect(folder_url(community, created), 303)
    return render_template(
        "documents/folder_form.html",
        community=community,
        parent=parent,
        folder=None,
        form=form,
        action=url_for(".new_folder", slug=slug, parent=parent.id if parent else None),
        cancel_url=folder_url(community, parent),
    ), (400 if form.is_submitted() else 200)


@blueprint.route("/c/<slug>/documents/dossiers/<int:folder_id>/renommer", methods=["GET", "POST"])
@login_required
def rename_folder_view(slug: str, folder_id: int):
    community = community_or_404(slug)
    target = folder_or_404(community, folder_id)
    require("edit", target, "folder")
    form = FolderForm(data={"name": target.name})
    if form.validate_on_submit():
        with operation_errors(form):
            rename_folder(target, current_viewer(), form.name.data)
            db.session.commit()
            flash(_("Le dossier est renommé."), "success")
            return redirect(folder_url(community, target), 303)
    return render_template(
        "documents/folder_form.html",
        community=community,
        parent=target.parent,
        folder=target,
        form=form,
        action=url_for(".rename_folder_view", slug=slug, folder_id=target.id),
        cancel_url=folder_url(community, target),
    ), (400 if form.is_submitted() else 200)


@blueprint.route("/c/<slug>/documents/dossiers/<int:folder_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete_folder_view(slug: str, folder_id: int):
    community = community_or_404(slug)
    target = folder_or_404(community, folder_id)
    require("delete", target, "folder")
    error, parent = None, target.parent
    if request.method == "POST":
        question = _("Supprimer le dossier « %(name)s » ?", name=target.name)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
        try:
            delete_folder(target, current_viewer())
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            if isinstance(exc, NotAllowed):
                raise
            error = str(exc)
        else:
            flash(_("Le dossier est supprimé."), "success")
            return redirect(folder_url(community, parent), 303)
    return render_template(
        "documents/confirm.html",
        community=community,
        heading=_("Supprimer le dossier « %(name)s » ?", name=target.name),
        warning=_("Seul un dossier vide peut être supprimé."),
        button=_("Supprimer le dossier"),
        action=url_for(".delete_folder_view", slug=slug, folder_id=target.id),
        cancel_url=folder_url(community, target),
        error=error,
    ), (409 if error else 200)


# -- documents ---------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/documents/deposer", methods=["GET", "POST"])
@login_required
@accepts_upload
def upload(slug: str, too_large: bool = False):
    community = community_or_404(slug, "post")
    if too_large:
        form = UploadForm(formdata=None)
        form.form_errors.append(too_large_message())
        return _upload_page(community, form, 413)
    chosen = request.args.get("dossier", type=int)
    form = UploadForm(folder=str(chosen) if chosen else ROOT)
    set_folder_choices(form.folder, queries.folder_choices(community))
    if form.validate_on_submit():
        with operation_errors(form):
            target = folder_or_404(community, int(form.folder.data) if form.folder.data else None)
            document = upload_document(
                community,
                current_viewer(),
                upload_of(form.file),
                title=form.title.data or "",
                description=form.description.data or "",
                folder=target,
            )
            db.session.commit()
            flash(_("Le document « %(title)s » est déposé.", title=document.title), "success")
            return redirect(document_url(document), 303)
    return _upload_page(community, form, 400 if form.is_submitted() else 200)


def _upload_page(community, form, status: int):
    if not form.folder.choices:
        set_folder_choices(form.folder, queries.folder_choices(community))
    return render_template(
        "documents/upload.html",
        community=community,
        form=form,
        accept=accepted_extensions(),
        limit=human_size(max_size()),
    ), status


@blueprint.route("/c/<slug>/documents/<int:document_id>")
def show(slug: str, document_id: int):
    document = document_or_404(slug, document_id)
    signals.content_viewed.send(document, community=document.community, user=current_viewer())
    version = document.current_version
    kind = previews.preview_kind(version.type_key) if version else ""
    text = (
        previews.text_preview(get_storage(), version.storage_key, version.size)
        if kind == "text"
        else None
    )
    return render_template(
        "documents/show.html",
        community=document.community,
        document=document,
        version=version,
        preview=kind,
        text=text,
        path=queries.folder_path(document.folder) if document.folder else [],
        versions=queries.history(document),
    )


@blueprint.route("/c/<slug>/documents/<int:document_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(slug: str, document_id: int):
    document = document_or_404(slug, document_id)
    require("edit", document, "edit")
    community = document.community
    form = EditForm(
        data={
            "title": document.title,
            "description": document.description,
            "folder": str(document.folder_id) if document.folder_id else ROOT,
        }
    )
    set_folder_choices(form.folder, queries.folder_choices(community))
    if form.validate_on_submit():
        with operation_errors(form):
            target = folder_or_404(community, int(form.folder.data) if form.folder.data else None)
            edit_document(document, current_viewer(), form.title.data, form.description.data or "")
            move_document(document, current_viewer(), target)
            db.session.commit()
            flash(_("Le document est modifié."), "success")
            return redirect(document_url(document), 303)
    return render_template(
        "documents/edit.html", community=community, document=document, form=form
    ), (400 if form.is_submitted() else 200)


@blueprint.route("/c/<slug>/documents/<int:document_id>/versions/nouvelle", methods=["GET", "POST"])
@login_required
@accepts_upload
def new_version(slug: str, document_id: int, too_large: bool = False):
    document = document_or_404(slug, document_id)
    require("new_version", document, "edit")
    if too_large:
        form = VersionForm(formdata=None)
        form.form_errors.append(too_large_message())
        return _version_page(document, form, 413)
    form = VersionForm()
    if form.validate_on_submit():
        with operation_errors(form):
            version = add_version(
                document, current_viewer(), upload_of(form.file), form.comment.data or ""
            )
            db.session.commit()
            flash(_("La version %(n)d est en ligne.", n=version.number), "success")
            return redirect(document_url(document), 303)
    return _version_page(document, form, 400 if form.is_submitted() else 200)


def _version_page(document, form, status: int):
    return render_template(
        "documents/version_form.html",
        community=document.community,
        document=document,
        form=form,
        accept=accepted_extensions(),
        limit=human_size(max_size()),
    ), status


@blueprint.route(
    "/c/<slug>/documents/<int:document_id>/versions/<int:number>/restaurer",
    methods=["GET", "POST"],
)
@login_required
def restore(slug: str, document_id: int, number: int):
    document = document_or_404(slug, document_id)
    old = queries.version_of(document, number)
    if old is None:
        abort(404)
    require("restore", document, "edit")
    error = None
    if request.method == "POST":
        try:
            version = restore_version(document, current_viewer(), old)
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            if isinstance(exc, NotAllowed):
                raise
            error = str(exc)
        else:
            flash(
                _(
                    "La version %(old)d est restaurée : elle devient la version %(new)d.",
                    old=old.number,
                    new=version.number,
                ),
                "success",
            )
            return redirect(document_url(document), 303)
    return render_template(
        "documents/confirm.html",
        community=document.community,
        document=document,
        heading=_("Restaurer la version %(n)d ?", n=old.number),
        warning=_(
            "Une nouvelle version, copie de la version %(n)d (%(name)s), deviendra la version "
            "actuelle. L'historique est conservé.",
            n=old.number,
            name=old.file_name,
        ),
        button=_("Restaurer cette version"),
        danger=False,
        action=url_for(".restore", slug=slug, document_id=document.id, number=old.number),
        cancel_url=document_url(document),
        error=error,
    ), (409 if error else 200)


@blueprint.route("/c/<slug>/documents/<int:document_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete(slug: str, document_id: int):
    document = document_or_404(slug, document_id)
    require("delete", document, "delete")
    community, folder = document.community, document.folder
    if request.method == "POST":
        question = _("Supprimer le document « %(title)s » ?", title=document.title)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
        delete_document(document, current_viewer())
        db.session.commit()
        flash(_("Le document est supprimé."), "success")
        return redirect(folder_url(community, folder), 303)
    return render_template(
        "documents/confirm.html",
        community=community,
        document=document,
        heading=_("Supprimer le document « %(title)s » ?", title=document.title),
        warning=ngettext_versions(document.version_count),
        button=_("Supprimer définitivement"),
        action=url_for(".delete", slug=slug, document_id=document.id),
        cancel_url=document_url(document),
        error=None,
    )


def ngettext_versions(count: int) -> str:
    return ngettext(
        "Le fichier sera supprimé. C'est définitif.",
        "Ses %(num)d versions seront supprimées. C'est définitif.",
        count,
    )
