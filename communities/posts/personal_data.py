"""Posts, comments and reactions in the personal data registry.

Reactions are private traces: always deleted.  Posts and comments stay when the person keeps
their contributions (signed « Ancien membre » through the anonymised account); otherwise they are
deleted by ``remove_post``/``remove_comment``, the deletion ``delete_post``/``delete_comment``
make after their permission checks (signals for search and federation, counters kept): the person
is leaving and may no longer be able to act.  ``hidden_by_id`` records a moderator's decision on
someone else's content and stays with it.
"""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.community.models import Community
from maillage.communities.posts.models import Comment, Post, Reaction
from maillage.communities.posts.operations import remove_comment, remove_post
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import Erasure, holds_personal_data
from maillage.platform.personal_data.rows import CHUNK, delete_rows, export_rows


def export_posts(user) -> list[dict]:
    return export_rows(
        select(
            Post.id,
            Post.ap_id.label("url"),
            Community.slug.label("community"),
            Community.ap_id.label("community_url"),
            Post.title,
            Post.body_source.label("body_markdown"),
            Post.created_at,
            Post.updated_at,
            Post.hidden_at,
            Post.hidden_reason,
            Post.comment_count,
        )
        .join(Community, Community.id == Post.community_id)
        .where(Post.author_id == user.id),
        Post.id,
    )


def export_comments(user) -> list[dict]:
    return export_rows(
        select(
            Comment.id,
            Comment.ap_id.label("url"),
            Comment.post_id,
            Post.ap_id.label("post_url"),
            Post.title.label("post_title"),
            Community.slug.label("community"),
            Comment.body_source.label("body_markdown"),
            Comment.created_at,
            Comment.hidden_at,
            Comment.hidden_reason,
        )
        .join(Post, Post.id == Comment.post_id)
        .join(Community, Community.id == Post.community_id)
        .where(Comment.author_id == user.id),
        Comment.id,
    )


def export_reactions(user) -> list[dict]:
    return export_rows(
        select(
            Reaction.id,
            Reaction.post_id,
            Post.ap_id.label("post_url"),
            Reaction.emoji,
            Reaction.created_at,
        )
        .join(Post, Post.id == Reaction.post_id)
        .where(Reaction.user_id == user.id),
        Reaction.id,
    )


def _chunks(model, *criteria):
    """ORM objects matching ``criteria``, :data:`CHUNK` at a time (they are deleted as we go)."""
    while batch := db.session.scalars(select(model).where(*criteria).limit(CHUNK)).all():
        yield batch


def erase_posts(user, erasure: Erasure) -> None:
    if erasure != Erasure.DELETE_CONTENT:
        return
    for posts in _chunks(Post, Post.author_id == user.id):
        for post in posts:
            remove_post(post, user)
        db.session.flush()


def erase_comments(user, erasure: Erasure) -> None:
    if erasure != Erasure.DELETE_CONTENT:
        return
    for comments in _chunks(Comment, Comment.author_id == user.id):
        for comment in comments:
            remove_comment(comment, user)
        db.session.flush()


holds_personal_data(
    Post,
    section="posts",
    export=export_posts,
    erase=erase_posts,
    other_people_columns=("hidden_by_id",),
)
holds_personal_data(
    Comment,
    section="comments",
    export=export_comments,
    erase=erase_comments,
    other_people_columns=("hidden_by_id",),
)
holds_personal_data(
    Reaction,
    section="reactions",
    export=export_reactions,
    erase=lambda user, _erasure: delete_rows(Reaction, Reaction.user_id == user.id),
)
