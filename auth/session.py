"""Sessions: Flask-Login wiring.

The login id is ``"<user id>:<session version>"``; bumping a user's ``session_version`` signs them
out of every session at once (password change, "sign out everywhere").  At every login the
session is cleared before the user is stored in it, so a session fixed before login is useless.
"""

from __future__ import annotations

from flask import session
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user

from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db


def load_user(login_id: str) -> User | None:
    try:
        user_id, version = (int(part) for part in login_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.is_active:
        return None
    return user


def init_login(app, login_manager) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour accéder à cette page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"


def start_session(
    user: User,
    remember: bool = False,
    *,
    provider: str | None = None,  # noqa: ARG001 - until the session records land
    provider_subject: str | None = None,  # noqa: ARG001
    provider_sid: str | None = None,  # noqa: ARG001
) -> None:
    """Log ``user`` in on a fresh session (the old session's data and id are discarded).

    ``provider``/``provider_subject``/``provider_sid``: the identity provider the person signed
    in through, their identifier there and the OIDC ``sid`` of that sign-in, kept on the
    server-side session record so a back-channel logout can end it."""
    kept = {key: session[key] for key in ("lang",) if key in session}
    session.clear()
    session.update(kept)
    login_user(user, remember=remember)
    user.last_seen_at = utcnow()
    db.session.commit()


def end_session() -> None:
    """Log out of this browser: the session's data goes, then Flask-Login marks the remember-me
    cookie for deletion (clearing the session after ``logout_user`` would lose that mark)."""
    session.clear()
    logout_user()
