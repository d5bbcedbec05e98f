from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class OrganisationKind(enum.StrEnum):
    STATE_SERVICE = "state_service"
    LOCAL_AUTHORITY = "local_authority"
    ASSOCIATION = "association"
    OTHER = "other"


class Organisation(db.Model):
    """An employer: a State service, a local authority, an association…"""

    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint("siret IS NULL OR length(siret) = 14", name="siret_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=OrganisationKind.OTHER, index=True)
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.kind}>"
