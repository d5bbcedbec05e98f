"""Incoming ``Announce`` from a remote Group our users follow (FEP-1b12).

The inner activity was written by someone else; only the group signed the request.  It is
applied only when the group itself signed it (the inbox checked that the key is the
``actor``'s) and when what it carries belongs to that group:

- its type is one a group relays (content, votes, moderation; never a Follow or its answer);
- its actor is not one of ours (a group cannot speak for our users) — and Create/Update never
  name one of our objects;
- content we already hold that it is about (the object, its parent, the undone activity's
  object) is in that group's community, whatever the addressing says;
- then it is addressed to the group, or about content we hold there, or its object fetched
  from its origin says so.

An inner activity whose actor lives on another server than the group is not believed as
embedded: its object (Create/Update) or the activity itself is fetched from that actor's
server.  A plain-object Announce (Mastodon, PeerTube) is turned into a ``Create`` of the
object fetched from its origin, never trusted as embedded.
"""

from __future__ import annotations

from maillage.federation.groups.content import NOTE_TYPES, POST_TYPES, moderated_by_ap_id
from maillage.federation.groups.fetching import embedded_or_fetched, fetch
from maillage.federation.groups.registry import (
    Ignored,
    Incoming,
    Rejected,
    dispatch,
    handles,
    id_of,
    ids_in,
    same_origin,
)
from maillage.federation.groups.targets import addressed_ids
from maillage.federation.ids import is_local_id

OBJECT_TYPES = POST_TYPES | NOTE_TYPES
#: What a group may carry: what our own groups relay (relay.RELAYED).
ANNOUNCEABLE = frozenset(
    {"Create", "Update", "Delete", "Like", "Dislike", "Undo", "Lock", "Block", "Add", "Remove"}
)
#: What an announced ``Undo`` may undo.
UNDOABLE = ANNOUNCEABLE - {"Create", "Update", "Undo"}


@handles("Announce")
def announce(incoming: Incoming) -> None:
    if incoming.announced_by is not None:
        raise Rejected("nested Announce")
    group = incoming.actor()
    if not group.is_group:
        raise Ignored("boosts by people are not shown")
    community = group.community
    if community is None or community.local:
        raise Ignored("a group we do not follow")
    inner = _inner_activity(incoming)
    _check_shape(incoming, inner)
    if not same_origin(id_of(inner.get("actor")), group.ap_id):
        inner = _from_origin(incoming, inner)
    _check_belongs(incoming, inner, group.ap_id, community)
    dispatch(Incoming(inner, incoming.inbox_path, incoming.budget, announced_by=group))


def _inner_activity(incoming: Incoming) -> dict:
    obj = incoming.activity.get("object")
    if isinstance(obj, dict) and obj.get("type") not in OBJECT_TYPES:
        return obj
    document = fetch(incoming, id_of(obj))  # a plain object: only its origin is believed
    if document.get("type") not in OBJECT_TYPES:
        raise Ignored(f"announce of {document.get('type')!r}")
    authors = ids_in(document.get("attributedTo"))
    if not authors:
        raise Rejected("announced object without author")
    return {
        "id": f"{document['id']}#create",
        "type": "Create",
        "actor": authors[0],
        "object": document,
    }


def _check_shape(incoming: Incoming, inner: dict) -> None:
    """A type a group relays, by an actor of another server, never about our own objects
    (Create/Update); an announced ``Undo`` gets its undone activity embedded (fetched)."""
    kind = inner.get("type")
    if kind == "Announce":
        raise Rejected("nested Announce")
    if kind not in ANNOUNCEABLE:
        raise Rejected(f"a group does not announce {kind!r}")
    actor = id_of(inner.get("actor"))
    if not actor or is_local_id(actor):
        raise Rejected("announced activity of one of our own actors")
    if kind in ("Create", "Update") and is_local_id(id_of(inner.get("object"))):
        raise Rejected("announced Create/Update of one of our objects")
    if kind == "Undo":
        undone = embedded_or_fetched(incoming, inner.get("object"))
        if undone.get("type") not in UNDOABLE:
            raise Rejected(f"a group does not announce the Undo of {undone.get('type')!r}")
        if id_of(undone.get("actor")) != actor:
            raise Rejected("an actor can only undo its own activities")
        inner["object"] = undone


