"""*Mon compte* › Sessions: the person's open sessions, ending one or all the others.

Also the hook that keeps « last seen » current: the user loader notes when a record's is over a
minute old and, after the response is made, one UPDATE stores it (no write on other requests).
"""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from maillage.auth.session import end_session
from maillage.auth.sessions import operations
from maillage.auth.sessions.blueprint import blueprint
from maillage.auth.sessions.clients import describe_device
from maillage.auth.sessions.current import current_record_id, record_to_touch
from maillage.auth.sessions.queries import open_sessions, session_of
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer

log = logging.getLogger(__name__)
UNCOMMITTED_WRITES = "maillage_uncommitted_writes"


@blueprint.after_app_request
def touch_session(response):
    """Store « last seen » when the user loader found it stale, in a transaction of its own
    (:func:`operations.touch`): the request's session is never committed here, so what a view
    left pending or flushed (a refused form, say) is not committed on its behalf.

    Skipped while the request's session holds writes it did not commit: the database would make
    the touch wait for the request's own lock (SQLite's single writer; the same row on
    PostgreSQL).  A failure never breaks a page: a busy SQLite is logged, the next request
    tries again."""
    record_id = record_to_touch()
    if record_id is None or response.status_code >= 500 or _uncommitted_writes():
        return response
    try:
        operations.touch(record_id)
    except OperationalError as error:
        log.warning("last seen of session %s not stored: %s", record_id, error.orig)
    except Exception:  # bookkeeping must never break a page
        log.exception("last seen of session %s not stored", record_id)
    return response


def _uncommitted_writes() -> bool:
    session = db.session()
    return bool(
        session.new or session.dirty or session.deleted or session.info.get(UNCOMMITTED_WRITES)
    )


@event.listens_for(Session, "after_flush")
def _note_flush(session, _flush_context) -> None:
    session.info[UNCOMMITTED_WRITES] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[UNCOMMITTED_WRITES] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session, transaction) -> None:
    if transaction.parent is None:  # committed or rolled back, not a savepoint
        session.info.pop(UNCOMMITTED_WRITES, None)


def _no_store(page: str, status: int = 200):
    response = current_app.make_response((page, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/account/sessions")
@login_required
def index():
    user = current_viewer()
    sessions = open_sessions(user)
    page = render_template(
        "sessions/index.html",
        sessions=sessions,
        current_id=current_record_id(),
        describe_device=describe_device,
    )
    return _no_store(page)


@blueprint.route("/account/sessions/<int:record_id>/end", methods=["POST"])
@login_required
def end(record_id: int):
    user = current_viewer()
    record = session_of(user, record_id)
    if record is None:
        abort(404)
    if record.id == current_record_id():
        return _end_this_one()
    question = _("Fermer la session « %(device)s » ?", device=describe_device(record.user_agent))
    details = _("Cet appareil sera déconnecté ; il faudra s'y connecter à nouveau.")
    cancel = url_for(".index")
    if (page := confirmation_page(question, details, _("Fermer la session"), cancel)) is not None:
        return page
    operations.end_one(user, record)
    db.session.commit()
    flash(_("La session est fermée."), "success")
    return redirect(url_for(".index"), 303)


def _end_this_one():
    """Ending the session in use is signing out."""
    question = _("Fermer cette session ?")
    details = _("Vous serez déconnecté de ce navigateur.")
    cancel = url_for(".index")
    if (page := confirmation_page(question, details, _("Me déconnecter"), cancel)) is not None:
        return page
    end_session()
    flash(_("Vous êtes déconnecté."), "success")
    return redirect(url_for("auth.login"), 303)


@blueprint.route("/account/sessions/others/end", methods=["POST"])
@login_required
def end_others():
    user = current_viewer()
    question = _("Fermer toutes vos autres sessions ?")
    details = _("Les autres appareils connectés à votre compte seront déconnectés.")
    cancel = url_for(".index")
    if (page := confirmation_page(question, details, _("Fermer les sessions"), cancel)) is not None:
        return page
    ended = operations.end_user_sessions(user, reason="user", keep_current=True, actor=user)
    db.session.commit()
    message = ngettext(
        "%(num)d autre session fermée ; celle-ci reste ouverte.",
        "%(num)d autres sessions fermées ; celle-ci reste ouverte.",
        ended,
    )
    flash(message, "success")
    return redirect(url_for(".index"), 303)
