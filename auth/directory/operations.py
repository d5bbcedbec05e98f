"""The directory sync: what a person's groups give them, granted and taken back.

One implementation for every provider with ``group_mappings``: LDAP groups and OIDC ``groups``
claims follow the same rules.  Called at each sign-in through such a provider (``subscribers``)
and, for directories, by the periodic sync (``sync``), with the groups the provider gives the
person now:

- community memberships: one :class:`DirectoryGrant` per (person, community, provider, group).
  A new grant adds the membership (``via_directory``) when the person is not a member yet, or
  raises their role when the group gives a higher one.  When the last grant of a community goes,
  the membership goes too — only if the directory created it (a person who joined by hand stays)
  and never the community's last owner.  A person who left a community (or was removed by a
  facilitator) while still in the group is not added back: memberships are created when a grant
  is created, not at every sync;
- platform roles (``is_admin``, ``is_trainer``): granted by a group; taken away only for the
  roles the provider lists in ``managed_platform_roles``, and never from the last administrator;
- organisation: the SIRET the entry or the claims give, else the first organisation mapping of
  the person's groups.

Every grant and removal is in the audit log (actor: nobody, the directory).  The caller commits.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from maillage.auth.directory.mappings import DirectoryMappings, GroupMapping
from maillage.auth.directory.models import DirectoryGrant
from maillage.auth.identities.info import IdentityInfo
from maillage.communities.community import operations as community_operations
from maillage.communities.community.models import Community, Membership, Role
from maillage.communities.community.operations import ROLE_RANK, membership_of
from maillage.communities.organisations.operations import organisation_for_siret
from maillage.communities.permissions import forget_roles
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.errors import Conflict, OperationError
from maillage.platform.extensions import db

logger = logging.getLogger(__name__)


def apply_directory(
    user: User, provider: str, mappings: DirectoryMappings, info: IdentityInfo | None
) -> None:
    """Bring ``user`` in line with what directory ``provider`` says now (``info``; None when the
    directory no longer knows the person: every group-given right goes, nothing else)."""
    groups = info.groups if info is not None else ()
    matched = mappings.matching(groups)
    if info is not None:
        _apply_organisation(user, provider, info, mappings)
    sync_memberships(user, provider, [mapping for mapping in matched if mapping.community])
    sync_platform_roles(user, provider, mappings, matched)


# -- organisation ------------------------------------------------------------------------------


def _apply_organisation(
    user: User, provider: str, info: IdentityInfo, mappings: DirectoryMappings
) -> None:
    siret = info.organisation_siret or mappings.organisation_siret(info.groups)
    if not siret:
        return
    try:
        organisation = organisation_for_siret(siret, info.organisation_name, info.organisation_kind)
    except OperationError:
        logger.warning("directory %s: malformed SIRET for user %s", provider, user.id)
        return
    if user.organisation_id != organisation.id:
        previous = user.organisation_id
        user.organisation = organisation
        record(
            None,
            "directory.organisation_changed",
            user,
            provider=provider,
            previous=previous,
            organisation=organisation.id,
        )


# -- community memberships ---------------------------------------------------------------------


def sync_memberships(user: User, provider: str, matched: list[GroupMapping]) -> None:
    """Create, update and delete ``user``'s grants of ``provider`` to match ``matched``, then
    fix the memberships of every community whose grants changed."""
    communities = _communities({mapping.community for mapping in matched})
    wanted: dict[tuple[int, str], str] = {}
    for mapping in matched:
        community = communities.get(mapping.community)
        if community is None:
            logger.warning("directory %s: no community %r", provider, mapping.community)
            continue
        key = (community.id, mapping.group)
        if ROLE_RANK[mapping.role] > ROLE_RANK.get(wanted.get(key), -1):
            wanted[key] = mapping.role
    grants = {
        (grant.community_id, grant.group): grant
        for grant in db.session.scalars(
            select(DirectoryGrant).where(
                DirectoryGrant.user_id == user.id, DirectoryGrant.provider == provider
            )
        )
    }
    added, lowered = _write_grants(user, provider, wanted, grants)
    for community_id in sorted(added | lowered):
        community = db.session.get(Community, community_id)
        _reconcile(user, community, created=community_id in added, lowered=community_id in lowered)


def _communities(slugs: set[str]) -> dict[str, Community]:
    if not slugs:
        return {}
    found = db.session.scalars(select(Community).where(Community.slug.in_(slugs)))
    return {community.slug: community for community in found}


def _write_grants(
    user: User, provider: str, wanted: dict, grants: dict
) -> tuple[set[int], set[int]]:
    """Store the grants; returns the communities that gained a grant (or a higher role) and
    those that lost one (or got a lower role)."""
    added: set[int] = set()
    lowered: set[int] = set()
    for (community_id, group), role in wanted.items():
        grant = grants.get((community_id, group))
        if grant is None:
            if _insert_grant(user, community_id, provider, group, role):
                added.add(community_id)
                _audit_grant("directory.grant_added", user, community_id, provider, group, role)
        elif grant.role != role:
            (added if ROLE_RANK[role] > ROLE_RANK.get(grant.role, 0) else lowered).add(community_id)
            grant.role = role
            _audit_grant("directory.grant_changed", user, community_id, provider, group, role)
    for key, grant in grants.items():
        if key not in wanted:
            db.session.delete(grant)
            lowered.add(grant.community_id)
            _audit_grant(
                "directory.grant_removed", user, grant.community_id, provider, grant.group, None
            )
    db.session.flush()
    return added, lowered - added


def _insert_grant(user: User, community_id: int, provider: str, group: str, role: str) -> bool:
    """Store a new grant; False when a concurrent sign-in or sync stored it first."""
    grant = DirectoryGrant(
        user_id=user.id, community_id=community_id, provider=provider, group=group, role=role
    )
    try:
        # begin_nested() flushes what is pending first: add the row inside the savepoint.
        with db.session.begin_nested():
            db.session.add(grant)
            db.session.flush()
    except IntegrityError:
        return False
    return True


def _audit_grant(action, user, community_id, provider, group, role) -> None:
    community = db.session.get(Community, community_id)
    record(None, action, community, user=user.id, provider=provider, group=group, role=role)


def _granted_role(user: User, community: Community) -> str | None:
    """The highest role the remaining grants (of any directory) give in ``community``."""
    roles = db.session.scalars(
        select(DirectoryGrant.role).where(
            DirectoryGrant.user_id == user.id, DirectoryGrant.community_id == community.id
        )
    ).all()
    return max(roles, key=lambda role: ROLE_RANK.get(role, 0), default=None)


def _reconcile(user: User, community: Community, created: bool, lowered: bool) -> None:
    granted = _granted_role(user, community)
    if granted is not None:  # facilitator/owner only with the certificate, when required
        granted = community_operations.grantable_role(user, granted)
    membership = membership_of(community, user)
    if granted is None:
        if membership is not None and membership.via_directory:
            _remove(user, community, membership)
        return
    if membership is None:
        if created:
            _add(user, community, granted)
        return
    current, wanted = ROLE_RANK.get(membership.role, 0), ROLE_RANK[granted]
    # Raised for any membership; lowered only for the directory's own, never from owner.
    lower = lowered and membership.via_directory and membership.role != Role.OWNER
    if wanted > current or (lower and wanted < current):
        _set_role(user, community, membership, granted)


def _add(user: User, community: Community, role: str) -> None:
    try:
        membership = community_operations.add_membership(community, user, role)
    except Conflict:  # joined at the same moment: a membership made by hand
        return
    membership.via_directory = True
    record(None, "directory.membership_added", community, user=user.id, role=role)


def _remove(user: User, community: Community, membership: Membership) -> None:
    if membership.role == Role.OWNER and community_operations.owner_count(community, True) <= 1:
        record(None, "directory.membership_kept", community, user=user.id, reason="last_owner")
        return
    community_operations.remove_membership(community, user)
    record(None, "directory.membership_removed", community, user=user.id, role=membership.role)


def _set_role(user: User, community: Community, membership: Membership, role: str) -> None:
    previous, membership.role = membership.role, role
    forget_roles(user)
    record(None, "directory.role_changed", community, user=user.id, previous=previous, role=role)


# -- platform roles ----------------------------------------------------------------------------


def sync_platform_roles(
    user: User, provider: str, mappings: DirectoryMappings, matched: list[GroupMapping]
) -> None:
    granted = {mapping.platform_role for mapping in matched if mapping.platform_role}
    for role in ("admin", "trainer"):
        attribute = f"is_{role}"
        has_role = getattr(user, attribute)
        if role in granted and not has_role:
            setattr(user, attribute, True)
            record(None, "directory.platform_role_added", user, provider=provider, role=role)
        elif role not in granted and has_role and role in mappings.managed_platform_roles:
            if role == "admin" and not _other_admins(user):
                record(None, "directory.platform_role_kept", user, role=role, reason="last_admin")
                continue
            setattr(user, attribute, False)
            record(None, "directory.platform_role_removed", user, provider=provider, role=role)


def _other_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.is_admin.is_(True), User.is_active.is_(True), User.id != user.id
        )
    )
