"""Incoming ``Announce`` from a remote Group our users follow (FEP-1b12).

The inner activity was written by someone else; only the group signed the request.  It is
applied only when the group itself signed it (the inbox checked that the key is the
``actor``'s) and when what it carries belongs to that group: addressed to it (``audience``,
``to``/``cc``), or about content we already hold in that group, or — failing both — the object
fetched from its origin says so.  A plain-object Announce (Mastodon, PeerTube) is turned into a
``Create`` of the object fetched from its origin, never trusted as embedded.
"""

from __future__ import annotations

from maillage.federation.groups.content import NOTE_TYPES, POST_TYPES
from maillage.federation.groups.fetching import fetch
from maillage.federation.groups.registry import (
    Ignored,
    Incoming,
    Rejected,
    dispatch,
    handles,
    id_of,
    ids_in,
)
from maillage.federation.groups.targets import addressed_ids, community_of, content_by_ap_id

OBJECT_TYPES = POST_TYPES | NOTE_TYPES


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
    if inner.get("type") == "Announce":
        raise Rejected("nested Announce")
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


def _check_belongs(incoming: Incoming, inner: dict, group_id: str, community) -> None:
    obj = inner.get("object")
    if group_id in _addresses(inner, obj):
        return
    if isinstance(obj, dict) and group_id in ids_in(obj.get("attributedTo")):
        return  # PeerTube: a video is attributed to its channel
    held = content_by_ap_id(id_of(obj))
    if held is not None:
        if community_of(held).id != community.id:
            raise Rejected("announced activity about another group's content")
        return
    if id_of(obj) and id_of(obj) != id_of(inner.get("actor")):
        document = fetch(incoming, id_of(obj))
        if group_id in _addresses(document):
            return
    raise Rejected("announced activity does not belong to the group")


def _addresses(*documents) -> set[str]:
    found = addressed_ids(*[document for document in documents if isinstance(document, dict)])
    return {ap_id.removesuffix("/followers") for ap_id in found}
