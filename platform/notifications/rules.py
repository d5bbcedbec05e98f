"""Permission rules for notifications: a notice is its recipient's alone."""

from __future__ import annotations

from maillage.communities.permissions import rule
from maillage.platform.notifications.models import Notification


@rule(Notification, "view")
def _own_notification(user, notification):
    return user is not None and notification.recipient_id == user.id
