"""Who may do what with organisations: administrators manage them (they pass every rule in
``can``); anyone sees an active organisation, a proposed one only its proposer."""

from __future__ import annotations

from maillage.communities.organisations.models import Organisation
from maillage.communities.permissions import rule


@rule(Organisation, "view")
def _view_organisation(user, organisation):
    if organisation.is_active:
        return True
    return user is not None and organisation.proposed_by_id == user.id


@rule(Organisation, "manage", "merge", "deactivate", "validate")
def _manage_organisation(_user, _organisation):
    return False  # administrators only: they pass in can()
