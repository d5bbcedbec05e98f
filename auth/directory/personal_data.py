"""Directory grants (memberships an LDAP/OIDC group gives): exported, deleted with the account."""

from __future__ import annotations

from sqlalchemy import select

from maillage.auth.directory.models import DirectoryGrant
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _export(user) -> list[dict]:
    statement = select(
        DirectoryGrant.id,
        DirectoryGrant.community_id,
        DirectoryGrant.provider,
        DirectoryGrant.group,
        DirectoryGrant.role,
        DirectoryGrant.created_at,
    ).where(DirectoryGrant.user_id == user.id)
    return export_rows(statement, DirectoryGrant.id)


def _erase(user, _erasure) -> None:
    delete_rows(DirectoryGrant, DirectoryGrant.user_id == user.id)


holds_personal_data(DirectoryGrant, section="directory_grants", export=_export, erase=_erase)
