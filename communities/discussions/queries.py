"""Reads of the discussion pages, each a bounded number of queries whatever the page holds.

Read state: a member's ``TopicRead`` says up to when they read a topic; without one, their
``DiscussionReadMark`` of the community ("tout marquer comme lu") says it; without either, the topic
is new to them.  The topic list computes, in its one query, whether each topic is unread and how
many replies came since.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import joinedload

from maillage.communities.community.models import Community
from maillage.communities.discussions.models import (
    DiscussionReadMark,
    DiscussionReply,
    DiscussionTopic,
    TopicRead,
)
from maillage.communities.discussions.operations import tracks_reading
from maillage.communities.users.models import User
from maillage.platform.db import UTCDateTime
from maillage.platform.extensions import db

ALL, UNANSWERED, UNREAD = "all", "unanswered", "unread"
FILTERS = (ALL, UNANSWERED, UNREAD)


@dataclass
class TopicItem:
    """A topic in the list, with the viewer's read state (``tracked`` False: not a member)."""

    topic: DiscussionTopic
    tracked: bool = False
    #: the viewer never opened it (and did not mark everything read since it started)
    new: bool = False
    #: something happened since the viewer last read it
    unread: bool = False
    #: replies posted since the viewer last read it
    new_replies: int = 0


def read_mark(viewer: User, community: Community) -> dt.datetime | None:
    mark = db.session.get(DiscussionReadMark, (viewer.id, community.id))
    return mark.all_read_at if mark is not None else None


def _seen_column(viewer: User, community: Community):
    """SQL for "the viewer has read this topic until": their TopicRead, else their mark."""
    mark_at = read_mark(viewer, community)
    if mark_at is None:
        return TopicRead.last_read_at
    return func.coalesce(TopicRead.last_read_at, literal(mark_at, UTCDateTime()))


def _new_replies_count(seen):
    return (
        select(func.count(DiscussionReply.id))
        .where(
            DiscussionReply.topic_id == DiscussionTopic.id,
            DiscussionReply.deleted_at.is_(None),
            DiscussionReply.created_at > seen,
        )
        .scalar_subquery()
    )


def topic_list(
    community: Community,
    viewer: User | None,
    show: str = ALL,
    page: int = 1,
    per_page: int = 30,
) -> tuple[list[TopicItem], int]:
    """A page of the community's topics (pinned first, then by last activity) and their total.

    Queries: one for the page (topics, authors, read states, new reply counts), one for the
    total, and one for the viewer's "all read" mark when they are a member.
    """
    # Hidden topics are left out: their author and the moderators reach them by their link.
    statement = select(DiscussionTopic).where(
        DiscussionTopic.community_id == community.id, DiscussionTopic.hidden_at.is_(None)
    )
    if show == UNANSWERED:
        statement = statement.where(DiscussionTopic.answered_reply_id.is_(None))
    tracked = tracks_reading(viewer, community)
    if tracked:
        statement = statement.outerjoin(
            TopicRead,
            and_(TopicRead.topic_id == DiscussionTopic.id, TopicRead.user_id == viewer.id),
        )
        seen = _seen_column(viewer, community)
        unread = or_(seen.is_(None), DiscussionTopic.last_activity_at > seen)
        if show == UNREAD:
            statement = statement.where(unread)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    if tracked:
        statement = statement.add_columns(seen.is_(None), unread, _new_replies_count(seen))
    rows = db.session.execute(
        statement.options(joinedload(DiscussionTopic.author))
        .order_by(
            DiscussionTopic.pinned.desc(),
            DiscussionTopic.last_activity_at.desc(),
            DiscussionTopic.id.desc(),
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    if not tracked:
        return [TopicItem(row[0]) for row in rows], total
    items = [
        TopicItem(topic, True, bool(new), bool(unread), count or 0)
        for topic, new, unread, count in rows
    ]
    return items, total


def topic_in(community: Community, topic_id: int) -> DiscussionTopic | None:
    """The topic ``topic_id`` if it belongs to ``community``, with its author."""
    return db.session.scalar(
        select(DiscussionTopic)
        .where(DiscussionTopic.id == topic_id, DiscussionTopic.community_id == community.id)
        .options(joinedload(DiscussionTopic.author))
    )


def topic_by_id(topic_id: int) -> DiscussionTopic | None:
    return db.session.scalar(
        select(DiscussionTopic)
        .where(DiscussionTopic.id == topic_id)
        .options(joinedload(DiscussionTopic.community))
    )


def reply_in(topic: DiscussionTopic, reply_id: int | None) -> DiscussionReply | None:
    """The reply ``reply_id`` if it belongs to ``topic``, with its author."""
    if reply_id is None:
        return None
    return db.session.scalar(
        select(DiscussionReply)
        .where(DiscussionReply.id == reply_id, DiscussionReply.topic_id == topic.id)
        .options(joinedload(DiscussionReply.author))
    )


def reply_by_id(reply_id: int) -> DiscussionReply | None:
    return db.session.scalar(
        select(DiscussionReply)
        .where(DiscussionReply.id == reply_id)
        .options(joinedload(DiscussionReply.topic).joinedload(DiscussionTopic.community))
    )


def reply_total(topic: DiscussionTopic) -> int:
    """Rows shown in the thread, deleted placeholders included (for the pages)."""
    return db.session.scalar(select(func.count()).where(DiscussionReply.topic_id == topic.id))


def reply_page(topic: DiscussionTopic, page: int, per_page: int) -> list[DiscussionReply]:
    """A page of the thread, oldest first, with authors and quoted replies, in one query."""
    return list(
        db.session.scalars(
            select(DiscussionReply)
            .where(DiscussionReply.topic_id == topic.id)
            .options(
                joinedload(DiscussionReply.author),
                joinedload(DiscussionReply.quoted).joinedload(DiscussionReply.author),
            )
            .order_by(DiscussionReply.created_at, DiscussionReply.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).unique()
    )


def page_of_reply(reply: DiscussionReply, per_page: int) -> int:
    """The page of its topic's thread that shows ``reply``."""
    before = db.session.scalar(
        select(func.count()).where(
            DiscussionReply.topic_id == reply.topic_id,
            or_(
                DiscussionReply.created_at < reply.created_at,
                and_(
                    DiscussionReply.created_at == reply.created_at,
                    DiscussionReply.id < reply.id,
                ),
            ),
        )
    )
    return before // per_page + 1


def answer_of(topic: DiscussionTopic) -> DiscussionReply | None:
    if topic.answered_reply_id is None:
        return None
    return reply_in(topic, topic.answered_reply_id)


def first_unread_reply(topic: DiscussionTopic, viewer: User) -> DiscussionReply | None:
    """The oldest reply the member has not read yet (None: nothing new, or never opened)."""
    read = db.session.get(TopicRead, (viewer.id, topic.id))
    seen = read.last_read_at if read is not None else read_mark(viewer, topic.community)
    if seen is None:
        return None
    return db.session.scalar(
        select(DiscussionReply)
        .where(
            DiscussionReply.topic_id == topic.id,
            DiscussionReply.deleted_at.is_(None),
            DiscussionReply.created_at > seen,
        )
        .order_by(DiscussionReply.created_at, DiscussionReply.id)
        .limit(1)
    )
