"""*Mes données*: ask for an archive of one's personal data, and download it.

The download link (sent in the bell and by e-mail) opens only for the signed-in person whose
archive it is: anyone else, signed in or not, gets the same 404 as for an unknown link.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from maillage.communities.documents.filenames import content_disposition
from maillage.platform.errors import OperationError, render_error
from maillage.platform.extensions import db, limiter
from maillage.platform.personal_data import operations, queries
from maillage.platform.personal_data.blueprint import blueprint
from maillage.platform.storage import UnknownKey, get_storage
from maillage.platform.views_util import current_viewer

#: Each archive reads everything a person wrote: a few a day is plenty.
REQUESTS_PER_DAY = "10 per day"


def _signed_in_user() -> str:
    return f"user:{getattr(current_user, 'id', '')}"


@blueprint.route("/account/data")
@login_required
def index():
    user = current_viewer()
    return render_template(
        "personal_data/index.html",
        exports=queries.recent_exports(user),
        in_progress=queries.export_in_progress(user),
        days=current_app.config["PERSONAL_DATA_EXPORT_DAYS"],
    )


@blueprint.route("/account/data", methods=["POST"])
@login_required
@limiter.limit(REQUESTS_PER_DAY, key_func=_signed_in_user)
def request_export():
    try:
        operations.request_export(current_viewer())
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(
            _(
                "Votre demande est enregistrée : l'archive se prépare. Vous serez prévenu·e par "
                "une notification et par e-mail dès qu'elle sera prête."
            ),
            "success",
        )
    return redirect(url_for("personal_data.index"))


@blueprint.route("/account/data/archive/<token>")
@login_required
def download(token: str):
    export = queries.export_for_download(current_viewer(), token)
    if export is None:
        return render_error(404, _("Ce lien de téléchargement est inconnu."))
    if not export.is_downloadable():
        return render_error(
            404,
            _("Ce lien a expiré et l'archive a été supprimée : demandez-en une nouvelle."),
        )
    try:
        path = get_storage().local_path(export.archive_key)
    except UnknownKey:
        current_app.logger.error("export archive %s is missing", export.archive_key)
        return render_error(404, _("Cette archive est introuvable : demandez-en une nouvelle."))
    from flask import send_file

    name = f"maillage-donnees-{export.ready_at:%Y-%m-%d}.zip"
    response = send_file(path, mimetype="application/zip", as_attachment=True, download_name=name)
    response.headers["Content-Disposition"] = content_disposition("attachment", name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
