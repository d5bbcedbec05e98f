"""Ids of deleted local objects: kept as tombstones, never issued again.

A peer that saw ``/post/12`` keeps what it learnt under that id; if we later called something
else ``/post/12`` it would drop the new object ("Create processed after Update") and keep showing
the old one.  So:

- numeric ids come from tables with ``AUTOINCREMENT`` on SQLite (PostgreSQL sequences never go
  back), see migration ``0029_federation_tombstones``;
- every local object of a federated kind that is deleted, by the unit of work
  (``session.delete``) or by a bulk ``delete()`` statement, leaves a :class:`Tombstone`, and so
  does the old id of a person whose account deletion gave their row a new one;
- fetching the id answers ``410 Gone`` with a ``Tombstone`` document only when anyone could read
  the object when it was deleted (a person, a public community, what anonymous visitors saw in
  one); otherwise 404, as for an id that never existed: a tombstone must not say that a secret
  community, or a post in a members-only one, existed, what it was and when it went.  Content
  of a private community is readable by allow-listed instances, yet its id answers 404 to them
  too: they got the ``Delete`` when it happened, removal checks take 404 as well as 410, and a
  410 kept for signed fetches would need the signature checked — and the signer's key fetched —
  for those ids only, which would itself tell any signer which ids were private tombstones;
- a new local person or community whose id (made of its username or address) was retired is
  refused — a deleted account's username is never given to someone else.  A public
  community's or a person's gets :class:`IdRetired`; a secret or private community's address
  gets the words an address in use gets (``address_in_use``), the same as for an address taken
  by a community the person cannot see.

Both hooks are SQLAlchemy session events, so no deletion path has to remember to call them.
"""

from __future__ import annotations

import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from maillage.federation.actors.models import Tombstone
from maillage.platform.errors import OperationError

#: ``session.info`` entry: digests already retired in this transaction (not flushed yet), each
#: with whether its object was public.
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


def _pending(session: Session) -> dict[str, bool]:
    return session.info.setdefault(_PENDING, {})


def was_public(obj, kind: str) -> bool:
    """Whether anyone could read ``obj``'s document (what its tombstone may say it was).

    People's documents are served to anyone; everything else follows the rule of the live
    document (``access.readable``) for an anonymous, unsigned request."""
    from maillage.communities.community.models import Visibility
    from maillage.federation.actors.access import _public_view, community_of

    if kind == "Person":
        return True
    community = community_of(obj)
    return community is not None and community.visibility == Visibility.PUBLIC and _public_view(obj)


def retire(session: Session, retiring: list[tuple[str, str, bool]]) -> None:
    """Add a tombstone for each ``(ap_id, former_type, public)`` that has none yet (one query)."""
    pending = _pending(session)
    wanted = {digest(ap_id): (ap_id, kind, public) for ap_id, kind, public in retiring if ap_id}
    wanted = {key: value for key, value in wanted.items() if key not in pending}
    if not wanted:
        return
    with session.no_autoflush:
        known = set(session.scalars(select(Tombstone.digest).where(Tombstone.digest.in_(wanted))))
    for key, (ap_id, kind, public) in wanted.items():
        if key not in known:
            # A person's old id is their username: the digest answers for it, nothing names them.
            name = None if kind == "Person" else ap_id
            session.add(Tombstone(digest=key, ap_id=name, type=kind, public=public))
        pending[key] = public


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
    rows = session.execute(
        select(Tombstone.digest, Tombstone.public).where(Tombstone.digest.in_(by_digest))
    )
    pending = _pending(session)
    taken = dict(rows.all()) | {key: pending[key] for key in by_digest if key in pending}
    if not taken:
        return
    for key in taken:
        obj = by_digest[key]
        if obj in session.new:
            session.expunge(obj)  # the caller's next flush must not try again
    raise _refusal(by_digest, taken)


def _refusal(by_digest: dict, taken: dict[str, bool]) -> OperationError:
    """:class:`IdRetired`, but for the address of a community nobody outside could see: the
    words of an address in use, which a secret community's also gets — nothing more."""
    from maillage.communities.community.models import Community
    from maillage.communities.community.operations import address_in_use

    for key, public in taken.items():
        obj = by_digest[key]
        if isinstance(obj, Community) and not public:
            return address_in_use(obj.slug)
    return IdRetired()


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _flush_context, _instances) -> None:
    with session.no_autoflush:
        _refuse_retired(session, _candidates(session))
        retire(session, _retiring(session))


def _retiring(session: Session) -> list[tuple[str, str, bool]]:
    """The ids this flush retires: deleted local objects', and old ids that changed."""
    kinds = _federated()
    retiring = []
    for obj in session.deleted:
        kind = kinds.get(type(obj))
        if kind and obj.local and obj.ap_id:
            retiring.append((obj.ap_id, kind, was_public(obj, kind)))
    for obj in session.dirty:
        kind = kinds.get(type(obj))
        old = _old_ap_id(obj) if kind and obj.local else None
        if old:
            retiring.append((old, kind, was_public(obj, kind)))
    return retiring


def _candidates(session: Session) -> list:
    """New local people and communities, and renamed ones: their id must not be retired."""
    kinds = _federated()
    candidates = []
    for obj in session.dirty:
        if kinds.get(type(obj)) in _NAMED and obj.local and obj.ap_id and _old_ap_id(obj):
            candidates.append(obj)
    for obj in session.new:
        # ``local`` is still None before the insert applies its default (True).
        if kinds.get(type(obj)) in _NAMED and obj.local is not False and obj.ap_id:
            candidates.append(obj)
    return candidates


@event.listens_for(Session, "do_orm_execute")
def _before_bulk_delete(state) -> None:
    """``delete(Comment).where(...)``: retire the ids of the local rows it is about to remove."""
    if not state.is_delete or state.bind_mapper is None:
        return
    model = state.bind_mapper.class_
    kind = _federated().get(model)
    if kind is None:
        return
    statement = select(model).where(model.local.is_(True), model.ap_id.is_not(None))
    if state.statement.whereclause is not None:
        statement = statement.where(state.statement.whereclause)
    rows = state.session.scalars(statement).all()  # whole rows: whether each was public
    retire(state.session, [(obj.ap_id, kind, was_public(obj, kind)) for obj in rows])


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
