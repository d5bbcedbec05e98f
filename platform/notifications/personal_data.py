"""Notifications and e-mail preferences: exported, deleted with the account.

Notices the person caused for others (``actor_id``) are someone else's: they stay, pointing at
the anonymised users row.
"""

from __future__ import annotations

from sqlalchemy import select

from maillage.platform.notifications.models import Notification, NotificationPreference
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _export_notifications(user) -> list[dict]:
    statement = select(
        Notification.id,
        Notification.community_id,
        Notification.reason,
        Notification.title,
        Notification.url,
        Notification.created_at,
        Notification.read_at,
        Notification.emailed_at,
    ).where(Notification.recipient_id == user.id)
    return export_rows(statement, Notification.id)


def _erase_notifications(user, _erasure) -> None:
    delete_rows(Notification, Notification.recipient_id == user.id)


def _export_preferences(user) -> list[dict]:
    statement = select(
        NotificationPreference.id,
        NotificationPreference.community_id,
        NotificationPreference.mode,
        NotificationPreference.updated_at,
    ).where(NotificationPreference.user_id == user.id)
    return export_rows(statement, NotificationPreference.id)


def _erase_preferences(user, _erasure) -> None:
    delete_rows(NotificationPreference, NotificationPreference.user_id == user.id)


holds_personal_data(
    Notification,
    section="notifications",
    export=_export_notifications,
    erase=_erase_notifications,
    other_people_columns=("actor_id",),
)
holds_personal_data(
    NotificationPreference,
    section="notification_preferences",
    export=_export_preferences,
    erase=_erase_preferences,
)
