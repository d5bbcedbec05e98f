"""Search documents for communities, posts and people; subscriptions that keep them fresh.

Each provider builds the documents of a batch of ids with one or two queries and reports the ids
that no longer exist or must not be indexed (they are removed from the index).  Audiences:

- a community is ``public`` unless it is secret (then only its members find it);
- a post is ``public`` in a public community, otherwise for the community's members only;
- a person is ``public`` when the account is local and active; others are not indexed.

Subscribers run inside the operation's transaction and only write outbox items, so the index
follows the database after the commit, through the single index writer.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from maillage.communities import signals
from maillage.communities.community.models import Community, Visibility
from maillage.communities.posts.models import Comment, Post
from maillage.communities.users.models import User
from maillage.platform.outbox.operations import enqueue, handler
from maillage.platform.search.backend import (
    PROVIDERS,
    PUBLIC,
    community_audience,
    doc_id,
    get_backend,
    provider,
)
from maillage.platform.search.indexing import schedule

COMMUNITY, POST, USER = "community", "post", "user"
#: Comments add at most this many characters to their post's document.
COMMENTS_TEXT_LIMIT = 20_000
#: Posts reindexed per outbox item when a community's visibility changes.
COMMUNITY_POSTS_CHUNK = 1000
COMMUNITY_POSTS_JOB = "search.community_posts"


def post_audience(community_id: int, visibility: str) -> str:
    return PUBLIC if visibility == Visibility.PUBLIC else community_audience(community_id)


def community_audience_of(community: Community) -> str:
    return community_audience(community.id) if community.visibility == Visibility.SECRET else PUBLIC


def _missing(ids: list[int], found: set[int]) -> list[int]:
    return [object_id for object_id in ids if object_id not in found]


# -- communities -------------------------------------------------------------------------------


def _all_community_ids(session: Session):
    return session.scalars(select(Community.id).order_by(Community.id))


@provider(COMMUNITY, all_ids=_all_community_ids)
def community_documents(session: Session, ids: list[int]) -> tuple[list[dict], list[int]]:
    communities = session.scalars(
        select(Community).where(Community.id.in_(ids)).options(selectinload(Community.topics))
    ).all()
    documents = [
        {
            "id": doc_id(COMMUNITY, community.id),
            "kind": COMMUNITY,
            "object_id": community.id,
            "audience": community_audience_of(community),
            "title": community.name,
            "text": "\n".join([community.description, *(topic.name for topic in community.topics)]),
        }
        for community in communities
    ]
    return documents, _missing(ids, {community.id for community in communities})


# -- posts -------------------------------------------------------------------------------------


def _all_post_ids(session: Session):
    return session.scalars(select(Post.id).order_by(Post.id))


def _comments_text(session: Session, post_ids: list[int]) -> dict[int, str]:
    texts: dict[int, list[str]] = defaultdict(list)
    sizes: dict[int, int] = defaultdict(int)
    rows = session.execute(
        select(Comment.post_id, Comment.body_source)
        .where(Comment.post_id.in_(post_ids))
        .order_by(Comment.post_id, Comment.created_at, Comment.id)
    )
    for post_id, body in rows:
        if sizes[post_id] < COMMENTS_TEXT_LIMIT:
            texts[post_id].append(body)
            sizes[post_id] += len(body)
    return {post_id: "\n".join(parts)[:COMMENTS_TEXT_LIMIT] for post_id, parts in texts.items()}


@provider(POST, all_ids=_all_post_ids)
def post_documents(session: Session, ids: list[int]) -> tuple[list[dict], list[int]]:
    rows = session.execute(
        select(Post.id, Post.title, Post.body_source, Post.community_id, Community.visibility)
        .join(Community, Community.id == Post.community_id)
        .where(Post.id.in_(ids))
    ).all()
    comments = _comments_text(session, [row.id for row in rows]) if rows else {}
    documents = [
        {
            "id": doc_id(POST, row.id),
            "kind": POST,
            "object_id": row.id,
            "audience": post_audience(row.community_id, row.visibility),
            "title": row.title,
            "text": "\n".join(filter(None, [row.body_source, comments.get(row.id, "")])),
        }
        for row in rows
    ]
    return documents, _missing(ids, {row.id for row in rows})


# -- people ------------------------------------------------------------------------------------


def _all_user_ids(session: Session):
    return session.scalars(
        select(User.id).where(User.local.is_(True), User.is_active.is_(True)).order_by(User.id)
    )


@provider(USER, all_ids=_all_user_ids)
def user_documents(session: Session, ids: list[int]) -> tuple[list[dict], list[int]]:
    users = session.scalars(
        select(User).where(User.id.in_(ids), User.local.is_(True), User.is_active.is_(True))
    ).all()  # the organisation comes joined (User.organisation is lazy="joined")
    documents = [
        {
            "id": doc_id(USER, user.id),
            "kind": USER,
            "object_id": user.id,
            "audience": PUBLIC,
            "title": user.display_name,
            "text": "\n".join(
                filter(
                    None,
                    [
                        user.username,
                        user.job_title,
                        user.organisation.name if user.organisation else "",
                    ],
                )
            ),
        }
        for user in users
    ]
    return documents, _missing(ids, {user.id for user in users})


# -- a community's posts, when who may read them changes ---------------------------------------


def schedule_community_posts(community_id: int, session: Session | None = None) -> None:
    """Reindex every post of a community after the commit, in chunks (one outbox item each)."""
    enqueue(COMMUNITY_POSTS_JOB, session=session, community_id=community_id, after_id=0)


@handler(COMMUNITY_POSTS_JOB)
def reindex_community_posts(session: Session, payloads: list[dict]) -> None:
    """Rebuild one chunk of posts per community, then queue the next chunk (idempotent)."""
    starts: dict[int, int] = {}
    for payload in payloads:
        community_id, after_id = payload["community_id"], payload["after_id"]
        starts[community_id] = min(after_id, starts.get(community_id, after_id))
    backend = get_backend()
    for community_id, after_id in sorted(starts.items()):
        ids = list(
            session.scalars(
                select(Post.id)
                .where(Post.community_id == community_id, Post.id > after_id)
                .order_by(Post.id)
                .limit(COMMUNITY_POSTS_CHUNK)
            )
        )
        if not ids:
            continue
        documents, missing = PROVIDERS[POST](session, ids)
        backend.update(documents, [doc_id(POST, post_id) for post_id in missing])
        if len(ids) == COMMUNITY_POSTS_CHUNK:
            enqueue(
                COMMUNITY_POSTS_JOB, session=session, community_id=community_id, after_id=ids[-1]
            )


# -- subscriptions -----------------------------------------------------------------------------


@signals.community_created.connect
def _community_created(community: Community, **_extra) -> None:
    schedule(COMMUNITY, community.id)


@signals.community_updated.connect
def _community_updated(community: Community, changed=None, **_extra) -> None:
    schedule(COMMUNITY, community.id)
    if changed is None or "visibility" in changed:
        schedule_community_posts(community.id)


@signals.post_created.connect
@signals.post_updated.connect
@signals.post_deleted.connect
def _post_changed(post: Post, **_extra) -> None:
    schedule(POST, post.id)


@signals.comment_created.connect
@signals.comment_deleted.connect
def _comment_changed(comment: Comment, **_extra) -> None:
    schedule(POST, comment.post_id)


@signals.user_created.connect
@signals.user_updated.connect
def _user_changed(user: User, **_extra) -> None:
    schedule(USER, user.id)
