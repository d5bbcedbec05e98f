"""Rate limits of the sign-in pages (Flask-Limiter), shared by the password and code steps.

Limits come from configuration (``RATELIMIT_LOGIN`` and friends), per IP address and per account
or address; only attempts that could be abused count (a failed sign-in or code, a sign-up or reset
request that sends an e-mail): a view marks them with :func:`count_attempt`, so a busy office
behind one address is not locked out by its colleagues' successful sign-ins.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_login import current_user

from maillage.communities.users.operations import normalise_email
from maillage.platform.errors import OperationError
from maillage.platform.extensions import limiter


def login_limits() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def signup_limits() -> str:
    return current_app.config.get("RATELIMIT_SIGNUP") or login_limits()


def reset_limits() -> str:
    return current_app.config.get("RATELIMIT_PASSWORD_RESET") or login_limits()


def reset_limits_per_address() -> str:
    return current_app.config.get("RATELIMIT_PASSWORD_RESET_PER_ADDRESS") or "5 per hour"


def count_attempt() -> None:
    """Mark this request as one that counts against the rate limits of its view."""
    g.counted_attempt = True


def _attempt_counted(_response) -> bool:
    return g.get("counted_attempt", False)


def submitted_account() -> str:
    """The account a sign-in names, so a username and its e-mail address share one budget."""
    from maillage.auth.local.operations import find_local_account

    login = (request.form.get("login") or "").strip()[:254]
    user = find_local_account(login) if login else None
    return f"user:{user.id}" if user is not None else f"login:{login.lower()}"


def submitted_address() -> str:
    return "address:" + _normalised_or_blank((request.form.get("email") or "")[:254])


def _normalised_or_blank(email: str) -> str:
    try:
        return normalise_email(email)
    except OperationError:
        return ""


def signed_in_user() -> str:
    return f"user:{getattr(current_user, 'id', '')}"


def limited(limits, key_func=None):
    """A limit on POST requests of a view, counting only the attempts it marks."""
    return limiter.limit(limits, key_func=key_func, methods=["POST"], deduct_when=_attempt_counted)
