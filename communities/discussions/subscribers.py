"""Search for discussions: one document per topic (its title, opening message and replies, capped),
rebuilt after the commit whenever the topic or one of its replies changes.

Audience: ``public`` in a public community, otherwise the community's members only; hits are shown
only when ``can(viewer, "view", topic)`` (so also never while the module is switched off).
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.discussions.links import topic_path
from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
from maillage.communities.search.kinds import Presentation, register_kind
from maillage.communities.search.providers import plain_text, post_audience
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.search.backend import doc_id, provider
from maillage.platform.search.indexing import schedule

TOPIC = "topic"
#: Replies add at most this many characters to their topic's document.
REPLIES_TEXT_LIMIT = 20_000


def _all_topic_ids(session: Session):
    return session.scalars(select(DiscussionTopic.id).order_by(DiscussionTopic.id))


def _replies_text(session: Session, topic_ids: list[int]) -> dict[int, str]:
    texts: dict[int, list[str]] = defaultdict(list)
    sizes: dict[int, int] = defaultdict(int)
    rows = session.execute(
        select(DiscussionReply.topic_id, DiscussionReply.body_source)
        .where(DiscussionReply.topic_id.in_(topic_ids), DiscussionReply.deleted_at.is_(None))
        .order_by(DiscussionReply.topic_id, DiscussionReply.created_at, DiscussionReply.id)
    )
    for topic_id, body in rows:
        if sizes[topic_id] < REPLIES_TEXT_LIMIT:
            texts[topic_id].append(body)
            sizes[topic_id] += len(body)
    return {topic_id: "\n".join(parts)[:REPLIES_TEXT_LIMIT] for topic_id, parts in texts.items()}


@provider(TOPIC, all_ids=_all_topic_ids)
def topic_documents(session: Session, ids: list[int]) -> tuple[list[dict], list[int]]:
    rows = session.execute(
        select(
            DiscussionTopic.id,
            DiscussionTopic.title,
            DiscussionTopic.body_source,
            DiscussionTopic.community_id,
            Community.visibility,
        )
        .join(Community, Community.id == DiscussionTopic.community_id)
        .where(DiscussionTopic.id.in_(ids))
    ).all()
    replies = _replies_text(session, [row.id for row in rows]) if rows else {}
    documents = [
        {
            "id": doc_id(TOPIC, row.id),
            "kind": TOPIC,
            "object_id": row.id,
            "audience": post_audience(row.community_id, row.visibility),
            "community_id": row.community_id,
            "title": row.title,
            "text": "\n".join(filter(None, [row.body_source, replies.get(row.id, "")])),
        }
        for row in rows
    ]
    found = {row.id for row in rows}
    return documents, [topic_id for topic_id in ids if topic_id not in found]


# -- how hits show -----------------------------------------------------------------------------


def load_topics(ids: list[int]) -> list[DiscussionTopic]:
    return list(
        db.session.scalars(
            select(DiscussionTopic)
            .where(DiscussionTopic.id.in_(ids))
            .options(
                joinedload(DiscussionTopic.community),
                joinedload(DiscussionTopic.author).joinedload(User.organisation),
            )
        ).unique()
    )


def present_topic(topic: DiscussionTopic) -> Presentation:
    return Presentation(
        title=topic.title,
        text=plain_text(topic.body_html),
        url=topic_path(topic),
        community=topic.community,
        author=topic.author,
        date=topic.last_activity_at,
    )


def topic_ids_in_community(session: Session, community_id: int):
    return session.scalars(
        select(DiscussionTopic.id)
        .where(DiscussionTopic.community_id == community_id)
        .order_by(DiscussionTopic.id)
    )


register_kind(
    TOPIC,
    _l("Discussion"),
    _l("Discussions"),
    load_topics,
    present_topic,
    topic_ids_in_community,
)


# -- subscriptions -----------------------------------------------------------------------------


def _topic_id_of(obj) -> int | None:
    if isinstance(obj, DiscussionTopic):
        return obj.id
    if isinstance(obj, DiscussionReply):
        return obj.topic_id
    return None


@signals.content_created.connect
@signals.content_updated.connect
@signals.content_deleted.connect
def _discussion_changed(obj, **_extra) -> None:
    topic_id = _topic_id_of(obj)
    if topic_id is not None:
        schedule(TOPIC, topic_id)
