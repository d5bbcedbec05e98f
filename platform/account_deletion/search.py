"""Keeping the search index free of a deleted person: their people entry goes, and the posts
they wrote or commented on are re-indexed (their deleted words disappear with them)."""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.posts.models import Comment, Post
from maillage.communities.users.models import User
from maillage.platform.extensions import db


def affected_documents(user: User) -> list[int]:
    """Ids of the posts whose indexed text holds the person's words (read before erasing)."""
    authored = select(Post.id).where(Post.author_id == user.id)
    commented = select(Comment.post_id).where(Comment.author_id == user.id)
    return sorted(set(db.session.scalars(authored.union(commented))))


def schedule(post_ids: list[int], user: User) -> None:
    """Re-index those posts (a deleted one leaves the index) and the person's entry."""
    from maillage.platform.search.indexing import schedule as schedule_index

    for post_id in post_ids:
        schedule_index("post", post_id)
    schedule_index("user", user.id)
