"""Moderation federates (Lemmy's shapes): removal is a ``Delete`` with ``summary`` (see
``subscribers.publish_delete``), locks ``Lock``/``Undo{Lock}``, bans ``Block``/``Undo{Block}``,
moderator and pinned changes ``Add``/``Remove`` on the ``moderators``/``featured`` collections,
reports ``Flag`` to the remote Group.

For a local community the moderator's activity is announced by the Group; for a remote one
only reports leave (to that Group's inbox), the rest is the remote Group's own business.
Each function queues its deliveries in the current transaction and returns the activity (None
when nothing leaves).  ``subscribers`` wires them to the signals that exist.
"""

from __future__ import annotations

from maillage.federation.outgoing import activities, publish
from maillage.federation.outgoing.subscribers import inner_addressing


def _announce(community, actor, kind: str, obj, *, extra_inboxes=(), **fields) -> dict | None:
    if not community.local or not publish.enabled():
        return None
    if actor is None or not getattr(actor, "local", False):
        return None

    def build(addressing):
        to, cc = inner_addressing(community, addressing.public)
        return activities.activity(
            kind, actor.ap_id, obj, to=to, cc=cc, audience=community.ap_id, **fields
        )

    addressing = publish.local_group_addressing(community)
    if addressing is None:
        return None
    inboxes = list(dict.fromkeys([*addressing.inboxes, *extra_inboxes]))
    if not inboxes:
        return None
    inner = build(addressing)
    wrapper = activities.announce(community.ap_id, inner, to=addressing.to, cc=addressing.cc)
    publish.enqueue(wrapper, inboxes, community.ap_id)
    return wrapper


def _undo_of(kind: str, actor, obj, community, **fields) -> dict:
    to, cc = inner_addressing(community, community.visibility == "public")
    return activities.activity(
        kind, actor.ap_id, obj, to=to, cc=cc, audience=community.ap_id, context=False, **fields
    )


def _remote_inbox(user) -> list[str]:
    """The banned person's own instance hears of it even when it follows nothing here."""
    from maillage.federation.actors.operations import remote_actor_for

    if getattr(user, "local", True):
        return []
    remote = remote_actor_for(user)
    if remote is None:
        return []
    return [remote.shared_inbox or remote.inbox] if (remote.shared_inbox or remote.inbox) else []


def publish_block(community, member, actor, reason: str, ends_at=None, *, undo=False):
    """``Block`` (ban) of ``member`` from a local community, or its ``Undo`` (lift)."""
    end_time = ends_at.isoformat() if ends_at is not None else None
    if not undo:
        return _announce(
            community,
            actor,
            "Block",
            member.ap_id,
            extra_inboxes=_remote_inbox(member),
            target=community.ap_id,
            summary=reason or None,
            endTime=end_time,
            removeData=False,
        )
    block = _undo_of("Block", actor, member.ap_id, community, target=community.ap_id)
    return _announce(community, actor, "Undo", block, extra_inboxes=_remote_inbox(member))


def publish_lock(thread, community, actor, locked: bool, reason: str | None = None):
    """``Lock`` of a post's or topic's comments, or ``Undo{Lock}``."""
    if not getattr(thread, "ap_id", None):
        return None
    if locked:
        return _announce(community, actor, "Lock", thread.ap_id, summary=reason)
    lock = _undo_of("Lock", actor, thread.ap_id, community)
    return _announce(community, actor, "Undo", lock, summary=reason)


def publish_moderator(community, member, actor, added: bool):
    """``Add``/``Remove`` of ``member`` on the community's moderators collection."""
    kind = "Add" if added else "Remove"
    return _announce(community, actor, kind, member.ap_id, target=f"{community.ap_id}/moderators")


def publish_featured(community, obj, actor, added: bool):
    """``Add``/``Remove`` of a pinned post or announcement on the featured collection."""
    if not getattr(obj, "ap_id", None):
        return None
    kind = "Add" if added else "Remove"
    return _announce(community, actor, kind, obj.ap_id, target=f"{community.ap_id}/featured")


def publish_flag(reporter, obj, community, reason: str) -> dict | None:
    """Our person reports content of a REMOTE community: ``Flag`` to that Group's inbox."""
    if community.local or not getattr(reporter, "local", False) or not publish.enabled():
        return None
    object_id = getattr(obj, "ap_id", None)
    if not object_id:
        return None

    def build(_addressing):
        return activities.activity(
            "Flag",
            reporter.ap_id,
            object_id,
            to=[community.ap_id],
            cc=[],
            audience=community.ap_id,
            summary=reason or None,
        )

    return publish.send_to_remote_group(community, reporter.ap_id, build)
