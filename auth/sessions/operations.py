"""Server-side sessions: the contract other packages call (implementation in progress).

Other packages call only these functions; the sessions workstream fills them in.
"""

from __future__ import annotations

from maillage.platform.extensions import db


def end_user_sessions(user, *, reason: str, keep_current: bool = False) -> int:  # noqa: ARG001
    """End every open session of ``user`` (all browsers, remember-me cookies included), except
    this browser's when ``keep_current``; return how many ended.  ``reason`` is audited
    (``logout``, ``admin``, ``suspended``, ``password``, ``backchannel``, ``deprovisioned``…).
    The caller commits."""
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()
    return 0


def end_provider_sessions(
    provider: str, *, subject: str | None = None, sid: str | None = None
) -> int:
    """End the sessions opened through identity ``provider`` for the OIDC ``sid`` (one sign-in)
    or, without ``sid``, every session of the person whose identity at ``provider`` is
    ``subject`` (OIDC back-channel logout).  Return how many ended.  The caller commits."""
    raise NotImplementedError
