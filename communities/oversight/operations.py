"""Giving and ending an administrator's exceptional access to a community's content.

Each step is written to the audit log, filed under the community so its facilitators read it in
their own audit log, and told to the community's owners and facilitators (bell and e-mail, as
their notification settings say).  The caller commits.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.oversight import queries
from maillage.communities.oversight.models import (
    DURATIONS_HOURS,
    MAX_DURATION,
    AccessGrant,
    GrantReason,
)
from maillage.communities.permissions import can, forget_grants
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db

JUSTIFICATION_MIN = 10
JUSTIFICATION_MAX = 2000
#: The notification reason of both steps (the bell's label comes from the title).
NOTICE_REASON = "access_grant"


def _checked_input(reason: str, justification: str, hours) -> tuple[str, str, int]:
    if reason not in set(GrantReason):
        raise OperationError(_l("Choisissez le motif de l'accès."))
    text = (justification or "").strip()
    if len(text) < JUSTIFICATION_MIN:
        raise OperationError(
            _l("Justifiez l'accès en quelques mots (%(n)d caractères au moins)."),
            n=JUSTIFICATION_MIN,
        )
    if len(text) > JUSTIFICATION_MAX:
        raise OperationError(
            _l("La justification fait %(n)d caractères au plus."), n=JUSTIFICATION_MAX
        )
    try:
        hours = int(hours)
    except (TypeError, ValueError):
        hours = 0
    if hours not in DURATIONS_HOURS or dt.timedelta(hours=hours) > MAX_DURATION:
        raise OperationError(_l("Choisissez une durée : 1 heure, 24 heures, 72 heures ou 7 jours."))
    return reason, text, hours


def request_access(
    admin: User,
    community: Community,
    reason: str,
    justification: str,
    hours: int,
    now: dt.datetime | None = None,
) -> AccessGrant:
    """Give ``admin`` read access to ``community``'s content for ``hours`` hours."""
    if not can(admin, "request_access", community):
        raise NotAllowed(
            _l(
                "Seul un administrateur demande un accès exceptionnel, et seulement à une"
                " communauté secrète ou privée."
            )
        )
    reason, text, hours = _checked_input(reason, justification, hours)
    now = now or utcnow()
    if any(grant.admin_id == admin.id for grant in queries.active_grants_in(community, now)):
        raise Conflict(_l("Vous avez déjà un accès en cours à cette communauté."))
    grant = AccessGrant(
        admin_id=admin.id,
        community_id=community.id,
        reason=reason,
        justification=text,
        created_at=now,
        expires_at=now + dt.timedelta(hours=hours),
    )
    db.session.add(grant)
    db.session.flush()
    record(
        admin,
        "oversight.grant",
        grant,
        community=community,
        reason=reason,
        justification=text,
        expires_at=grant.expires_at.isoformat(),
    )
    _tell_managers(
        grant,
        community,
        admin,
        _l("Un administrateur a ouvert un accès exceptionnel à « %(name)s »", name=community.name),
    )
    forget_grants(admin)
    return grant


def end_access(actor: User, grant: AccessGrant, now: dt.datetime | None = None) -> AccessGrant:
    """End ``grant`` before its term (its administrator, the community's managers, any admin)."""
    if not can(actor, "end_access", grant):
        raise NotAllowed(
            _l(
                "Seuls les responsables de la communauté et les administrateurs mettent fin"
                " à cet accès."
            )
        )
    now = now or utcnow()
    if not grant.active(now):
        raise Conflict(_l("Cet accès est déjà terminé."))
    grant.revoked_at = now
    grant.revoked_by_id = actor.id
    record(actor, "oversight.end", grant, community=grant.community, admin=grant.admin_id)
    _tell_managers(
        grant,
        grant.community,
        actor,
        _l(
            "L'accès exceptionnel d'un administrateur à « %(name)s » a pris fin",
            name=grant.community.name,
        ),
    )
    forget_grants(grant.admin)
    return grant


def _tell_managers(grant: AccessGrant, community: Community, actor: User, title) -> None:
    """Bell and e-mail to the owners and facilitators, through the notification system."""
    signals.notification_requested.send(
        grant,
        community=community,
        actor=actor,
        reason=NOTICE_REASON,
        url=f"/c/{community.slug}/acces-administrateur",
        title=str(title),
        recipients=queries.managers_of(community),
    )
