from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class OrganisationKind(enum.StrEnum):
    STATE_SERVICE = "state_service"
    LOCAL_AUTHORITY = "local_authority"
    ASSOCIATION = "association"
    OTHER = "other"


class OrganisationStatus(enum.StrEnum):
    ACTIVE = "active"
    #: proposed by someone at sign-up, waiting for an administrator (its members are not blocked)
    PENDING = "pending"
    #: no longer offered to newcomers; its members keep working
    DEACTIVATED = "deactivated"


class OrganisationSource(enum.StrEnum):
    """How the organisation came in (shown in the administration list)."""

    ADMIN = "admin"
    SIGNUP = "signup"
    SSO = "sso"
    CLI = "cli"
    DEMO = "demo"


class Organisation(db.Model):
    """An employer: a State service, a local authority, an association…"""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("siret IS NULL OR length(siret) = 14", name="siret_length"),
        CheckConstraint("siren IS NULL OR length(siren) = 9", name="siren_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=OrganisationKind.OTHER, index=True)
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    # The SIRET's first nine digits, or a SIREN given alone (a legal unit without establishment).
    siren: Mapped[str | None] = mapped_column(String(9), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(
        String(12), default=OrganisationStatus.ACTIVE, server_default="active", index=True
    )
    source: Mapped[str] = mapped_column(
        String(10), default=OrganisationSource.ADMIN, server_default="admin"
    )
    # Who proposed it at sign-up.  Deliberately not a foreign key: a second path between users
    # and organisations would make every ``join(Organisation)`` of User ambiguous; account
    # deletion clears it through the personal data registry (personal_data.py).
    proposed_by_id: Mapped[int | None] = mapped_column(Integer)
    # A key in platform storage: a re-encoded PNG (see operations.set_logo).
    logo_key: Mapped[str | None] = mapped_column(String(32))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])

    @property
    def is_active(self) -> bool:
        return self.status == OrganisationStatus.ACTIVE

    @property
    def is_pending(self) -> bool:
        return self.status == OrganisationStatus.PENDING

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.kind} {self.status}>"
