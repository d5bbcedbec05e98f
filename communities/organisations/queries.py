"""Reads on organisations: the pickers' lists and the administration listing.

The listing runs a fixed number of queries whatever the page holds: the member counts come from
one grouped subquery joined to the page's rows, parents in the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from maillage.communities.organisations.models import Organisation, OrganisationStatus
from maillage.communities.users.models import User
from maillage.platform.db import escape_like
from maillage.platform.extensions import db

PER_PAGE = 50


def organisation_by_id(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def offered_organisations() -> list[Organisation]:
    """The organisations a newcomer may pick: active ones, by kind then name."""
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.status == OrganisationStatus.ACTIVE)
            .order_by(Organisation.kind, Organisation.name, Organisation.id)
        )
    )


def all_organisations() -> list[Organisation]:
    """Every organisation but deactivated ones (the administrators' pickers)."""
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.status != OrganisationStatus.DEACTIVATED)
            .order_by(Organisation.kind, Organisation.name, Organisation.id)
        )
    )


def pending_count() -> int:
    return (
        db.session.scalar(
            select(func.count(Organisation.id)).where(
                Organisation.status == OrganisationStatus.PENDING
            )
        )
        or 0
    )


def member_count(organisation: Organisation) -> int:
    return (
        db.session.scalar(
            select(func.count(User.id)).where(User.organisation_id == organisation.id)
        )
        or 0
    )


def proposer_of(organisation: Organisation) -> User | None:
    """Who proposed it at sign-up (None once their account is deleted)."""
    if organisation.proposed_by_id is None:
        return None
    return db.session.get(User, organisation.proposed_by_id)


def children_of(organisation: Organisation) -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.parent_id == organisation.id)
            .order_by(Organisation.name, Organisation.id)
        )
    )


def admins() -> list[User]:
    """Active local administrators (told about proposed organisations)."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.is_admin.is_(True), User.is_active.is_(True), User.local.is_(True))
            .order_by(User.id)
        )
    )


@dataclass
class OrganisationPage:
    #: ``(organisation, member count)`` pairs
    items: list[tuple[Organisation, int]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _conditions(query: str, kind: str, status: str, members: str, counts) -> list:
    conditions = []
    if query:
        digits = "".join(query.split())
        pattern = f"%{escape_like(query)}%"
        matches = [Organisation.name.ilike(pattern, escape="\\")]
        if digits.isdigit():
            matches.append(Organisation.siret.startswith(digits, autoescape=True))
            matches.append(Organisation.siren == digits[:9])
        conditions.append(or_(*matches))
    if kind:
        conditions.append(Organisation.kind == kind)
    if status:
        conditions.append(Organisation.status == status)
    if members == "with":
        conditions.append(counts.c.members.is_not(None))
    elif members == "without":
        conditions.append(counts.c.members.is_(None))
    return conditions


def admin_listing(
    *,
    query: str = "",
    kind: str = "",
    status: str = "",
    members: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> OrganisationPage:
    """Organisations matching the filters, by name, with their member counts: two queries."""
    counts = (
        select(User.organisation_id.label("organisation_id"), func.count(User.id).label("members"))
        .where(User.organisation_id.is_not(None))
        .group_by(User.organisation_id)
        .subquery()
    )
    conditions = _conditions(query.strip(), kind, status, members, counts)
    joined = select(Organisation).outerjoin(counts, counts.c.organisation_id == Organisation.id)
    total = (
        db.session.scalar(joined.with_only_columns(func.count(Organisation.id)).where(*conditions))
        or 0
    )
    rows = db.session.execute(
        joined.add_columns(func.coalesce(counts.c.members, 0))
        .where(*conditions)
        .options(joinedload(Organisation.parent))
        .order_by(func.lower(Organisation.name), Organisation.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return OrganisationPage(
        items=[(organisation, count) for organisation, count in rows],
        total=total,
        page=page,
        per_page=per_page,
    )
