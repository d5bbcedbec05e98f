"""Collections of our actors: outbox, followers, moderators, featured (``OrderedCollection``).

Outboxes carry their newest page inline (``orderedItems``, what Lemmy and PieFed read to
back-fill a community) and link pages by keyset (``?page=1&before=<id>``) for the rest.  The
followers collection shows only its size, unless an allow-listed peer signed the request.
"""

from __future__ import annotations

from sqlalchemy import func, select

from maillage.communities.community.models import Community, Membership, Role, Visibility
from maillage.communities.users.models import User
from maillage.federation.actors import serialize
from maillage.platform.extensions import db

PAGE_SIZE = 20
MODERATOR_ROLES = (Role.OWNER, Role.FACILITATOR, Role.MODERATOR)


def _posts(*conditions):
    from maillage.communities.posts.models import Post

    statement = select(Post).where(Post.local.is_(True), *conditions)
    hidden = getattr(Post, "hidden_at", None)
    if hidden is not None:
        statement = statement.where(hidden.is_(None))
    return Post, statement


def _page_of(statement, model, before: int | None):
    if before is not None:
        statement = statement.where(model.id < before)
    return list(db.session.scalars(statement.order_by(model.id.desc()).limit(PAGE_SIZE)))


def _count(statement) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def _collection(collection_id: str, total: int, items: list, *, page_url=None, next_url=None):
    if page_url is not None:
        document = {
            "id": page_url,
            "type": "OrderedCollectionPage",
            "partOf": collection_id,
            "totalItems": total,
            "orderedItems": items,
        }
    else:
        document = {
            "id": collection_id,
            "type": "OrderedCollection",
            "totalItems": total,
            "orderedItems": items,
            "first": f"{collection_id}?page=1",
        }
    if next_url:
        document["next"] = next_url
    return serialize.with_context(document)


def _paged(collection_id: str, statement, model, page: bool, before, to_item) -> dict:
    rows = _page_of(statement, model, before)
    items = [to_item(row) for row in rows]
    next_url = f"{collection_id}?page=1&before={rows[-1].id}" if len(rows) == PAGE_SIZE else None
    page_url = None
    if page:
        page_url = f"{collection_id}?page=1" + (f"&before={before}" if before else "")
    return _collection(
        collection_id, _count(statement), items, page_url=page_url, next_url=next_url
    )


def _create(post) -> dict:
    document = {k: v for k, v in serialize.page(post).items() if k != "@context"}
    return {
        "id": f"{post.ap_id}#create",
        "type": "Create",
        "actor": post.author.ap_id,
        "to": document.get("to", []),
        "cc": document.get("cc", []),
        "audience": post.community.ap_id,
        "object": document,
        "published": document.get("published"),
    }


def _announce(post) -> dict:
    create = _create(post)
    community = post.community
    return {
        "id": f"{post.ap_id}#announce",
        "type": "Announce",
        "actor": community.ap_id,
        "to": create["to"],
        "cc": [f"{community.ap_id}/followers"],
        "object": create,
    }


def community_outbox(community: Community, *, page=False, before=None) -> dict:
    """The community's posts, newest first, each as ``Announce{Create{Page}}`` (FEP-1b12)."""
    from maillage.communities.posts.models import Post

    model, statement = _posts(Post.community_id == community.id)
    return _paged(f"{community.ap_id}/outbox", statement, model, page, before, _announce)


def user_outbox(user: User, *, page=False, before=None) -> dict:
    """A person's posts in public communities, as ``Create{Page}``."""
    from maillage.communities.posts.models import Post

    public = select(Community.id).where(Community.visibility == Visibility.PUBLIC)
    model, statement = _posts(Post.author_id == user.id, Post.community_id.in_(public))
    return _paged(f"{user.ap_id}/outbox", statement, model, page, before, _create)


def followers(community: Community, *, with_items: bool = False) -> dict:
    """The size of the community's following; the actors only for an allowed peer."""
    total, items = _followers(community, with_items)
    return serialize.with_context(
        {
            "id": f"{community.ap_id}/followers",
            "type": "OrderedCollection",
            "totalItems": total,
            **({"orderedItems": items} if with_items else {}),
        }
    )


def _followers(community: Community, with_items: bool) -> tuple[int, list[str]]:
    """From the groups package (``followers_count``, ``GroupFollower``); 0 until it exists."""
    try:
        from maillage.federation.groups.queries import followers_count
    except ImportError:
        return 0, []
    total = followers_count(community)
    if not with_items:
        return total, []
    try:
        from maillage.federation.actors.models import RemoteActor
        from maillage.federation.groups.models import GroupFollower
    except ImportError:
        return total, []
    statement = (
        select(RemoteActor.ap_id)
        .join(GroupFollower, GroupFollower.remote_actor_id == RemoteActor.id)
        .where(GroupFollower.community_id == community.id, GroupFollower.state == "accepted")
        .order_by(RemoteActor.ap_id)
    )
    return total, list(db.session.scalars(statement))


def moderators(community: Community) -> dict:
    """Owners, facilitators and moderators (Lemmy's ``attributedTo`` collection)."""
    order = {role: rank for rank, role in enumerate(MODERATOR_ROLES)}
    rows = db.session.execute(
        select(User.ap_id, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.community_id == community.id, Membership.role.in_(MODERATOR_ROLES))
        .order_by(Membership.created_at, User.id)
    ).all()
    ids = [ap_id for ap_id, _role in sorted(rows, key=lambda row: order[row[1]])]
    return serialize.with_context(
        {
            "id": f"{community.ap_id}/moderators",
            "type": "OrderedCollection",
            "totalItems": len(ids),
            "orderedItems": ids,
        }
    )


def featured(community: Community) -> dict:
    """Pinned discussion topics, as ``Page`` objects (Lemmy's featured posts)."""
    from maillage.communities.discussions.models import DiscussionTopic
    from maillage.communities.modules import is_enabled

    items = []
    if is_enabled(community, "discussions"):
        topics = db.session.scalars(
            select(DiscussionTopic)
            .where(
                DiscussionTopic.community_id == community.id,
                DiscussionTopic.pinned.is_(True),
                DiscussionTopic.local.is_(True),
            )
            .order_by(DiscussionTopic.id.desc())
            .limit(PAGE_SIZE)
        )
        items = [
            {k: v for k, v in serialize.topic_page(topic).items() if k != "@context"}
            for topic in topics
            if getattr(topic, "hidden_at", None) is None
        ]
    return serialize.with_context(
        {
            "id": f"{community.ap_id}/featured",
            "type": "OrderedCollection",
            "totalItems": len(items),
            "orderedItems": items,
        }
    )


def empty(collection_id: str) -> dict:
    return _collection(collection_id, 0, [])
