"""Who is calling the API: a personal token (``Authorization: Bearer mlg_…``) or, for reads only,
the browser's session.  Writes accept tokens only, so no cookie can be made to write (CSRF)."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from maillage.auth.tokens.operations import user_for_token
from maillage.communities.users.models import User
from maillage.platform.api.errors import ApiError
from maillage.platform.extensions import db

CHALLENGE = 'Bearer realm="api"'


def _unauthorised(message, invalid: bool = False) -> ApiError:
    challenge = CHALLENGE + (', error="invalid_token"' if invalid else "")
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def authenticate() -> None:
    """``before_request``: resolve a bearer token if one is presented; a bad one is a 401, never
    a silent fall-back to anonymous."""
    g.api_token_user = None
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise _unauthorised(
            _l("En-tête Authorization invalide : utilisez « Bearer <jeton> »."), invalid=True
        )
    user = user_for_token(secret.strip())
    if user is None:
        db.session.rollback()
        raise _unauthorised(_l("Jeton d'API invalide ou révoqué."), invalid=True)
    db.session.commit()  # the token's last use, written at most once a minute
    g.api_token_user = user


def api_viewer() -> User | None:
    """The token's user, else the signed-in user of the session, else None (anonymous)."""
    if g.get("api_token_user") is not None:
        return g.api_token_user
    return current_user if current_user.is_authenticated else None


def token_required(view):
    """Only a bearer token authenticates this view (its user is passed as ``user``)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = g.get("api_token_user")
        if user is None:
            raise _unauthorised(
                _l(
                    "Cette opération demande un jeton d'API : "
                    "en-tête « Authorization: Bearer <jeton> »."
                )
            )
        return view(*args, user=user, **kwargs)

    return wrapper
