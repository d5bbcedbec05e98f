"""Discussion topics, replies and reading marks in the personal data registry.

Reading marks are private traces: always deleted.  Topics and replies stay when the person keeps
their contributions.  Otherwise their replies go as ``delete_reply`` does it (one that others
quote stays as a « message supprimé » placeholder, its text erased; the topic's reply count is
kept), and their topics go as ``delete_topic`` does it, except a topic others answered: the
community keeps the conversation, so only the opening message's text is erased.
"""

from __future__ import annotations

from sqlalchemy import delete, exists, select, update

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.discussions.models import (
    DiscussionReadMark,
    DiscussionReply,
    DiscussionTopic,
    TopicRead,
)
from maillage.communities.discussions.operations import remove_reply
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import Erasure, holds_personal_data
from maillage.platform.personal_data.rows import CHUNK, as_dict, delete_rows, export_rows


def export_topics(user) -> list[dict]:
    return export_rows(
        select(
            DiscussionTopic.id,
            DiscussionTopic.ap_id.label("url"),
            Community.slug.label("community"),
            Community.ap_id.label("community_url"),
            DiscussionTopic.title,
            DiscussionTopic.body_source.label("body_markdown"),
            DiscussionTopic.created_at,
            DiscussionTopic.updated_at,
            DiscussionTopic.reply_count,
            DiscussionTopic.hidden_at,
            DiscussionTopic.hidden_reason,
        )
        .join(Community, Community.id == DiscussionTopic.community_id)
        .where(DiscussionTopic.author_id == user.id),
        DiscussionTopic.id,
    )


def export_replies(user) -> list[dict]:
    return export_rows(
        select(
            DiscussionReply.id,
            DiscussionReply.ap_id.label("url"),
            DiscussionReply.topic_id,
            DiscussionTopic.title.label("topic_title"),
            DiscussionTopic.ap_id.label("topic_url"),
            Community.slug.label("community"),
            DiscussionReply.body_source.label("body_markdown"),
            DiscussionReply.created_at,
            DiscussionReply.updated_at,
            DiscussionReply.deleted_at,
            DiscussionReply.hidden_at,
            DiscussionReply.hidden_reason,
        )
        .join(DiscussionTopic, DiscussionTopic.id == DiscussionReply.topic_id)
        .join(Community, Community.id == DiscussionTopic.community_id)
        .where(DiscussionReply.author_id == user.id),
        DiscussionReply.id,
    )


def export_reads(user) -> list[dict]:
    rows = db.session.execute(
        select(
            TopicRead.topic_id, DiscussionTopic.title.label("topic_title"), TopicRead.last_read_at
        )
        .join(DiscussionTopic, DiscussionTopic.id == TopicRead.topic_id)
        .where(TopicRead.user_id == user.id)
        .order_by(TopicRead.topic_id)
    )
    return [as_dict(row) for row in rows]


def export_read_marks(user) -> list[dict]:
    rows = db.session.execute(
        select(Community.slug.label("community"), DiscussionReadMark.all_read_at)
        .join(Community, Community.id == DiscussionReadMark.community_id)
        .where(DiscussionReadMark.user_id == user.id)
        .order_by(DiscussionReadMark.community_id)
    )
    return [as_dict(row) for row in rows]


def erase_replies(user, erasure: Erasure) -> None:
    if erasure != Erasure.DELETE_CONTENT:
        return
    mine = (DiscussionReply.author_id == user.id) & DiscussionReply.deleted_at.is_(None)
    while replies := db.session.scalars(select(DiscussionReply).where(mine).limit(CHUNK)).all():
        for reply in replies:
            remove_reply(reply, user)
        db.session.flush()


def _erase_topic(topic: DiscussionTopic, user) -> None:
    others = db.session.scalar(
        select(
            exists().where(
                DiscussionReply.topic_id == topic.id, DiscussionReply.author_id != user.id
            )
        )
    )
    if others:  # the conversation stays for those who took part in it
        topic.body_source = topic.body_html = ""
        topic.updated_at = utcnow()
        signals.content_updated.send(topic, community=topic.community, actor=user)
        return
    signals.content_deleted.send(topic, community=topic.community, actor=user)
    db.session.execute(delete(TopicRead).where(TopicRead.topic_id == topic.id))
    topic.answered_reply_id = None
    db.session.flush()
    db.session.execute(
        update(DiscussionReply)
        .where(DiscussionReply.topic_id == topic.id)
        .values(quoted_reply_id=None)
    )
    db.session.execute(delete(DiscussionReply).where(DiscussionReply.topic_id == topic.id))
    db.session.delete(topic)


def erase_topics(user, erasure: Erasure) -> None:
    if erasure != Erasure.DELETE_CONTENT:
        return
    topics = db.session.scalars(select(DiscussionTopic).where(DiscussionTopic.author_id == user.id))
    for topic in topics.all():
        _erase_topic(topic, user)
    db.session.flush()


holds_personal_data(
    DiscussionTopic,
    section="discussion_topics",
    export=export_topics,
    erase=erase_topics,
    other_people_columns=("hidden_by_id",),
)
holds_personal_data(
    DiscussionReply,
    section="discussion_replies",
    export=export_replies,
    erase=erase_replies,
    other_people_columns=("hidden_by_id",),
)
holds_personal_data(
    TopicRead,
    section="discussion_reads",
    export=export_reads,
    erase=lambda user, _erasure: delete_rows(TopicRead, TopicRead.user_id == user.id),
)
holds_personal_data(
    DiscussionReadMark,
    section="discussion_read_marks",
    export=export_read_marks,
    erase=lambda user, _erasure: delete_rows(
        DiscussionReadMark, DiscussionReadMark.user_id == user.id
    ),
)
