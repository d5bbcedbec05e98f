"""Notifications and e-mail preferences: exported, deleted with the account.

Notices the person caused for others (``actor_id``) are someone else's: they stay, pointing at
the anonymised users row, but their stored title no longer names the person (a join request's
notice reads « Ancien membre demande à rejoindre … »).
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from maillage.platform.extensions import db
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
    _unname_actor(user)


def _unname_actor(user) -> None:
    """Replace the person's display name in the titles of the notices they caused for others
    (called before the users row is anonymised, so the name is still known).  Titles name people
    by display name only (a join request's notice); the rest of a title is content, left as is."""
    from maillage.platform.account_deletion.operations import FORMER_MEMBER
    from maillage.platform.notifications.operations import TITLE_MAX

    name = user.display_name
    if not name or name == FORMER_MEMBER:
        return
    db.session.execute(
        update(Notification)
        .where(Notification.actor_id == user.id, Notification.title.contains(name, autoescape=True))
        .values(
            title=func.substr(func.replace(Notification.title, name, FORMER_MEMBER), 1, TITLE_MAX)
        )
        .execution_options(synchronize_session=False)
    )


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
