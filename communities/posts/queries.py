"""Reads shared by the portal, community pages and the API; each is a bounded number of queries."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from maillage.communities.community.models import Community
from maillage.communities.permissions import readable_community_ids_clause, roles_of
from maillage.communities.posts.models import Comment, Post, Reaction
from maillage.communities.users.models import User
from maillage.platform.extensions import db


@dataclass
class Page:
    items: list
    next_cursor: str | None


def encode_cursor(post: Post | Comment) -> str:
    raw = f"{post.created_at.isoformat()}|{post.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[dt.datetime, int] | None:
    """Invalid cursors read as "from the start" rather than an error page."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, post_id = raw.split("|")
        moment, key = dt.datetime.fromisoformat(stamp), int(post_id)
    except ValueError:
        return None
    # Cursors we issue are timezone-aware; a forged naive one would fail in UTCDateTime.
    return (moment, key) if moment.tzinfo is not None else None


def _post_page(statement, cursor: str | None, limit: int) -> Page:
    """Keyset pagination on (created_at, id), newest first, with authors and communities loaded."""
    position = decode_cursor(cursor)
    if position is not None:
        stamp, post_id = position
        statement = statement.where(
            (Post.created_at < stamp) | ((Post.created_at == stamp) & (Post.id < post_id))
        )
    statement = (
        statement.options(
            joinedload(Post.author).joinedload(User.organisation), joinedload(Post.community)
        )
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit + 1)
    )
    posts = list(db.session.scalars(statement))
    next_cursor = encode_cursor(posts[limit - 1]) if len(posts) > limit else None
    return Page(posts[:limit], next_cursor)


def community_posts(community: Community, cursor: str | None = None, limit: int = 20) -> Page:
    """The community's posts; hidden ones are left out (their author and the moderators reach
    them by their link and the moderation queue)."""
    statement = select(Post).where(Post.community_id == community.id, Post.hidden_at.is_(None))
    return _post_page(statement, cursor, limit)


def home_feed(viewer: User | None, cursor: str | None = None, limit: int = 20) -> Page:
    """Posts of the viewer's communities; for anonymous visitors, of public communities."""
    if viewer is not None:
        community_ids = list(roles_of(viewer))
        statement = select(Post).where(Post.community_id.in_(community_ids))
    else:
        # A correlated EXISTS lets the database walk posts newest first and stop after one page;
        # a join on communities made SQLite sort every public post (1 s at 500,000 posts).
        public = (
            select(Community.id)
            .where(Community.id == Post.community_id, readable_community_ids_clause(None))
            .exists()
        )
        statement = select(Post).where(public)
    return _post_page(statement.where(Post.hidden_at.is_(None)), cursor, limit)


def reaction_summary(
    post_ids: list[int], viewer: User | None
) -> dict[int, dict[str, tuple[int, bool]]]:
    """``{post_id: {emoji: (count, viewer_reacted)}}`` for a page of posts, in one query."""
    if not post_ids:
        return {}
    viewer_id = getattr(viewer, "id", None) or -1
    rows = db.session.execute(
        select(
            Reaction.post_id,
            Reaction.emoji,
            db.func.count(),
            db.func.max(db.case((Reaction.user_id == viewer_id, 1), else_=0)),
        )
        .where(Reaction.post_id.in_(post_ids))
        .group_by(Reaction.post_id, Reaction.emoji)
    )
    summary: dict[int, dict[str, tuple[int, bool]]] = {}
    for post_id, emoji, count, mine in rows:
        summary.setdefault(post_id, {})[emoji] = (count, bool(mine))
    return summary


def post_for_page(post_id: int) -> Post | None:
    """One post with what its page shows (author, organisation, community) in one query."""
    return db.session.scalar(
        select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.author).joinedload(User.organisation), joinedload(Post.community))
    )


def comment_with_post(comment_id: int) -> Comment | None:
    """One comment with its post and community, for permission checks, in one query."""
    return db.session.scalar(
        select(Comment)
        .where(Comment.id == comment_id)
        .options(
            joinedload(Comment.author).joinedload(User.organisation),
            joinedload(Comment.post).joinedload(Post.community),
        )
    )


def comment_page(post: Post, cursor: str | None = None, limit: int = 100) -> Page:
    """A post's comments, oldest first, by keyset on (created_at, id)."""
    statement = select(Comment).where(Comment.post_id == post.id)
    position = decode_cursor(cursor)
    if position is not None:
        stamp, comment_id = position
        statement = statement.where(
            (Comment.created_at > stamp)
            | ((Comment.created_at == stamp) & (Comment.id > comment_id))
        )
    comments = list(
        db.session.scalars(
            statement.options(joinedload(Comment.author).joinedload(User.organisation))
            .order_by(Comment.created_at, Comment.id)
            .limit(limit + 1)
        )
    )
    next_cursor = encode_cursor(comments[limit - 1]) if len(comments) > limit else None
    return Page(comments[:limit], next_cursor)
