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
from sqlalchemy import and_, or_, select, update

from maillage.communities.users.models import User
from maillage.platform import mail
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.outbox.operations import enqueue
from maillage.platform.personal_data.archive import write_archive
from maillage.platform.personal_data.models import ExportRequest, ExportStatus
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


#: How long a worker may build one archive before another may take the export over (the outbox
#: lease is shorter: a long build outlives it, and the retried item must not build it twice).
BUILD_LEASE = dt.timedelta(hours=1)


class ExportBeingBuilt(Exception):
    """Another worker holds the export's build lease: the outbox retries the item later."""


def _claim(export_id: int, now: dt.datetime) -> dt.datetime | None:
    """Take the build lease of a ``pending`` export, or of a ``building`` one whose lease ended
    (its worker died); commits.  Returns the lease's end, the proof of ownership the final
    update checks, or None when the export is not to be built by us (already done, failed, gone,
    or being built by another worker: then :class:`ExportBeingBuilt` is raised)."""
    lease = now + BUILD_LEASE
    claimable = or_(
        ExportRequest.status == ExportStatus.PENDING,
        and_(
            ExportRequest.status == ExportStatus.BUILDING,
            or_(ExportRequest.expires_at.is_(None), ExportRequest.expires_at <= now),
        ),
    )
    claimed = db.session.execute(
        update(ExportRequest)
        .where(ExportRequest.id == export_id, claimable)
        .values(status=ExportStatus.BUILDING, expires_at=lease)
    ).rowcount
    status = (
        None
        if claimed
        else db.session.scalar(select(ExportRequest.status).where(ExportRequest.id == export_id))
    )
    db.session.commit()
    if claimed:
        return lease
    if status == ExportStatus.BUILDING:
        raise ExportBeingBuilt(f"export {export_id} is being built by another worker")
    return None


def build_export(export_id: int, now: dt.datetime | None = None) -> bool:
    """Build, store and announce the archive; idempotent (a done export is left alone).

    While an export is ``building``, ``expires_at`` is the end of its build lease: only the
    worker holding it may mark the export ready, so a second run (the outbox item retried while
    the first still builds) neither builds it again nor replaces the token of a link already
    sent.  A worker that lost its lease, or whose final commit fails, leaves no file behind (the
    storage removes a stored file whose transaction does not commit).  A failure marks the
    export ``failed`` (the person may ask again) instead of retrying for ever: an export that
    never ends would also block the account's deletion.
    """
    now = now or utcnow()
    lease = _claim(export_id, now)
    if lease is None:
        return False
    export = db.session.get(ExportRequest, export_id)
    try:
        key, size = _store_archive(export.user)
        return _finish(export_id, lease, key, size, now)
    except Exception as exc:
        db.session.rollback()  # the archive stored by this attempt is removed with it
        log.exception("personal data export %s failed", export_id)
        db.session.execute(
            _owned(export_id, lease).values(
                status=ExportStatus.FAILED,
                expires_at=None,
                error=f"{type(exc).__name__}: {exc}"[:2000],
            )
        )
        db.session.commit()
        return False


def _owned(export_id: int, lease: dt.datetime):
    """An update of the export, only while this worker still holds its build lease."""
    return update(ExportRequest).where(
        ExportRequest.id == export_id,
        ExportRequest.status == ExportStatus.BUILDING,
        ExportRequest.expires_at == lease,
    )


def _finish(export_id: int, lease: dt.datetime, key: str, size: int, now: dt.datetime) -> bool:
    """Mark the export ready and announce it, if the lease is still ours; commits."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["PERSONAL_DATA_EXPORT_DAYS"]
    done = db.session.execute(
        _owned(export_id, lease)
        .values(
            status=ExportStatus.READY,
            ready_at=now,
            expires_at=now + dt.timedelta(days=days),
            archive_key=key,
            archive_size=size,
            token_hash=token_hash(token),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:  # taken over, or the account was deleted meanwhile: drop our archive
        db.session.rollback()
        return False
    export = db.session.get(ExportRequest, export_id)
    db.session.refresh(export)
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
