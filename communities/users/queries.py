"""Reads on people shared by the profile, the member directory, sign-up and sign-in.

Each function runs a fixed number of queries whatever the amount of data (no N+1): listings load
organisations in the same statement and are paginated.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from maillage.communities.community.models import Community, Membership
from maillage.communities.organisations.models import Organisation
from maillage.communities.permissions import (
    can,
    readable_community_ids_clause,
    visible_community_ids_clause,
)
from maillage.communities.posts.models import Post
from maillage.communities.users.models import User
from maillage.platform.db import escape_like
from maillage.platform.extensions import db

PROFILE_COMMUNITIES_LIMIT = 100
PROFILE_POSTS_LIMIT = 10


def user_by_username(username: str) -> User | None:
    """The person with this username (usernames are stored lowercase)."""
    return db.session.scalar(select(User).where(User.username == username.strip().lower()))


def local_user_by_email(email: str) -> User | None:
    """The local account registered with this (already normalised) address."""
    return db.session.scalar(select(User).where(User.email == email, User.local.is_(True)))


def username_taken(username: str) -> bool:
    """Used now, or by an account that was deleted (its ActivityPub id is never reused)."""
    from maillage.federation.actors.tombstones import username_retired

    return (
        db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
        is not None
    ) or username_retired(username)


def organisations() -> list[Organisation]:
    """The organisations offered in pickers (active ones), by kind then name; a form keeps its
    current value even when pending or deactivated (see ``OrganisationField.load``)."""
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.status == "active")
            .order_by(Organisation.kind, Organisation.name, Organisation.id)
        )
    )


def visible_communities_of(
    person: User, viewer: User | None, limit: int = PROFILE_COMMUNITIES_LIMIT
) -> list[tuple[Community, str]]:
    """``(community, role)`` for the communities of ``person`` that ``viewer`` may see.

    The SQL condition comes from the permission policy and the result is checked again with
    ``can``: a secret community never appears to someone outside it.
    """
    rows = db.session.execute(
        select(Community, Membership.role)
        .join(Membership, Membership.community_id == Community.id)
        .where(Membership.user_id == person.id, visible_community_ids_clause(viewer))
        .order_by(Community.name, Community.id)
        .limit(limit)
    )
    return [(community, role) for community, role in rows if can(viewer, "view", community)]


def recent_posts_by(
    person: User, viewer: User | None, limit: int = PROFILE_POSTS_LIMIT
) -> list[Post]:
    """The latest posts of ``person`` in communities whose content ``viewer`` may read."""
    posts = db.session.scalars(
        select(Post)
        .join(Post.community)
        .where(Post.author_id == person.id, readable_community_ids_clause(viewer))
        .options(contains_eager(Post.community))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )
    return [post for post in posts if can(viewer, "view", post)]


@dataclass
class DirectoryPage:
    items: list[User]
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


def _directory_conditions(query: str, kind: str, organisation_id: int | None) -> list:
    conditions = [User.is_active.is_(True), User.local.is_(True)]
    if query:
        pattern = f"%{escape_like(query)}%"
        conditions.append(
            or_(
                User.display_name.ilike(pattern, escape="\\"),
                User.username.ilike(pattern, escape="\\"),
            )
        )
    if kind:
        conditions.append(
            User.organisation_id.in_(select(Organisation.id).where(Organisation.kind == kind))
        )
    if organisation_id:
        conditions.append(User.organisation_id == organisation_id)
    return conditions


def directory(
    *,
    query: str = "",
    kind: str = "",
    organisation_id: int | None = None,
    page: int = 1,
    per_page: int = 24,
) -> DirectoryPage:
    """Active local members matching the filters, by name: one page and the total, in two
    queries (the organisation of each person comes in the same statement)."""
    conditions = _directory_conditions(query.strip(), kind, organisation_id)
    total = db.session.scalar(select(func.count(User.id)).where(*conditions)) or 0
    items = list(
        db.session.scalars(
            select(User)
            .where(*conditions)
            .order_by(func.lower(User.display_name), User.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return DirectoryPage(items=items, total=total, page=page, per_page=per_page)
