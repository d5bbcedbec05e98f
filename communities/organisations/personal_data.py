"""Organisations a person proposed at sign-up: exported, and forgotten on deletion (the
organisation stays; only the link to its proposer goes)."""

from __future__ import annotations

from sqlalchemy import select, update

from maillage.communities.organisations.models import Organisation
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import holds_personal_data


def _export(user) -> list[dict]:
    rows = db.session.scalars(
        select(Organisation).where(Organisation.proposed_by_id == user.id).order_by(Organisation.id)
    )
    return [
        {"name": row.name, "kind": row.kind, "siret": row.siret, "status": row.status}
        for row in rows
    ]


def _erase(user, _erasure) -> None:
    db.session.execute(
        update(Organisation)
        .where(Organisation.proposed_by_id == user.id)
        .values(proposed_by_id=None)
        .execution_options(synchronize_session=False)
    )


holds_personal_data(Organisation, section="proposed_organisations", export=_export, erase=_erase)
