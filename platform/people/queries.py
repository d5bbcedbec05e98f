"""Reads of the people administration: the filtered list and one person's file.

The list costs two statements whatever the page size (the page, then the identity providers of
the people on it); offset pagination is capped (``MAX_PAGE`` pages of ``PER_PAGE``): past that,
filters narrow the search.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased, joinedload

from maillage.auth.identities.models import Identity
from maillage.communities.community.models import Membership
from maillage.communities.organisations.models import Organisation
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import escape_like, utcnow
from maillage.platform.extensions import db

PER_PAGE = 50
MAX_PAGE = 200
#: « not seen for N days » filters (people never seen count as not seen)
LAST_VISIT_DAYS = (30, 90, 365)
STATUSES = ("active", "suspended", "deletion")
LOCAL_PROVIDER = "local"
AUDIT_ENTRIES = 30


@dataclass(frozen=True)
class PeopleFilters:
    q: str = ""
    organisation: int | None = None
    provider: str = ""  # "local" (a password) or a configured provider's name
    role: str = ""  # admin, trainer, ambassador
    last_visit: str = ""  # "never" or a number of days from LAST_VISIT_DAYS
    status: str = ""  # one of STATUSES
    remote: bool = False  # include people of other instances

    def active(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value}


@dataclass
class PersonRow:
    user: User
    providers: list[str]


def _status_clause(status: str):
    deletion = or_(User.deletion_requested_at.is_not(None), User.deleted_at.is_not(None))
    if status == "suspended":
        return User.suspended_at.is_not(None) & ~deletion
    if status == "deletion":
        return deletion
    return User.is_active.is_(True) & User.suspended_at.is_(None) & ~deletion


def _last_visit_clause(last_visit: str, now: dt.datetime):
    if last_visit == "never":
        return User.last_seen_at.is_(None)
    cutoff = now - dt.timedelta(days=int(last_visit))
    return or_(User.last_seen_at.is_(None), User.last_seen_at < cutoff)


def _provider_clause(provider: str):
    if provider == LOCAL_PROVIDER:
        return User.password_hash.is_not(None)
    return exists().where(Identity.user_id == User.id, Identity.provider == provider)


def people_statement(filters: PeopleFilters, now: dt.datetime | None = None):
    """The SELECT of the people matching ``filters``, in name order."""
    statement = select(User)
    if not filters.remote:
        statement = statement.where(User.local.is_(True))
    if filters.q:
        pattern = f"%{escape_like(filters.q)}%"
        statement = statement.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (User.display_name, User.username, User.email, User.job_title)
                )
            )
        )
    if filters.organisation:
        statement = statement.where(User.organisation_id == filters.organisation)
    if filters.provider:
        statement = statement.where(_provider_clause(filters.provider))
    if filters.role in ("admin", "trainer", "ambassador"):
        statement = statement.where(getattr(User, f"is_{filters.role}").is_(True))
    if filters.last_visit:
        statement = statement.where(_last_visit_clause(filters.last_visit, now or utcnow()))
    if filters.status in STATUSES:
        statement = statement.where(_status_clause(filters.status))
    return statement.order_by(User.display_name, User.id)


def people_page(
    filters: PeopleFilters, page: int = 1, per_page: int = PER_PAGE
) -> tuple[list[PersonRow], bool]:
    """One page of people (with their organisation and sign-in providers) and whether another
    page follows: two statements."""
    page = min(max(page, 1), MAX_PAGE)
    users = list(
        db.session.scalars(
            people_statement(filters)
            .options(joinedload(User.organisation))
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        ).unique()
    )
    has_next = len(users) > per_page and page < MAX_PAGE
    users = users[:per_page]
    providers = providers_of([user.id for user in users])
    return [PersonRow(user, providers.get(user.id, [])) for user in users], has_next


def providers_of(user_ids: list[int]) -> dict[int, list[str]]:
    """The identity providers each user signs in with (one statement)."""
    found: dict[int, list[str]] = {}
    if not user_ids:
        return found
    rows = db.session.execute(
        select(Identity.user_id, Identity.provider)
        .where(Identity.user_id.in_(user_ids))
        .order_by(Identity.provider)
    )
    for user_id, provider in rows:
        found.setdefault(user_id, []).append(provider)
    return found


def organisation_choices() -> list[tuple[int, str]]:
    return list(
        db.session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))
    )


# -- one person --------------------------------------------------------------------------------


def identities_of(user: User) -> list[Identity]:
    return list(
        db.session.scalars(
            select(Identity).where(Identity.user_id == user.id).order_by(Identity.created_at)
        )
    )


def memberships_of(user: User, viewer: User) -> tuple[list[Membership], int]:
    """The memberships of ``user`` that ``viewer`` may see, and how many others there are.

    A community's member list is content: an administrator sees it only where they may read the
    community (public, member, or under an access grant).  Owners are public facts of a
    community, so ownership is always shown; the rest of a private or secret community's
    memberships is only counted.
    """
    from maillage.communities.community.models import Community, Role
    from maillage.communities.permissions import readable_community_ids_clause

    shown = (Membership.role == Role.OWNER) | readable_community_ids_clause(viewer)
    rows = db.session.execute(
        select(Membership, shown.label("shown"))
        .join(Community, Community.id == Membership.community_id)
        .where(Membership.user_id == user.id)
        .options(joinedload(Membership.community))
        .order_by(Membership.created_at)
    ).all()
    return [membership for membership, visible in rows if visible], sum(
        1 for _membership, visible in rows if not visible
    )


def audit_about(user: User, limit: int = AUDIT_ENTRIES) -> list[tuple[AuditEntry, User | None]]:
    """The latest audit entries whose object is ``user``, with who acted (one statement)."""
    actor = aliased(User)
    rows = db.session.execute(
        select(AuditEntry, actor)
        .outerjoin(actor, actor.id == AuditEntry.actor_id)
        .where(AuditEntry.object_type == "user", AuditEntry.object_id == user.id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [(entry, who) for entry, who in rows]
