"""Small helpers shared by thin views."""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import abort, flash, request
from flask_login import current_user

from maillage.platform.errors import OperationError
from maillage.platform.extensions import db

MAX_PAGE = 10_000


def current_viewer():
    """The signed-in user (the real object, not Flask-Login's proxy), or None."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def require_admin():
    """The signed-in platform administrator, or a 403 (asked through the permission policy)."""
    from maillage.communities.permissions import can

    viewer = current_viewer()
    if not can(viewer, "admin"):
        abort(403)
    return viewer


def is_htmx() -> bool:
    """Whether HTMX sent the request (the view answers with a fragment)."""
    return request.headers.get("HX-Request") == "true"


def page_number() -> int:
    """The ``page`` query argument, read leniently: anything invalid is page 1."""
    page = request.args.get("page", 1, type=int)
    return min(max(page or 1, 1), MAX_PAGE)


def safe_next_url(target: str | None) -> str | None:
    """Only same-site paths are followed after login or a language switch (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target.rstrip("?") or "/"


@contextmanager
def flash_operation_errors(form=None):
    """Turn an operation's refusal into a message on the form (nothing is stored)."""
    try:
        yield
    except OperationError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        if form is not None:
            form.form_errors.append(str(exc))
        flash(str(exc), "error")


def get_or_404(model, **criteria):
    from sqlalchemy import select

    obj = db.session.scalar(select(model).filter_by(**criteria))
    if obj is None:
        abort(404)
    return obj


#: Fields a confirmation page never carries over (the token is issued again on the page).
_NOT_CARRIED = frozenset({"csrf_token", "confirmed"})


def confirmation_page(question, details=None, confirm_label=None, cancel_url: str | None = None):
    """Ask before a destructive action; ``None`` once the person confirmed.

    A destructive POST handler calls this after its permission check and before its operation::

        if (page := confirmation_page(_("Retirer Anne de la communauté ?"))) is not None:
            return page

    The first POST answers with a page that states the question and re-posts the same fields
    with ``confirmed=1`` (a plain form: works without JavaScript, by keyboard and with a screen
    reader); only that second POST runs the action.  Under HTMX the page replaces the main
    content, and its heading takes the focus.
    """
    from flask import render_template
    from flask_babel import gettext

    if request.form.get("confirmed") == "1":
        return None
    fields = [
        (name, value)
        for name, values in request.form.lists()
        if name not in _NOT_CARRIED
        for value in values
    ]
    context = {
        "question": question,
        "details": details,
        "confirm_label": confirm_label or gettext("Confirmer"),
        "cancel_url": safe_next_url(cancel_url) or _referrer_path() or "/",
        "action": request.path,
        "fields": fields,
    }
    if is_htmx():
        body = render_template("_confirm_form.html", **context)
        return body, 200, {"HX-Retarget": "#contenu", "HX-Reswap": "innerHTML"}
    return render_template("confirm.html", **context)


def _referrer_path() -> str | None:
    """The page the person came from, when it is on this site (the « Annuler » link)."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return safe_next_url(parts.path + (f"?{parts.query}" if parts.query else ""))
