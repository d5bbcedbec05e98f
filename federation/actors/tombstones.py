"""Ids of deleted local objects: kept as tombstones, never issued again.

A peer that saw ``/post/12`` keeps what it learnt under that id; if we later called something
else ``/post/12`` it would drop the new object ("Create processed after Update") and keep showing
the old one.  So:

- numeric ids come from tables with ``AUTOINCREMENT`` on SQLite (PostgreSQL sequences never go
  back), see migration ``0029_federation_tombstones``;
- every local object of a federated kind that is deleted, by the unit of work
  (``session.delete``) or by a bulk ``delete()`` statement, leaves a :class:`Tombstone`, and so
  does the old id of a person whose account deletion gave their row a new one: fetching the id
  answers ``410 Gone`` with a ``Tombstone`` document;
- a new local person or community whose id (made of its username or address) was retired is
  refused with :class:`IdRetired` — a deleted account's username is never given to someone else.

Both hooks are SQLAlchemy session events, so no deletion path has to remember to call them.
"""

from __future__ import annotations

import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from maillage.federation.actors.models import Tombstone
from maillage.platform.errors import OperationError

#: ``session.info`` entry: digests already retired in this transaction (not flushed yet).
_PENDING = "maillage.federation.tombstones"
#: Kinds whose id is made of a name (username, community address): checked on creation.
_NAMED = ("Person", "Group")


class IdRetired(OperationError):
    """The id a new local person or community would get belonged to something deleted."""

    def __init__(self) -> None:
        super().__init__(
            _l(
                "Cet identifiant a appartenu à un compte ou à une communauté supprimés : "
                "choisissez-en un autre."
            )
        )


def digest(ap_id: str) -> str:
    return hashlib.sha256(ap_id.encode()).hexdigest()


def _federated() -> dict[type, str]:
    """The models that federate, with the ActivityStreams type their documents have."""
    from maillage.communities.community.models import Community
    from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
    from maillage.communities.events.models import Event
    from maillage.communities.posts.models import Comment, Post
    from maillage.communities.users.models import User

    return {
        Post: "Page",
        Comment: "Note",
        DiscussionTopic: "Page",
        DiscussionReply: "Note",
        Event: "Event",
        User: "Person",
        Community: "Group",
    }


def tombstone_for(session: Session, ap_id: str) -> Tombstone | None:
    return session.scalar(select(Tombstone).where(Tombstone.digest == digest(ap_id)))


def is_retired(session: Session, ap_id: str) -> bool:
    return tombstone_for(session, ap_id) is not None or digest(ap_id) in _pending(session)


def username_retired(username: str) -> bool:
    """Whether ``username`` belonged to a deleted account (its id may not be issued again)."""
    from maillage.federation.ids import local_ap_id
    from maillage.platform.extensions import db

    return is_retired(db.session, local_ap_id("user", username.strip().lower()))


def _pending(session: Session) -> set[str]:
    return session.info.setdefault(_PENDING, set())


def retire(session: Session, retiring: list[tuple[str, str]]) -> None:
    """Add a tombstone for each ``(ap_id, former_type)`` that has none yet (one query)."""
    pending = _pending(session)
    wanted = {digest(ap_id): (ap_id, kind) for ap_id, kind in retiring if ap_id}
    wanted = {key: value for key, value in wanted.items() if key not in pending}
    if not wanted:
        return
    with session.no_autoflush:
        known = set(session.scalars(select(Tombstone.digest).where(Tombstone.digest.in_(wanted))))
    for key, (ap_id, kind) in wanted.items():
        if key not in known:
            # A person's old id is their username: the digest answers for it, nothing names them.
            session.add(Tombstone(digest=key, ap_id=None if kind == "Person" else ap_id, type=kind))
        pending.add(key)


def _old_ap_id(obj) -> str | None:
    """The id ``obj`` had before this flush, when it changed (account deletion renames)."""
    history = inspect(obj).attrs.ap_id.history
    old = next((value for value in history.deleted if value), None)
    return old if old and old != obj.ap_id else None


def _refuse_retired(session: Session, candidates: list) -> None:
    """A new (or renamed) local person or community may not take a retired id."""
    by_digest = {digest(obj.ap_id): obj for obj in candidates}
    if not by_digest:
        return
    taken = set(
        session.scalars(select(Tombstone.digest).where(Tombstone.digest.in_(by_digest)))
    ) | (set(by_digest) & _pending(session))
    if taken:
        for key in taken:
            obj = by_digest[key]
            if obj in session.new:
                session.expunge(obj)  # the caller's next flush must not try again
        raise IdRetired()


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _flush_context, _instances) -> None:
    kinds = _federated()
    retiring, candidates = [], []
    for obj in session.deleted:
        kind = kinds.get(type(obj))
        if kind and obj.local and obj.ap_id:
            retiring.append((obj.ap_id, kind))
    for obj in session.dirty:
        kind = kinds.get(type(obj))
        old = _old_ap_id(obj) if kind and obj.local else None
        if old:
            retiring.append((old, kind))
            if kind in _NAMED and obj.ap_id:
                candidates.append(obj)
    for obj in session.new:
        # ``local`` is still None before the insert applies its default (True).
        if kinds.get(type(obj)) in _NAMED and obj.local is not False and obj.ap_id:
            candidates.append(obj)
    with session.no_autoflush:
        _refuse_retired(session, candidates)
        retire(session, retiring)


@event.listens_for(Session, "do_orm_execute")
def _before_bulk_delete(state) -> None:
    """``delete(Comment).where(...)``: retire the ids of the local rows it is about to remove."""
    if not state.is_delete or state.bind_mapper is None:
        return
    model = state.bind_mapper.class_
    kind = _federated().get(model)
    if kind is None:
        return
    statement = select(model.ap_id).where(model.local.is_(True), model.ap_id.is_not(None))
    if state.statement.whereclause is not None:
        statement = statement.where(state.statement.whereclause)
    ap_ids = state.session.scalars(statement).all()
    retire(state.session, [(ap_id, kind) for ap_id in ap_ids])


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
