"""The person's follows of remote communities: exported, deleted with the account (the remote
groups learn of it from the Delete of the person the deletion sends them)."""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.community.models import Community
from maillage.federation.outgoing.models import RemoteFollow
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _export(user) -> list[dict]:
    statement = (
        select(
            RemoteFollow.id,
            Community.ap_id.label("community"),
            RemoteFollow.state,
            RemoteFollow.created_at,
            RemoteFollow.answered_at,
        )
        .join(Community, Community.id == RemoteFollow.community_id)
        .where(RemoteFollow.user_id == user.id)
    )
    return export_rows(statement, RemoteFollow.id)


def _erase(user, _erasure) -> None:
    delete_rows(RemoteFollow, RemoteFollow.user_id == user.id)


holds_personal_data(RemoteFollow, section="remote_follows", export=_export, erase=_erase)
