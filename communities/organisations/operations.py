from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from maillage.communities.organisations.models import Organisation, OrganisationKind
from maillage.platform.audit.operations import record
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db


def validate_siret(siret: str | None) -> str | None:
    """A SIRET is 14 digits (spaces allowed on input); the Luhn key is not enforced because
    some public bodies (e.g. La Poste's establishments) are registered outside it."""
    if not siret:
        return None
    digits = siret.replace(" ", "")
    if len(digits) != 14 or not digits.isdigit():
        raise OperationError(_l("Un SIRET comporte 14 chiffres."))
    return digits


def create_organisation(
    name: str, kind: str, siret: str | None = None, parent: Organisation | None = None, actor=None
) -> Organisation:
    name = name.strip()
    if not name:
        raise OperationError(_l("Le nom de l'organisation est obligatoire."))
    if kind not in set(OrganisationKind):
        raise OperationError(_l("Type d'organisation inconnu."))
    siret = validate_siret(siret)
    if siret and db.session.scalar(select(Organisation.id).where(Organisation.siret == siret)):
        raise OperationError(_l("Une organisation avec ce SIRET existe déjà."))
    organisation = Organisation(name=name, kind=kind, siret=siret, parent=parent)
    db.session.add(organisation)
    db.session.flush()
    record(actor, "organisation.create", organisation, name=name)
    return organisation


def organisation_for_siret(
    siret: str, name: str | None = None, kind: str | None = None
) -> Organisation:
    """The organisation registered with ``siret``, created when first met (a sign-in through
    ProConnect or a directory names the person's establishment by its SIRET)."""
    siret = validate_siret(siret)
    organisation = db.session.scalar(select(Organisation).where(Organisation.siret == siret))
    if organisation is not None:
        return organisation
    label = (name or "").strip()[:200] or f"Établissement {siret}"
    return create_organisation(label, kind or OrganisationKind.OTHER, siret=siret)
