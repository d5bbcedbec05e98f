"""Federation settings record which administrator changed them: exported for that person; on
deletion the row stays (it is the instance's setting) and so does the link, which then leads to
the anonymised users row (kept, nameless)."""

from __future__ import annotations

from sqlalchemy import select

from maillage.federation.transport.models import FederationSetting
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import as_dict


def _export(user) -> list[dict]:
    statement = (
        select(FederationSetting.key, FederationSetting.value, FederationSetting.updated_at)
        .where(FederationSetting.updated_by_id == user.id)
        .order_by(FederationSetting.key)
    )
    return [as_dict(row) for row in db.session.execute(statement)]


def _erase(_user, _erasure) -> None:
    """Nothing to do: the anonymised users row no longer names the administrator."""


holds_personal_data(FederationSetting, section="federation_settings", export=_export, erase=_erase)
