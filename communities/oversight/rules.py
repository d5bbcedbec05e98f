"""Who may ask for, see and end an administrator's exceptional access to a community.

- ``request_access``: platform administrators, on a local secret or private community (public
  content is readable anyway); not implied by the admin role, the rule decides;
- a grant is seen (notifications, history) by the community's owners and facilitators and by the
  administrator who holds it;
- ``end_access``: the same people; every administrator may end any grant (``can()`` lets admins
  through without a grant of their own, the action reveals no content).
"""

from __future__ import annotations

from maillage.communities.community.models import Community, Visibility
from maillage.communities.oversight.models import AccessGrant
from maillage.communities.permissions import MANAGING_ROLES, can, role_in, rule


@rule(Community, "request_access")
def _request_access(user, community):
    return (
        can(user, "admin")
        and community.local
        and community.visibility in (Visibility.SECRET, Visibility.PRIVATE)
    )


@rule(AccessGrant, "view", "end_access")
def _grant_concerns(user, grant):
    return user is not None and (
        grant.admin_id == user.id or role_in(user, grant.community) in MANAGING_ROLES
    )
