"""Fill the activity log from the domain's signals, in the transaction of the change itself.

Reactions have no signal: a ``before_flush`` hook logs new ``Reaction`` rows, so a reaction rolled
back (the same click twice) leaves no event either.
"""

from __future__ import annotations

from flask import after_this_request, has_request_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from maillage.communities import signals
from maillage.communities.analytics.models import ActivityEvent
from maillage.platform.extensions import db

#: Class name of a signal's sender -> (kind of activity, object type).  The object types of
#: content pages are the search kinds' names, so "most read" can title and link them.
KINDS_BY_CLASS = {
    "Post": ("post", "post"),
    "Comment": ("comment", "comment"),
    "DiscussionTopic": ("topic", "topic"),
    "DiscussionReply": ("reply", "reply"),
    "Event": ("event", "event"),
    "Document": ("document", "document"),
    "WikiPage": ("wiki_page", "wiki_page"),
    "Poll": ("poll", "poll"),
    "DatePoll": ("poll", "date_poll"),
    "Task": ("task", "task"),
}


def _id(obj) -> int | None:
    return getattr(obj, "id", None) if obj is not None else None


def log(kind: str, *, user=None, community=None, obj=None, object_type=None, at=None):
    """Add one event to the current transaction (``user``/``community``: objects or ids)."""
    if obj is not None and object_type is None:
        object_type = KINDS_BY_CLASS.get(type(obj).__name__, (None, type(obj).__name__.lower()))[1]
    values = {
        "kind": kind,
        "user_id": user if isinstance(user, int) or user is None else _id(user),
        "community_id": (
            community if isinstance(community, int) or community is None else _id(community)
        ),
        "object_type": object_type,
        "object_id": _id(obj),
    }
    if at is not None:
        values["at"] = at
    entry = ActivityEvent(**values)
    db.session.add(entry)
    return entry


def _actor_id(actor):
    return _id(actor) if actor is not None and getattr(actor, "is_authenticated", True) else None


@signals.post_created.connect
def _post_created(post, actor=None, **_):
    log("post", user=_actor_id(actor) or post.author_id, community=post.community_id, obj=post)


@signals.comment_created.connect
def _comment_created(comment, actor=None, **_):
    community_id = comment.post.community_id if comment.post is not None else None
    log("comment", user=_actor_id(actor) or comment.author_id, community=community_id, obj=comment)


@signals.content_created.connect
def _content_created(obj, community=None, actor=None, **_):
    kind, object_type = KINDS_BY_CLASS.get(type(obj).__name__, (None, None))
    if kind is None:
        return
    log(kind, user=_actor_id(actor), community=community, obj=obj, object_type=object_type)


@signals.member_joined.connect
def _member_joined(membership, **_):
    log("join", user=membership.user_id, community=membership.community_id)


@signals.member_left.connect
def _member_left(community, user=None, **_):
    log("leave", user=_actor_id(user), community=community)


@signals.content_viewed.connect
def _content_viewed(obj, community=None, user=None, **_):
    """Count a page view.  Views send this outside any operation, so the row is committed once the
    page has been rendered successfully (with anything else the view left to commit)."""
    log("view", user=_actor_id(user), community=community, obj=obj)
    if has_request_context():
        after_this_request(_commit_after_success)


def _commit_after_success(response):
    if response.status_code < 400:
        try:
            db.session.commit()
        except Exception:  # a lost view must never break the page
            db.session.rollback()
    return response


@event.listens_for(Session, "before_flush")
def _log_reactions(session, _flush_context, _instances) -> None:
    from maillage.communities.posts.models import Post, Reaction

    new = [obj for obj in session.new if isinstance(obj, Reaction)]
    if not new:
        return
    with session.no_autoflush:
        post_ids = {reaction.post_id for reaction in new}
        communities = dict(
            session.execute(select(Post.id, Post.community_id).where(Post.id.in_(post_ids))).all()
        )
        for reaction in new:
            session.add(
                ActivityEvent(
                    kind="reaction",
                    user_id=reaction.user_id,
                    community_id=communities.get(reaction.post_id),
                    object_type="post",
                    object_id=reaction.post_id,
                )
            )
