"""Reads: the bell's count, the notifications page, and each person's e-mail mode."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.notifications.models import (
    MODES,
    Mode,
    Notification,
    NotificationPreference,
)

#: The bell shows "99+" beyond this: counting stops there, however many are unread.
BELL_CAP = 99


def instance_default_mode() -> str:
    """The mode of people who chose nothing (``NOTIFICATIONS_DEFAULT_MODE``, daily by default)."""
    mode = current_app.config.get("NOTIFICATIONS_DEFAULT_MODE", Mode.DAILY)
    return mode if mode in MODES else Mode.DAILY.value


# -- the bell ----------------------------------------------------------------------------------


def unread_count(user: User, cap: int = BELL_CAP) -> int:
    """Unread notices of ``user``, counted up to ``cap + 1`` (one index range scan)."""
    capped = (
        select(Notification.id)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .limit(cap + 1)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(capped))


def unread_count_for_request(user: User | None) -> int | None:
    """The bell's count, queried at most once per request (``None``: nothing to show)."""
    if user is None:
        return None
    if "_notifications_unread" not in g:
        try:
            g._notifications_unread = unread_count(user)
        except SQLAlchemyError:  # an error page after a failed transaction still renders
            current_app.logger.warning("unread notification count unavailable", exc_info=True)
            g._notifications_unread = None
    return g._notifications_unread


def forget_unread_count() -> None:
    g.pop("_notifications_unread", None)


# -- the notifications page --------------------------------------------------------------------


@dataclass
class Page:
    items: list[Notification]
    next_cursor: str | None


def encode_cursor(notification: Notification) -> str:
    raw = f"{notification.created_at.isoformat()}|{notification.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[dt.datetime, int] | None:
    """Invalid cursors read as "from the start" rather than an error page."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, key = raw.split("|")
        moment, identifier = dt.datetime.fromisoformat(stamp), int(key)
    except ValueError:
        return None
    return (moment, identifier) if moment.tzinfo is not None else None


def notification_page(user: User, cursor: str | None = None, limit: int = 30) -> Page:
    """``user``'s notices newest first, with actors and communities: one query."""
    statement = select(Notification).where(Notification.recipient_id == user.id)
    position = decode_cursor(cursor)
    if position is not None:
        stamp, identifier = position
        statement = statement.where(
            (Notification.created_at < stamp)
            | ((Notification.created_at == stamp) & (Notification.id < identifier))
        )
    statement = (
        statement.options(joinedload(Notification.actor), joinedload(Notification.community))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit + 1)
    )
    items = list(db.session.scalars(statement))
    next_cursor = encode_cursor(items[limit - 1]) if len(items) > limit else None
    return Page(items[:limit], next_cursor)


def notification_of(user: User, notification_id: int) -> Notification | None:
    """One of ``user``'s own notices (anyone else's reads as missing)."""
    return db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.recipient_id == user.id
        )
    )


# -- preferences -------------------------------------------------------------------------------


def preferences_of(user: User) -> tuple[str | None, dict[int, str]]:
    """(the person's own default or None, {community_id: mode}) in one query."""
    default, per_community = None, {}
    rows = db.session.execute(
        select(NotificationPreference.community_id, NotificationPreference.mode).where(
            NotificationPreference.user_id == user.id
        )
    )
    for community_id, mode in rows:
        if community_id is None:
            default = mode
        else:
            per_community[community_id] = mode
    return default, per_community


def modes_for(user_ids: Iterable[int], community_id: int | None) -> dict[int, str]:
    """The effective mode of each person for one community (their choice there, else their
    default, else the instance's), with one query per 500 people."""
    ids = list(dict.fromkeys(user_ids))
    fallback = instance_default_mode()
    defaults: dict[int, str] = {}
    chosen: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        scope = NotificationPreference.community_id.is_(None)
        if community_id is not None:
            scope = scope | (NotificationPreference.community_id == community_id)
        rows = db.session.execute(
            select(
                NotificationPreference.user_id,
                NotificationPreference.community_id,
                NotificationPreference.mode,
            ).where(NotificationPreference.user_id.in_(chunk), scope)
        )
        for user_id, row_community, mode in rows:
            (defaults if row_community is None else chosen)[user_id] = mode
    return {uid: chosen.get(uid) or defaults.get(uid) or fallback for uid in ids}


def effective_mode_clause(default_row, community_row):
    """SQL for the effective mode of a notice, given the two joined preference rows."""
    return func.coalesce(community_row.mode, default_row.mode, instance_default_mode())
