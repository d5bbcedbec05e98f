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
from html import unescape

import nh3
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from maillage.communities import signals
from maillage.communities.community.models import Community, Visibility
from maillage.communities.posts.models import Comment, Post
from maillage.communities.search.kinds import SEARCH_KINDS, Presentation, register_kind
from maillage.communities.users.models import User
from maillage.platform.extensions import db
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
#: Objects reindexed per outbox item when a community's visibility changes.
COMMUNITY_CONTENT_CHUNK = 1000
#: (the job kept its first name: items queued before an upgrade are still understood)
COMMUNITY_CONTENT_JOB = "search.community_posts"


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
            "community_id": community.id,
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
            "community_id": row.community_id,
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


# -- a community's content, when who may read it changes -------------------------------------


def schedule_community_content(community_id: int, session: Session | None = None) -> None:
    """Reindex everything a community holds after the commit, kind by kind, in chunks (one
    outbox item each), so a community made private or secret leaves public results."""
    for kind in sorted(SEARCH_KINDS):
        if SEARCH_KINDS[kind].ids_in_community is not None:
            enqueue(
                COMMUNITY_CONTENT_JOB,
                session=session,
                community_id=community_id,
                doc_kind=kind,
                after_id=0,
            )


@handler(COMMUNITY_CONTENT_JOB)
def reindex_community_content(session: Session, payloads: list[dict]) -> None:
    """Rebuild one chunk per (community, kind), then queue the next chunk (idempotent)."""
    starts: dict[tuple[int, str], int] = {}
    for payload in payloads:
        key = (payload["community_id"], payload.get("doc_kind", POST))
        starts[key] = min(payload["after_id"], starts.get(key, payload["after_id"]))
    backend = get_backend()
    for (community_id, kind), after_id in sorted(starts.items()):
        ids = [
            object_id
            for object_id in SEARCH_KINDS[kind].ids_in_community(session, community_id)
            if object_id > after_id
        ][:COMMUNITY_CONTENT_CHUNK]
        if not ids:
            continue
        documents, missing = PROVIDERS[kind](session, ids)
        backend.update(documents, [doc_id(kind, object_id) for object_id in missing])
        if len(ids) == COMMUNITY_CONTENT_CHUNK:
            enqueue(
                COMMUNITY_CONTENT_JOB,
                session=session,
                community_id=community_id,
                doc_kind=kind,
                after_id=ids[-1],
            )


def _post_ids_in_community(session: Session, community_id: int):
    return session.scalars(
        select(Post.id).where(Post.community_id == community_id).order_by(Post.id)
    )


# -- subscriptions -----------------------------------------------------------------------------


@signals.community_created.connect
def _community_created(community: Community, **_extra) -> None:
    schedule(COMMUNITY, community.id)


@signals.community_updated.connect
def _community_updated(community: Community, changed=None, **_extra) -> None:
    schedule(COMMUNITY, community.id)
    if changed is None or "visibility" in changed:
        schedule_community_content(community.id)


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


# -- how results show --------------------------------------------------------------------------


def _load_communities(ids: list[int]) -> list[Community]:
    return list(
        db.session.scalars(
            select(Community).where(Community.id.in_(ids)).options(selectinload(Community.topics))
        )
    )


def _present_community(community: Community) -> Presentation:
    topics = ", ".join(topic.name for topic in community.topics)
    return Presentation(
        title=community.name,
        text=" — ".join(filter(None, [community.description, topics])),
        url=url_for("community.show", slug=community.slug),
    )


def _load_posts(ids: list[int]) -> list[Post]:
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.id.in_(ids))
            .options(
                joinedload(Post.community), joinedload(Post.author).joinedload(User.organisation)
            )
        ).unique()
    )


def _present_post(post: Post) -> Presentation:
    return Presentation(
        title=post.title,
        text=plain_text(post.body_html),
        url=url_for("posts.show", post_id=post.id),
        community=post.community,
        author=post.author,
        date=post.created_at,
    )


def _load_users(ids: list[int]) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(ids))).unique())


def _present_user(user: User) -> Presentation:
    organisation = user.organisation.name if user.organisation else ""
    return Presentation(
        title=user.display_name,
        text=" · ".join(filter(None, [user.job_title, organisation])),
        url=url_for("users.profile", username=user.username),
    )


def plain_text(html: str) -> str:
    """The text of sanitised HTML, for excerpts (tags dropped, entities decoded)."""
    return " ".join(unescape(nh3.clean(html, tags=set())).split())


register_kind(COMMUNITY, _l("Communauté"), _l("Communautés"), _load_communities, _present_community)
register_kind(
    POST, _l("Publication"), _l("Publications"), _load_posts, _present_post, _post_ids_in_community
)
register_kind(USER, _l("Personne"), _l("Personnes"), _load_users, _present_user)