def _from_origin(incoming: Incoming, inner: dict) -> dict:
    """The inner activity as its actor's own server publishes it (the actor is not on the
    group's server, so the group's copy proves nothing): the object of a Create/Update,
    else the activity itself, fetched from there."""
    actor = id_of(inner.get("actor"))
    kind = inner.get("type")
    if kind in ("Create", "Update"):
        embedded = inner.get("object")
        document = fetch(incoming, id_of(embedded))
        if not same_origin(id_of(document), actor) or actor not in ids_in(
            document.get("attributedTo")
        ):
            raise Rejected("announced object is not its actor's at its origin")
        return {**inner, "object": document}
    if not same_origin(id_of(inner), actor):
        raise Rejected("announced activity id and actor of different origins")
    if kind == "Delete":
        return _delete_from_origin(incoming, inner, actor)
    document = fetch(incoming, id_of(inner))
    if document.get("type") != kind or id_of(document.get("actor")) != actor:
        raise Rejected("announced activity differs from its origin's")
    if kind == "Undo":
        if id_of(document.get("object")) != id_of(inner["object"]):
            raise Rejected("announced Undo differs from its origin's")
        undone = fetch(incoming, id_of(inner["object"]))
        if undone.get("type") not in UNDOABLE or id_of(undone.get("actor")) != actor:
            raise Rejected("announced Undo of an activity its origin does not serve")
        document["object"] = undone
    return document


def _delete_from_origin(incoming: Incoming, inner: dict, actor: str) -> dict:
    """A ``Delete`` is believed when its origin serves it, or when the object it deletes is
    gone from (or a Tombstone at) the object's origin."""
    try:
        document = fetch(incoming, id_of(inner))
    except Rejected:
        document = None
    if document is not None:
        if document.get("type") != "Delete" or id_of(document.get("actor")) != actor:
            raise Rejected("announced Delete differs from its origin's")
        return document
    target = id_of(inner.get("object"))
    if not target or is_local_id(target):
        raise Rejected("announced Delete not confirmed by its origin")
    try:
        still = fetch(incoming, target)
    except Rejected:
        return inner  # gone at its origin
    if still.get("type") != "Tombstone":
        raise Rejected("announced Delete of an object its origin still serves")
    return inner


def _held_ids(inner: dict) -> list[str]:
    """The ids of what the activity is about that may be rows of ours: its object, that
    object's parent, and for an ``Undo`` the undone activity's object and its parent."""
    candidates = [inner.get("object")]
    obj = inner.get("object")
    if isinstance(obj, dict):
        candidates.append(obj.get("inReplyTo"))
        if inner.get("type") == "Undo":
            undone_object = obj.get("object")
            candidates.append(undone_object)
            if isinstance(undone_object, dict):
                candidates.append(undone_object.get("inReplyTo"))
    return [found for found in (id_of(value) for value in candidates) if found]


def _check_held(inner: dict, community) -> bool:
    """Content we hold that the activity is about must be in the group's community, whatever
    its addressing says; True when some is (it then belongs to the group)."""
    held = False
    for ap_id in _held_ids(inner):
        row, row_community = moderated_by_ap_id(ap_id)
        if row is None:
            continue
        if row_community is None or row_community.id != community.id:
            raise Rejected("announced activity about another group's content")
        held = True
    return held


def _check_belongs(incoming: Incoming, inner: dict, group_id: str, community) -> None:
    obj = inner.get("object")
    if _check_held(inner, community):
        return
    if group_id in _addresses(inner, obj):
        return
    if isinstance(obj, dict) and group_id in ids_in(obj.get("attributedTo")):
        return  # PeerTube: a video is attributed to its channel
    if id_of(obj) and id_of(obj) != id_of(inner.get("actor")) and not is_local_id(id_of(obj)):
        document = fetch(incoming, id_of(obj))
        if group_id in _addresses(document):
            return
    raise Rejected("announced activity does not belong to the group")


def _addresses(*documents) -> set[str]:
    found = addressed_ids(*[document for document in documents if isinstance(document, dict)])
    return {ap_id.removesuffix("/followers") for ap_id in found}
