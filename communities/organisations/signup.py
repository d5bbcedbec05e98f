"""What sign-up does about organisations and the platform charter, after the account exists.

A person who does not find their organisation proposes one: it is created ``pending`` and they
belong to it at once (never blocked); every administrator is told in the bell (and by e-mail at
their chosen rhythm), and the administration home shows how many wait.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l

from maillage.communities.organisations import operations, queries
from maillage.communities.organisations.models import Organisation
from maillage.platform.db import utcnow

#: the notification reason administrators receive
REASON = "organisation_proposed"


@dataclass(frozen=True)
class Proposal:
    name: str
    kind: str
    siret: str | None


def known_organisation(proposal: Proposal | None) -> Organisation | None:
    """The organisation already registered with the proposal's SIRET (no duplicate made)."""
    if proposal is None or not proposal.siret:
        return None
    siret = operations.validate_siret(proposal.siret)
    return operations.organisation_by_siret(siret) if siret else None


def settle_new_account(user, proposal: Proposal | None, charter_accepted: bool) -> None:
    """Record the charter acceptance and, for a proposal, create and attach the organisation."""
    if charter_accepted:
        user.charter_accepted_at = utcnow()
    if proposal is None or user.organisation_id is not None:
        return
    organisation, known = operations.propose_organisation(
        proposal.name, proposal.kind, proposal.siret, user
    )
    user.organisation = organisation
    if not known:
        notify_admins(organisation, user)


def notify_admins(organisation: Organisation, proposer) -> None:
    from maillage.platform.notifications.operations import notify

    notify(
        organisation,
        community=None,
        actor=proposer,
        reason=REASON,
        url=url_for("organisations.admin_list", status="pending"),
        title=str(_l("Organisation à valider : %(name)s", name=organisation.name)),
        recipients=queries.admins(),
    )
