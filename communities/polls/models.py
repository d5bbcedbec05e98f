"""Polls and surveys: a poll has one or more questions, each with its options.

A "poll" is a one-question survey; both are :class:`Poll`.  Who voted is stored in
:class:`PollParticipation` (one row per person and poll, unique in the database: one vote per
member).  What they chose depends on the kind of poll:

- **named** polls keep one :class:`PollChoice` row per chosen option, linked to the participation
  (so results can say who voted what, and a vote can be replaced until the poll closes);
- **anonymous** polls keep no row per ballot at all: a vote only adds 1 to the chosen options'
  ``vote_count``.  Nothing in the database links a person to a choice — not a user id, not a
  timestamp, not a ballot row whose id or insertion order would match the participation's.
  Consequently an anonymous vote cannot be changed: nobody, not even the voter, can find it again.

``vote_count`` is kept for both kinds (recounted from the choice rows after a named vote), so
results read a few rows whatever the number of voters.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class ResultsVisibility:
    ALWAYS = "always"
    AFTER_VOTE = "after_vote"
    AFTER_CLOSE = "after_close"
    ALL = (ALWAYS, AFTER_VOTE, AFTER_CLOSE)


class Poll(db.Model):
    __tablename__ = "polls"
    __table_args__ = (Index("ix_polls_community_created", "community_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    results_visibility: Mapped[str] = mapped_column(String(16), default=ResultsVisibility.ALWAYS)
    # Optional closing date; past it, the poll is closed even before ``closed_at`` is written
    # (the periodic task writes it and tells the voters).
    closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # People who voted; kept by the operations so lists never count rows.
    voter_count: Mapped[int] = mapped_column(Integer, default=0)
    ap_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    questions: Mapped[list[PollQuestion]] = relationship(
        back_populates="poll", order_by="PollQuestion.position", cascade="all, delete-orphan"
    )

    def is_closed(self, now: dt.datetime | None = None) -> bool:
        """Closed by hand, or past its closing date (computed: no task needs to have run)."""
        if self.closed_at is not None:
            return True
        return self.closes_at is not None and self.closes_at <= (now or utcnow())

    @property
    def closed(self) -> bool:
        return self.is_closed()

    @property
    def is_survey(self) -> bool:
        return len(self.questions) > 1

    def __repr__(self) -> str:
        return f"<Poll {self.id} in {self.community_id}>"


class PollQuestion(db.Model):
    __tablename__ = "poll_questions"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(300))
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    # For a multiple-choice question: at most this many options (None: no limit).
    max_choices: Mapped[int | None] = mapped_column(Integer)

    poll: Mapped[Poll] = relationship(back_populates="questions")
    options: Mapped[list[PollOption]] = relationship(
        back_populates="question", order_by="PollOption.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<PollQuestion {self.id} of poll {self.poll_id}>"


class PollOption(db.Model):
    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("question_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The poll too (not only the question): a vote checks its options in one query.
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("poll_questions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    vote_count: Mapped[int] = mapped_column(Integer, default=0)

    poll: Mapped[Poll] = relationship()
    question: Mapped[PollQuestion] = relationship(back_populates="options")

    def __repr__(self) -> str:
        return f"<PollOption {self.id} of question {self.question_id}>"


class PollParticipation(db.Model):
    """That someone voted in a poll (never what they chose, for an anonymous poll)."""

    __tablename__ = "poll_participations"
    # One vote per person and poll, enforced by the database.
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    voted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<PollParticipation {self.user_id} in poll {self.poll_id}>"


class PollChoice(db.Model):
    """An option chosen in a *named* poll (anonymous polls have no such rows)."""

    __tablename__ = "poll_choices"
    __table_args__ = (UniqueConstraint("participation_id", "option_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    participation_id: Mapped[int] = mapped_column(
        ForeignKey("poll_participations.id", ondelete="CASCADE")
    )
    option_id: Mapped[int] = mapped_column(
        ForeignKey("poll_options.id", ondelete="CASCADE"), index=True
    )

    def __repr__(self) -> str:
        return f"<PollChoice option {self.option_id} of participation {self.participation_id}>"
