"""Reads on actors shared by the views, the operations and the other federation packages."""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.federation.actors.models import ActorKey, RemoteActor
from maillage.federation.ids import parse_local_id
from maillage.platform.extensions import db

#: What ``local_actor(ap_id)`` returns for the instance actor.
INSTANCE = "instance"


def local_user(username: str) -> User | None:
    """An active local person by username (never a remote shadow)."""
    return db.session.scalar(
        select(User).where(
            User.username == username.strip().lower(),
            User.local.is_(True),
            User.is_active.is_(True),
        )
    )


def local_community(slug: str) -> Community | None:
    """A local community by slug (never a remote shadow); visibility is the caller's business."""
    return db.session.scalar(
        select(Community).where(Community.slug == slug.strip().lower(), Community.local.is_(True))
    )


def local_actor(ap_id: str | None):
    """The local User or Community an actor id (or key id) names, ``INSTANCE``, or None."""
    parsed = parse_local_id(ap_id)
    if parsed is None:
        return None
    kind, key = parsed
    if kind == "instance":
        return INSTANCE
    if kind == "user":
        return local_user(str(key))
    if kind == "community":
        return local_community(str(key))
    return None


def key_by_key_id(key_id: str) -> ActorKey | None:
    return db.session.scalar(select(ActorKey).where(ActorKey.key_id == key_id))


def key_of(obj) -> ActorKey | None:
    """The stored key of a local User or Community (None if not generated yet)."""
    column = ActorKey.user_id if isinstance(obj, User) else ActorKey.community_id
    return db.session.scalar(select(ActorKey).where(column == obj.id))


def instance_key() -> ActorKey | None:
    return db.session.scalar(select(ActorKey).where(ActorKey.is_instance.is_(True)))


def remote_actor_by_ap_id(ap_id: str) -> RemoteActor | None:
    return db.session.scalar(select(RemoteActor).where(RemoteActor.ap_id == ap_id))


def remote_actor_by_key_id(key_id: str) -> RemoteActor | None:
    return db.session.scalar(
        select(RemoteActor).where(RemoteActor.public_key_id == key_id).limit(1)
    )


def remote_actor_for(obj) -> RemoteActor | None:
    """The RemoteActor behind a shadow User or Community (None for local rows)."""
    if obj is None or getattr(obj, "local", True):
        return None
    column = RemoteActor.user_id if isinstance(obj, User) else RemoteActor.community_id
    return db.session.scalar(select(RemoteActor).where(column == obj.id))
