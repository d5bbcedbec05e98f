"""Reads shared by the poll pages, rules and operations; each is a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from flask import g, has_app_context
from flask_babel import format_percent
from flask_babel import ngettext as _n
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from maillage.communities.community.models import Community
from maillage.communities.polls.models import (
    Poll,
    PollChoice,
    PollOption,
    PollParticipation,
    PollQuestion,
)
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

ALL, OPEN, CLOSED = "tous", "ouverts", "clos"
STATES = (ALL, OPEN, CLOSED)
#: The request's cache of "has this person voted in this poll" answers.
VOTES_CACHE = "_maillage_poll_votes"

# Geometry of the SVG result charts (pixels; bars are a percentage of the chart's width).
CHART_ROW = 48
CHART_LABEL_MAX = 40


def _with_content(statement):
    return statement.options(
        joinedload(Poll.author).joinedload(User.organisation),
        joinedload(Poll.community),
        selectinload(Poll.questions).selectinload(PollQuestion.options),
    )


def poll_in(community: Community, poll_id: int | None) -> Poll | None:
    """A poll of ``community`` with its questions and options (three queries)."""
    if poll_id is None:
        return None
    return db.session.scalar(
        _with_content(select(Poll).where(Poll.id == poll_id, Poll.community_id == community.id))
    )


def poll_by_id(poll_id: int) -> Poll | None:
    return db.session.scalar(
        select(Poll).where(Poll.id == poll_id).options(joinedload(Poll.community))
    )


def _open_clause(now: dt.datetime):
    return Poll.closed_at.is_(None) & or_(Poll.closes_at.is_(None), Poll.closes_at > now)


def poll_page(community: Community, state: str, page: int, size: int) -> tuple[list[Poll], int]:
    """A page of the community's polls, newest first, and how many match (two queries)."""
    criteria = [Poll.community_id == community.id]
    if state == OPEN:
        criteria.append(_open_clause(utcnow()))
    elif state == CLOSED:
        criteria.append(~_open_clause(utcnow()))
    total = db.session.scalar(select(func.count()).select_from(Poll).where(*criteria))
    polls = db.session.scalars(
        select(Poll)
        .where(*criteria)
        .options(joinedload(Poll.author).joinedload(User.organisation))
        .order_by(Poll.created_at.desc(), Poll.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return list(polls), total


def voted_poll_ids(user: User | None, poll_ids: list[int]) -> set[int]:
    if user is None or not poll_ids:
        return set()
    return set(
        db.session.scalars(
            select(PollParticipation.poll_id).where(
                PollParticipation.user_id == user.id, PollParticipation.poll_id.in_(poll_ids)
            )
        )
    )


def participation_of(poll: Poll, user: User) -> PollParticipation | None:
    return db.session.scalar(
        select(PollParticipation).where(
            PollParticipation.poll_id == poll.id, PollParticipation.user_id == user.id
        )
    )


def _votes_cache() -> dict:
    return g.setdefault(VOTES_CACHE, {}) if has_app_context() else {}


def has_voted(poll: Poll, user: User | None) -> bool:
    """Whether ``user`` voted in ``poll`` (one query, then cached for the request)."""
    if user is None or user.id is None:
        return False
    cache = _votes_cache()
    key = (poll.id, user.id)
    if key not in cache:
        cache[key] = participation_of(poll, user) is not None
    return cache[key]


def remember_vote(poll: Poll, user: User) -> None:
    _votes_cache()[(poll.id, user.id)] = True


def voters(poll: Poll) -> list[User]:
    """Everyone who voted (never what they chose)."""
    return list(
        db.session.scalars(
            select(User)
            .join(PollParticipation, PollParticipation.user_id == User.id)
            .where(PollParticipation.poll_id == poll.id)
            .order_by(User.id)
        ).unique()
    )


def my_choices(poll: Poll, user: User | None) -> set[int]:
    """The options ``user`` chose in a named poll (an anonymous poll cannot tell)."""
    if user is None or poll.anonymous:
        return set()
    return set(
        db.session.scalars(
            select(PollChoice.option_id)
            .join(PollParticipation, PollParticipation.id == PollChoice.participation_id)
            .where(PollParticipation.poll_id == poll.id, PollParticipation.user_id == user.id)
        )
    )


def voters_by_option(poll: Poll) -> dict[int, list[User]]:
    """Who chose each option of a named poll, by name (one query)."""
    if poll.anonymous:
        return {}
    rows = db.session.execute(
        select(PollChoice.option_id, User)
        .join(PollParticipation, PollParticipation.id == PollChoice.participation_id)
        .join(User, User.id == PollParticipation.user_id)
        .where(PollChoice.poll_id == poll.id)
        .order_by(User.display_name, User.id)
    ).all()
    people: dict[int, list[User]] = defaultdict(list)
    for option_id, user in rows:
        people[option_id].append(user)
    return people


# -- results -----------------------------------------------------------------------------------


@dataclass
class OptionResult:
    option: PollOption
    count: int
    #: share of the voters who chose it, 0 to 100 (over 100 in total for multiple choices)
    percent: float
    percent_text: str
    count_text: str
    leading: bool
    #: top of this option's row in the chart
    y: int

    @property
    def chart_label(self) -> str:
        label = self.option.label
        if len(label) > CHART_LABEL_MAX:
            label = label[: CHART_LABEL_MAX - 1].rstrip() + "…"
        return f"{label} : {self.count_text} ({self.percent_text})"

    @property
    def bar_width(self) -> str:
        """The bar's width in the chart, as an SVG percentage."""
        return f"{self.percent:.1f}%"


@dataclass
class QuestionResult:
    question: PollQuestion
    options: list[OptionResult]
    voters: int

    @property
    def height(self) -> int:
        return CHART_ROW * len(self.options) + 8

    @property
    def summary(self) -> str:
        """The chart's figures in words, for its accessible description."""
        return " ; ".join(
            f"{row.option.label} : {row.count_text} ({row.percent_text})" for row in self.options
        )


def results(poll: Poll) -> list[QuestionResult]:
    """Counts and percentages of each option (read from the loaded poll: no query)."""
    voters_total = poll.voter_count
    computed = []
    for question in poll.questions:
        top = max((option.vote_count for option in question.options), default=0)
        rows = []
        for index, option in enumerate(question.options):
            share = option.vote_count / voters_total if voters_total else 0.0
            rows.append(
                OptionResult(
                    option=option,
                    count=option.vote_count,
                    percent=min(share * 100, 100.0),
                    percent_text=format_percent(round(share, 2)),
                    count_text=_n("%(num)d vote", "%(num)d votes", option.vote_count),
                    leading=top > 0 and option.vote_count == top,
                    y=CHART_ROW * index,
                )
            )
        computed.append(QuestionResult(question, rows, voters_total))
    return computed


# -- search ------------------------------------------------------------------------------------


def poll_ids_in_community(session: Session, community_id: int):
    return session.scalars(
        select(Poll.id).where(Poll.community_id == community_id).order_by(Poll.id)
    )
