"""The kinds of content moderation acts on, and what it needs to know about each.

A report, the queue and the moderation operations name an object by ``(kind, id)``; this module
turns that back into the object (one query per kind for a whole page of the queue), its
community, a title and a path — without a request, so federation and Celery can use it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from maillage.communities.discussions.links import path_for, reply_path, topic_path
from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
from maillage.communities.posts.models import Comment, Post
from maillage.communities.users.models import User
from maillage.platform.extensions import db

EXCERPT_LENGTH = 280


@dataclass(frozen=True)
class TargetKind:
    key: str
    model: type
    label: object  # lazy string
    community: Callable  # obj -> Community
    title: Callable  # obj -> str (plain text)
    path: Callable  # obj -> str
    thread: Callable  # obj -> the post or topic that can be locked
    options: tuple  # loader options for a page of the queue


def _post_path(post: Post) -> str:
    return path_for("posts.show", post_id=post.id)


def _comment_path(comment: Comment) -> str:
    return f"{_post_path(comment.post)}#comment-{comment.id}"


KINDS: dict[str, TargetKind] = {
    "post": TargetKind(
        "post",
        Post,
        _l("Publication"),
        lambda post: post.community,
        lambda post: post.title,
        _post_path,
        lambda post: post,
        (joinedload(Post.author), joinedload(Post.community)),
    ),
    "comment": TargetKind(
        "comment",
        Comment,
        _l("Commentaire"),
        lambda comment: comment.post.community,
        lambda comment: comment.post.title,
        _comment_path,
        lambda comment: comment.post,
        (joinedload(Comment.author), joinedload(Comment.post).joinedload(Post.community)),
    ),
    "topic": TargetKind(
        "topic",
        DiscussionTopic,
        _l("Discussion"),
        lambda topic: topic.community,
        lambda topic: topic.title,
        topic_path,
        lambda topic: topic,
        (joinedload(DiscussionTopic.author), joinedload(DiscussionTopic.community)),
    ),
    "reply": TargetKind(
        "reply",
        DiscussionReply,
        _l("Réponse"),
        lambda reply: reply.topic.community,
        lambda reply: reply.topic.title,
        reply_path,
        lambda reply: reply.topic,
        (
            joinedload(DiscussionReply.author),
            joinedload(DiscussionReply.topic).joinedload(DiscussionTopic.community),
        ),
    ),
}

_BY_MODEL = {kind.model: kind for kind in KINDS.values()}


def kind_of(obj) -> TargetKind:
    """The kind of ``obj``; LookupError for anything moderation does not handle."""
    try:
        return _BY_MODEL[type(obj)]
    except KeyError:
        raise LookupError(f"moderation does not handle {type(obj).__name__}") from None


def load(kind: str, object_id: int):
    """The object, or None when the kind or the id is unknown (deleted since)."""
    target = KINDS.get(kind)
    if target is None:
        return None
    return db.session.scalar(
        select(target.model).where(target.model.id == object_id).options(*target.options)
    )


def load_many(keys: list[tuple[str, int]]) -> dict[tuple[str, int], object]:
    """Objects by ``(kind, id)``, one query per kind present."""
    wanted: dict[str, set[int]] = {}
    for kind, object_id in keys:
        if kind in KINDS:
            wanted.setdefault(kind, set()).add(object_id)
    found: dict[tuple[str, int], object] = {}
    for kind, ids in wanted.items():
        target = KINDS[kind]
        rows = db.session.scalars(
            select(target.model).where(target.model.id.in_(ids)).options(*target.options)
        )
        found.update({(kind, obj.id): obj for obj in rows})
    return found


def excerpt(obj) -> str:
    """A short plain-text excerpt of the body (the queue shows it; HTML stays out)."""
    text = " ".join((getattr(obj, "body_source", "") or "").split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def author_of(obj) -> User | None:
    return getattr(obj, "author", None)
