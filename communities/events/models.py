"""Events of a community, the answers of its members (RSVP), date polls and calendar feed keys.

Times are aware UTC in the database; each event and date poll keeps the IANA time zone its
organiser chose (``Europe/Paris`` by default) so pages and iCalendar files show local times that
stay right across daylight saving changes.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db

DEFAULT_TIMEZONE = "Europe/Paris"


class Answer(enum.StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


class Availability(enum.StrEnum):
    YES = "yes"
    IF_NEED_BE = "if_need_be"
    NO = "no"


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        # A community's upcoming and past events, in date order.
        Index("ix_events_community_starts", "community_id", "starts_at", "id"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity_positive"),
        CheckConstraint("going_count >= 0", name="going_count_positive"),
        # ActivityPub ids are never reused: no rowid handed out again on SQLite (see
        # maillage.federation.actors.tombstones).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    place: Mapped[str] = mapped_column(String(300), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    # Seats taken ("yes" outside the waiting list), kept by the RSVP operations with conditional
    # UPDATEs so two last-seat answers at once cannot both get the seat.
    going_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # iCalendar SEQUENCE: bumped on every change calendar apps must pick up.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ap_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    organiser: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Event {self.id} in {self.community_id} at {self.starts_at:%Y-%m-%d %H:%M}>"


class Rsvp(db.Model):
    """One person's answer to one event; a "yes" beyond capacity waits (``waitlisted``)."""

    __tablename__ = "event_rsvps"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_event_rsvps_event_answer", "event_id", "answer", "waitlisted"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(String(8))
    waitlisted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The waiting list's order: when the person asked for a seat.
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        state = "waiting" if self.waitlisted else self.answer
        return f"<Rsvp {self.user_id} {state} to {self.event_id}>"


class DatePoll(db.Model):
    """A poll to choose a meeting slot; closing it creates the event (``event_id``)."""

    __tablename__ = "event_date_polls"
    __table_args__ = (Index("ix_event_date_polls_community_closed", "community_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    place: Mapped[str] = mapped_column(String(300), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))

    community: Mapped[Community] = relationship()
    organiser: Mapped[User] = relationship()
    event: Mapped[Event | None] = relationship()
    slots: Mapped[list[DatePollSlot]] = relationship(
        back_populates="poll", order_by=lambda: (DatePollSlot.starts_at, DatePollSlot.id)
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def __repr__(self) -> str:
        return f"<DatePoll {self.id} in {self.community_id} {'open' if self.is_open else 'closed'}>"


class DatePollSlot(db.Model):
    __tablename__ = "event_date_poll_slots"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("event_date_polls.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    poll: Mapped[DatePoll] = relationship(back_populates="slots")

    def __repr__(self) -> str:
        return f"<DatePollSlot {self.id} of {self.poll_id} at {self.starts_at:%Y-%m-%d %H:%M}>"


class DatePollAnswer(db.Model):
    """One member's availability for one slot."""

    __tablename__ = "event_date_poll_answers"
    __table_args__ = (UniqueConstraint("slot_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("event_date_poll_slots.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    availability: Mapped[str] = mapped_column(String(12))
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    slot: Mapped[DatePollSlot] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<DatePollAnswer {self.user_id} {self.availability} for slot {self.slot_id}>"


class CalendarFeedKey(db.Model):
    """The secret behind a person's calendar feed URL.

    The URL's token is an HMAC of (user id, ``nonce``) under the instance's secret key: the
    database alone does not reveal it, and the person revokes a leaked URL by rotating the nonce.
    """

    __tablename__ = "event_feed_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<CalendarFeedKey of {self.user_id}>"
