"""Who may see a sanction: the person it concerns, and the community's moderators.

The other moderation rights are Community rules in ``communities/permissions.py`` (``moderate``,
``mute``, ``ban``, ``view_audit``, ``report``, ``accept_invitation``) and per-content rules
(``report``, ``hide``, ``lock``) next to each content type's rules.
"""

from __future__ import annotations

from maillage.communities.moderation.models import Sanction
from maillage.communities.permissions import can, rule


@rule(Sanction, "view")
def _view_sanction(user, sanction):
    return user is not None and (
        sanction.user_id == user.id or can(user, "moderate", sanction.community)
    )
