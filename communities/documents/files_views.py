"""Sending files: downloads of any version and previews, with the headers that keep them safe.

- Every response carries the type detected on upload (never the one the browser declared),
  ``X-Content-Type-Options: nosniff`` and ``Cache-Control: private, no-cache`` (revalidated with
  the version's SHA-256 as ETag, so a person who lost access cannot reuse a shared cache).
- Downloads are ``Content-Disposition: attachment`` with the cleaned name as RFC 5987
  ``filename*`` (plus an ASCII fallback) and a CSP ``sandbox``: the browser saves, never renders.
- Image previews are the thumbnail re-encoded on upload (previews.py), never the original.
- PDF previews are the original, ``inline``, framable by our own pages only, under a CSP
  ``sandbox`` (see previews.py).
"""

from __future__ import annotations

from flask import abort, current_app, send_file
from flask_babel import gettext as _

from maillage.communities.documents import previews, queries
from maillage.communities.documents.blueprint import blueprint
from maillage.communities.documents.filenames import content_disposition, split_extension
from maillage.communities.documents.filetypes import TYPES
from maillage.communities.documents.views import document_or_404
from maillage.platform.errors import render_error
from maillage.platform.storage import UnknownKey, get_storage

DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
IMAGE_CSP = "default-src 'none'; sandbox; frame-ancestors 'self'"
# The browser's own PDF viewer draws the file; the document itself runs nothing of ours.
PDF_CSP = "sandbox; default-src 'none'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"


def _version_or_404(slug: str, document_id: int, number: int):
    document = document_or_404(slug, document_id)
    version = queries.version_of(document, number)
    if version is None:
        abort(404)
    return document, version


def _send(key: str, mimetype: str, disposition: str, name: str, etag: str, modified):
    try:
        path = get_storage().local_path(key)
    except UnknownKey:
        current_app.logger.error("stored file %s is missing", key)
        return render_error(404, _("Le fichier de cette version est introuvable."))
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=disposition == "attachment",
        download_name=name,
        conditional=True,
        etag=etag,
        last_modified=modified,
        max_age=None,
    )
    response.headers["Content-Disposition"] = content_disposition(disposition, name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blueprint.route("/c/<slug>/documents/<int:document_id>/versions/<int:number>/telecharger")
def download(slug: str, document_id: int, number: int):
    _document, version = _version_or_404(slug, document_id, number)
    file_type = TYPES.get(version.type_key)
    # Werkzeug adds "; charset=utf-8" to text/* types itself.
    mimetype = file_type.mime if file_type else "application/octet-stream"
    response = _send(
        version.storage_key,
        mimetype,
        "attachment",
        version.file_name,
        version.sha256,
        version.created_at,
    )
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


@blueprint.route("/c/<slug>/documents/<int:document_id>/versions/<int:number>/apercu")
def preview(slug: str, document_id: int, number: int):
    _document, version = _version_or_404(slug, document_id, number)
    kind = previews.preview_kind(version.type_key)
    if kind == "image":
        return _image_preview(version)
    if kind == "pdf":
        response = _send(
            version.storage_key,
            "application/pdf",
            "inline",
            version.file_name,
            version.sha256,
            version.created_at,
        )
        response.headers["Content-Security-Policy"] = PDF_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response
    return render_error(404, _("Ce type de fichier n'a pas d'aperçu. Téléchargez-le."))


def _image_preview(version):
    if version.preview_status != previews.READY or not version.preview_key:
        return render_error(404, str(unavailable_reason(version)))
    head = get_storage().read_head(version.preview_key, 8)
    mimetype, extension = (
        ("image/png", "png") if head.startswith(b"\x89PNG") else ("image/jpeg", "jpg")
    )
    name = f"{split_extension(version.file_name)[0]}-apercu.{extension}"
    response = _send(
        version.preview_key, mimetype, "inline", name, f"p-{version.sha256}", version.created_at
    )
    response.headers["Content-Security-Policy"] = IMAGE_CSP
    return response


def unavailable_reason(version) -> str:
    """Why an image has no preview, for the document page and the preview route."""
    if version.preview_status == previews.TOO_LARGE:
        if version.image_width and version.image_height:
            return _(
                "Aperçu indisponible : l'image est trop grande pour être affichée sans risque "
                "(%(width)d × %(height)d pixels). Téléchargez-la pour l'ouvrir.",
                width=version.image_width,
                height=version.image_height,
            )
        return _(
            "Aperçu indisponible : l'image est trop grande pour être affichée sans risque. "
            "Téléchargez-la pour l'ouvrir."
        )
    return _("Aperçu indisponible : l'image n'a pas pu être lue. Téléchargez-la pour l'ouvrir.")


@blueprint.app_template_global("preview_unavailable")
def preview_unavailable(version) -> str:
    return unavailable_reason(version)
