"""Signal subscribers: notices requested by the content modules, and the posts' own signals.

Posts and comments already send ``post_created`` and ``comment_created``; they are turned into
``notification_requested`` here (new content for the community; a reply for the post's author
and the people who commented before), so every notice takes the same path.
"""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities import signals
from maillage.communities.posts.models import Comment, Post
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.notifications import operations


@signals.notification_requested.connect
def on_notification_requested(sender, **kwargs) -> None:
    operations.notify(
        sender,
        community=kwargs.get("community"),
        actor=kwargs.get("actor"),
        reason=kwargs["reason"],
        url=kwargs.get("url", ""),
        title=kwargs.get("title", ""),
        recipients=kwargs.get("recipients"),
        email=kwargs.get("email", True),
    )


@signals.post_created.connect
def on_post_created(post: Post, actor=None, **_kwargs) -> None:
    signals.notification_requested.send(
        post,
        community=post.community,
        actor=actor,
        reason="new_content",
        url=f"/post/{post.id}",
        title=post.title,
        recipients=None,
    )


@signals.comment_created.connect
def on_comment_created(comment: Comment, actor=None, **_kwargs) -> None:
    post = comment.post
    commenters = select(Comment.author_id).where(Comment.post_id == post.id)
    people = db.session.scalars(
        select(User).where((User.id == post.author_id) | User.id.in_(commenters))
    )
    signals.notification_requested.send(
        comment,
        community=post.community,
        actor=actor,
        reason="reply",
        url=f"/post/{post.id}#comment-{comment.id}",
        title=post.title,
        recipients=list(people),
    )


@signals.post_deleted.connect
def on_post_deleted(post: Post, **_kwargs) -> None:
    operations.forget_objects("Comment", select(Comment.id).where(Comment.post_id == post.id))
    operations.forget_object(post)


@signals.comment_deleted.connect
@signals.content_deleted.connect
def on_deleted(obj, **_kwargs) -> None:
    operations.forget_object(obj)


@signals.member_left.connect
def on_member_left(community, user=None, **_kwargs) -> None:
    if user is not None:
        operations.forget_community_for(user, community)
