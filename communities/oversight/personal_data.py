"""The access grants an administrator asked for or ended are theirs to export; on erasure the
history stays with the communities (owners keep the record), anonymised."""

from __future__ import annotations

from sqlalchemy import or_, select, update

from maillage.communities.oversight.models import AccessGrant
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import holds_personal_data


def _export(user) -> list[dict]:
    grants = db.session.scalars(
        select(AccessGrant)
        .where(or_(AccessGrant.admin_id == user.id, AccessGrant.revoked_by_id == user.id))
        .order_by(AccessGrant.id)
    )
    return [
        {
            "community": grant.community.name,
            "requested": grant.admin_id == user.id,
            "ended_by_you": grant.revoked_by_id == user.id,
            "reason": grant.reason,
            "justification": grant.justification if grant.admin_id == user.id else None,
            "created_at": grant.created_at.isoformat(),
            "expires_at": grant.expires_at.isoformat(),
            "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
        }
        for grant in grants
    ]


def _erase(user, _erasure) -> None:
    for column in (AccessGrant.admin_id, AccessGrant.revoked_by_id):
        db.session.execute(
            update(AccessGrant)
            .where(column == user.id)
            .values({column.key: None})
            .execution_options(synchronize_session=False)
        )


holds_personal_data(AccessGrant, section="access_grants", export=_export, erase=_erase)
