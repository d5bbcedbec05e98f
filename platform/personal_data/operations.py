"""Every write on personal data exports; the caller commits (except :func:`build_export`, which
runs in the outbox worker and commits its own steps).

A person asks (:func:`request_export`); the outbox item ``personal_data.export`` builds the ZIP
(:func:`build_export`), stores it, and tells the person (bell and e-mail) with a link that
expires after ``PERSONAL_DATA_EXPORT_DAYS``; :func:`expire_exports` (periodic) removes archives
past their date.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import tempfile

from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from maillage.communities.users.models import User
from maillage.platform import mail
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.outbox.operations import enqueue
from maillage.platform.personal_data.archive import write_archive
from maillage.platform.personal_data.models import IN_PROGRESS, ExportRequest, ExportStatus
from maillage.platform.personal_data.queries import export_in_progress, token_hash
from maillage.platform.storage import get_storage

log = logging.getLogger(__name__)

KIND = "personal_data.export"
REASON = "personal_data_export"
DOWNLOAD_PATH = "/account/data/archive/"
#: An archive larger than this is refused by the storage (it is never expected).
MAX_ARCHIVE = 1 << 40


def request_export(user: User) -> ExportRequest:
    """Ask for an archive of ``user``'s data; refused while another one is on its way."""
    # Two requests at once: the second waits for the first's row lock (PostgreSQL; SQLite has
    # one writer), then sees it and is refused.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    if export_in_progress(user):
        raise OperationError(
            _l(
                "Une archive de vos données est déjà en préparation : vous serez prévenu·e dès "
                "qu'elle sera prête."
            )
        )
    export = ExportRequest(user=user, status=ExportStatus.PENDING)
    db.session.add(export)
    db.session.flush()
    enqueue(KIND, export_id=export.id)
    record(user, "personal_data.export_request", export)
    return export


def _claim(export_id: int) -> ExportRequest | None:
    """Mark the export ``building`` (again, when a worker died while building it)."""
    claimed = db.session.execute(
        update(ExportRequest)
        .where(ExportRequest.id == export_id, ExportRequest.status.in_(IN_PROGRESS))
        .values(status=ExportStatus.BUILDING)
    ).rowcount
    db.session.commit()
    return db.session.get(ExportRequest, export_id) if claimed else None


def build_export(export_id: int, now: dt.datetime | None = None) -> bool:
    """Build, store and announce the archive; idempotent (a done export is left alone).

    A failure marks the export ``failed`` (the person may ask again) instead of retrying for
    ever: an export that never ends would also block the account's deletion.
    """
    export = _claim(export_id)
    if export is None:
        return False
    try:
        key, size = _store_archive(export.user)
    except Exception as exc:
        db.session.rollback()
        log.exception("personal data export %s failed", export_id)
        export = db.session.get(ExportRequest, export_id)
        export.status, export.error = ExportStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        return False
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    days = current_app.config["PERSONAL_DATA_EXPORT_DAYS"]
    export.status, export.ready_at = ExportStatus.READY, now
    export.expires_at = now + dt.timedelta(days=days)
    export.archive_key, export.archive_size = key, size
    export.token_hash = token_hash(token)
    _announce(export, DOWNLOAD_PATH + token, now)
    db.session.commit()
    return True


def _store_archive(user: User) -> tuple[str, int]:
    storage = get_storage()
    with tempfile.TemporaryFile() as out:
        write_archive(user, out)
        out.seek(0)
        staged = storage.stage(out, MAX_ARCHIVE)
    return storage.store(staged), staged.size


def _announce(export: ExportRequest, path: str, now: dt.datetime) -> None:
    """The bell notice, and an e-mail even when the person's notices are not mailed at once."""
    from maillage.platform.notifications.emails import absolute, language_of
    from maillage.platform.notifications.models import Mode, Notification
    from maillage.platform.notifications.operations import notify
    from maillage.platform.notifications.queries import modes_for

    user = export.user
    with force_locale(language_of(user)):
        title = _("Votre archive de données personnelles est prête")
        expiry = format_datetime(export.expires_at, "long")
        text = "\n".join(
            [
                _("Bonjour %(name)s,", name=user.display_name),
                "",
                _("L'archive de vos données que vous avez demandée est prête."),
                _("Téléchargez-la, connecté·e à votre compte, avant le %(date)s :", date=expiry),
                absolute(path),
                "",
                _(
                    "Si vous n'avez pas fait cette demande, changez votre mot de passe et "
                    "prévenez l'administration de la plateforme."
                ),
            ]
        )
    notify(
        export,
        community=None,
        actor=None,
        reason=REASON,
        url=path,
        title=title,
        recipients=[user],
        now=now,
    )
    if user.email and modes_for([user.id], None)[user.id] != Mode.IMMEDIATE:
        mail.send(user.email, title, text)
        db.session.execute(
            update(Notification)
            .where(
                Notification.recipient_id == user.id,
                Notification.object_type == "ExportRequest",
                Notification.object_id == export.id,
            )
            .values(emailed_at=now)
        )


def expire_exports(now: dt.datetime | None = None, batch: int = 500) -> int:
    """Remove the archives past their expiry (files after the commit); returns how many."""
    now = now or utcnow()
    exports = db.session.scalars(
        select(ExportRequest)
        .where(ExportRequest.status == ExportStatus.READY, ExportRequest.expires_at <= now)
        .order_by(ExportRequest.id)
        .limit(batch)
    ).all()
    for export in exports:
        _forget_archive(export)
        export.status = ExportStatus.EXPIRED
    return len(exports)


def _forget_archive(export: ExportRequest) -> None:
    if export.archive_key:
        get_storage().delete_after_commit(export.archive_key)
    export.archive_key = None  # the token stays: its link then says it expired


def erase_exports(user: User) -> None:
    """Account deletion: the person's export requests and their archive files go."""
    for export in db.session.scalars(select(ExportRequest).where(ExportRequest.user_id == user.id)):
        _forget_archive(export)
        db.session.delete(export)
