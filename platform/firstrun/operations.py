"""First-run setup: the one-time setup link, then the first organisation and administrator.

The web page (``/setup/<token>``) and ``flask maillage setup`` both end in
:func:`set_up_instance`; the caller commits.  Times can be given (``now``) so that expiry is
tested with a fixed clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from maillage.communities.organisations.models import OrganisationSource
from maillage.communities.organisations.operations import create_organisation
from maillage.communities.users.operations import create_user
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, OperationError
from maillage.platform.extensions import db
from maillage.platform.firstrun.models import INSTANCE_STATE_ID, InstanceState, SetupToken
from maillage.platform.firstrun.queries import setup_done

#: How long a setup link printed on the console stays valid.
SETUP_LINK_LIFETIME = dt.timedelta(hours=24)


class SetupLinkError(OperationError):
    """A setup link that cannot be used: unknown (404), or used, replaced or expired (410)."""

    def __init__(self, message, status: int) -> None:
        super().__init__(message)
        self.status = status


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _refuse_when_done() -> None:
    if setup_done():
        raise Conflict(_l("L'installation est déjà terminée : cette instance a un administrateur."))


def issue_setup_token(now: dt.datetime | None = None) -> str:
    """A new one-time setup link's secret; older links stop working.  Refused once set up."""
    _refuse_when_done()
    now = now or utcnow()
    db.session.execute(
        update(SetupToken)
        .where(SetupToken.used_at.is_(None), SetupToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    secret = secrets.token_urlsafe(32)
    db.session.add(
        SetupToken(token_hash=_hash(secret), created_at=now, expires_at=now + SETUP_LINK_LIFETIME)
    )
    db.session.flush()
    record(None, "firstrun.setup_link", expires_at=(now + SETUP_LINK_LIFETIME).isoformat())
    return secret


def check_setup_token(secret: str, now: dt.datetime | None = None) -> SetupToken:
    """The valid setup link for ``secret``, or a :class:`SetupLinkError` saying why not."""
    now = now or utcnow()
    token = db.session.scalar(select(SetupToken).where(SetupToken.token_hash == _hash(secret)))
    if token is None:
        raise SetupLinkError(
            _l("Ce lien d'installation est inconnu. Vérifiez qu'il a été copié en entier."), 404
        )
    if token.used_at is not None:
        raise SetupLinkError(
            _l("Ce lien d'installation a déjà servi : l'installation est terminée."), 410
        )
    if setup_done():
        raise SetupLinkError(
            _l("L'installation est déjà terminée : ce lien d'installation ne sert plus."), 410
        )
    if token.revoked_at is not None:
        raise SetupLinkError(
            _l("Ce lien d'installation a été remplacé par un lien plus récent."), 410
        )
    if token.expires_at <= now:
        raise SetupLinkError(
            _l("Ce lien d'installation a expiré. Demandez-en un nouveau sur le serveur."), 410
        )
    return token


def set_up_instance(
    *,
    organisation_name: str,
    kind: str,
    username: str,
    display_name: str,
    email: str,
    password: str,
    siret: str | None = None,
    via: str,
    now: dt.datetime | None = None,
):
    """Create the first organisation and its administrator, and mark setup done.

    Returns the administrator.  Nothing is stored when any part is refused (the caller rolls
    back on :class:`OperationError`).
    """
    _refuse_when_done()
    source = OrganisationSource.CLI if via == "cli" else OrganisationSource.ADMIN
    organisation = create_organisation(organisation_name, kind, siret or None, source=source)
    admin = create_user(
        username, display_name, email, password, organisation=organisation, is_admin=True
    )
    mark_setup_done(admin, via=via, now=now, organisation=organisation.id)
    return admin


def set_up_with_link(secret: str, now: dt.datetime | None = None, **fields):
    """:func:`set_up_instance` through a setup link, which is used up in the same transaction."""
    now = now or utcnow()
    token = check_setup_token(secret, now)
    used = db.session.execute(
        update(SetupToken)
        .where(SetupToken.id == token.id, SetupToken.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:  # another request used it in the meantime
        raise SetupLinkError(_l("Ce lien d'installation a déjà servi."), 410)
    return set_up_instance(via="web", now=now, **fields)


def mark_setup_done(
    actor=None, *, via: str | None = None, now: dt.datetime | None = None, **details
) -> InstanceState:
    """Record that the instance is set up (idempotent); setup links stop working from then on.

    ``via`` names how (``web``, ``cli``, ``demo``…) and writes the audit entry; without it the
    change is silent (the test suite's fixture marks every test instance as set up).
    """
    now = now or utcnow()
    state = db.session.get(InstanceState, INSTANCE_STATE_ID)
    if state is None:
        state = InstanceState(id=INSTANCE_STATE_ID)
        db.session.add(state)
    if state.setup_completed_at is None:
        state.setup_completed_at, state.setup_completed_via = now, via
        if via is not None:
            record(actor, "firstrun.setup_done", via=via, **details)
    db.session.flush()
    return state
