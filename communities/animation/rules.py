"""Who animates a community: its owners and facilitators (admins pass every rule).

``animate`` covers announcements, scheduled posts and monthly summaries; a moderator does not
animate (content moderation only), members and guests neither.
"""

from __future__ import annotations

from maillage.communities.animation.models import ActivitySummary, Announcement, ScheduledPost
from maillage.communities.community.models import Community
from maillage.communities.permissions import MANAGING_ROLES, can, role_in, rule


@rule(Community, "animate")
def _animate(user, community):
    return role_in(user, community) in MANAGING_ROLES


@rule(Announcement, "view")
def _view_announcement(user, announcement):
    return can(user, "read", announcement.community)


@rule(Announcement, "edit")
@rule(ScheduledPost, "edit", "view")
@rule(ActivitySummary, "edit", "view")
def _manage(user, obj):
    return can(user, "animate", obj.community)
