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
