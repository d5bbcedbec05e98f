"""Moderation federates (Lemmy's shapes), from the ``moderation_action`` and
``member_role_changed`` signals:

- hide ⇒ ``Delete`` with ``summary`` (the reason), restore ⇒ ``Undo{Delete}``: Lemmy's removal
  by a moderator, which its receivers keep as "removed" and can restore;
- delete ⇒ the ``Delete`` the content's own operation sends (``subscribers.publish_delete``),
  with the moderator's reason as ``summary``;
- lock/unlock ⇒ ``Lock``/``Undo{Lock}``; ban/unban ⇒ ``Block``/``Undo{Block}`` with ``target``
  the community, ``summary`` and ``expires`` (also sent to the banned person's own instance);
- a role change across "moderates" (owner, facilitator, moderator) ⇒ ``Add``/``Remove`` of the
  person on ``<community>/moderators``;
- report of content in a REMOTE community ⇒ ``Flag`` to that Group's inbox, signed by the
  reporter (reports in our own communities stay with our moderators);
- mute/unmute stay local: ActivityPub groups have no per-community mute.

For a local community the moderator's activity is wrapped in the Group's ``Announce`` and sent
to the follower instances (signed by the community); what our people do as moderators of a
remote community is that Group's business, only reports leave.  Every function queues its
deliveries in the current transaction and returns the activity (None when nothing leaves).

Pinned announcements (communities/animation) do NOT federate as featured posts: they are not
posts — no ``ap_id``, no object URL that answers with ActivityPub (``actors.serialize`` has no
document for them), and Lemmy/PieFed dereference what is ``Add``-ed to ``featured`` and expect
a post of the community there.  The ``featured`` collection lists pinned discussion topics;
:func:`publish_featured` is ready for them when pinning a topic sends a signal.
"""

from __future__ import annotations

from maillage.federation.outgoing import activities, publish
from maillage.federation.outgoing.publish import inner_addressing

REMOVAL_SUMMARY = "Retiré par la modération"
#: Attribute set on a content row by ``moderation.delete``'s signal, read by publish_delete.
_REASON_ATTRIBUTE = "_federation_removal_reason"


def object_document(obj) -> dict | None:
    """The AS2 document of ``obj``, None for kinds that never federate."""
    from maillage.federation.actors.serialize import object_for

    try:
        return object_for(obj)
    except (LookupError, NotImplementedError, TypeError):
        return None


def removal_reason(obj) -> str | None:
    return getattr(obj, _REASON_ATTRIBUTE, None)


def _local_person(user) -> bool:
    return user is not None and bool(getattr(user, "local", False))


def _announce(community, actor, kind: str, obj, *, extra_inboxes=(), **fields) -> dict | None:
    """The moderator's ``kind`` activity, announced by the local Group to its followers."""
    if not community.local or not publish.enabled() or not _local_person(actor):
        return None

    def build(addressing):
        to, cc = inner_addressing(community, addressing.public)
        return activities.activity(
            kind, actor.ap_id, obj, to=to, cc=cc, audience=community.ap_id, **fields
        )

    return publish.announce_local(community, build, extra_inboxes=extra_inboxes)


def _inner(kind: str, actor, obj, community, **fields) -> dict:
    """An activity to embed in an ``Undo`` (a fresh id: we do not keep the first one)."""
    to, cc = inner_addressing(community, community.visibility == "public")
    return activities.activity(
        kind, actor.ap_id, obj, to=to, cc=cc, audience=community.ap_id, context=False, **fields
    )


def _remote_inbox(user) -> list[str]:
    """The person's own instance hears of it even when it follows nothing here."""
    from maillage.federation.actors.operations import remote_actor_for

    if user is None or getattr(user, "local", True):
        return []
    remote = remote_actor_for(user)
    inbox = remote and (remote.shared_inbox or remote.inbox)
    return [inbox] if inbox else []


def publish_removal(obj, community, actor, reason: str, *, undo: bool = False):
    """Hide ⇒ ``Delete`` with ``summary``; restore ⇒ ``Undo{Delete}``.

    A remote person's content: their own instance hears it too, even when it follows nothing
    here — it is where the object lives, and where the removal is read back from
    (``removal_checks``)."""
    object_id = getattr(obj, "ap_id", None)
    if not object_id or not community.local or object_document(obj) is None:
        return None
    summary = reason or REMOVAL_SUMMARY
    inboxes = _remote_inbox(getattr(obj, "author", None))
    if not undo:
        return _announce(
            community, actor, "Delete", object_id, summary=summary, extra_inboxes=inboxes
        )
    if not _local_person(actor):
        return None
    delete = _inner("Delete", actor, object_id, community, summary=summary)
    return _announce(community, actor, "Undo", delete, extra_inboxes=inboxes)


def publish_block(community, member, actor, reason: str, ends_at=None, *, undo=False):
    """``Block`` (ban) of ``member`` from a local community, or its ``Undo`` (lift)."""
    if not getattr(member, "ap_id", None) or not _local_person(actor):
        return None
    expires = ends_at.isoformat() if ends_at is not None else None
    fields = {
        "target": community.ap_id,
        "summary": reason or None,
        "expires": expires,
        "endTime": expires,  # Lemmy before 0.19 read this name
        "removeData": False,
    }
    inboxes = _remote_inbox(member)
    if not undo:
        return _announce(community, actor, "Block", member.ap_id, extra_inboxes=inboxes, **fields)
    block = _inner("Block", actor, member.ap_id, community, **fields)
    return _announce(community, actor, "Undo", block, extra_inboxes=inboxes)


def publish_lock(thread, community, actor, locked: bool, reason: str | None = None):
    """``Lock`` of a post's or topic's comments, or ``Undo{Lock}``."""
    if not getattr(thread, "ap_id", None) or object_document(thread) is None:
        return None
    if locked:
        return _announce(community, actor, "Lock", thread.ap_id, summary=reason or None)
    if not _local_person(actor):
        return None
    lock = _inner("Lock", actor, thread.ap_id, community)
    return _announce(community, actor, "Undo", lock, summary=reason or None)


def publish_moderator(community, member, actor, added: bool):
    """``Add``/``Remove`` of ``member`` on the community's moderators collection."""
    kind = "Add" if added else "Remove"
    return _announce(
        community,
        actor,
        kind,
        member.ap_id,
        extra_inboxes=_remote_inbox(member),
        target=f"{community.ap_id}/moderators",
    )


def publish_featured(community, obj, actor, added: bool):
    """``Add``/``Remove`` of a pinned post or topic on the featured collection."""
    if not getattr(obj, "ap_id", None):
        return None
    kind = "Add" if added else "Remove"
    return _announce(community, actor, kind, obj.ap_id, target=f"{community.ap_id}/featured")


def publish_flag(reporter, obj, community, reason: str) -> dict | None:
    """Our person reports content of a REMOTE community: ``Flag`` to that Group's inbox."""
    if community.local or not _local_person(reporter) or not publish.enabled():
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


# -- signal handlers (wired in ``subscribers``) -------------------------------------------------


def on_moderation(obj, community, actor, action: str, reason: str, expires_at) -> None:
    """One ``moderation_action``: see the module's docstring for what each becomes."""
    from maillage.federation.outgoing import removal_checks

    action = str(action)
    if action == "delete":
        # The content's own delete operation sends the Delete right after: it reads this.
        setattr(obj, _REASON_ATTRIBUTE, reason or REMOVAL_SUMMARY)
        if publish.enabled() and _local_person(actor):
            removal_checks.schedule(obj, community, action)
    elif action in ("hide", "restore"):
        sent = publish_removal(obj, community, actor, reason, undo=action == "restore")
        if sent is not None and action == "hide":
            removal_checks.schedule(obj, community, action, sent)
    elif action in ("lock", "unlock"):
        publish_lock(obj, community, actor, action == "lock")
    elif action in ("ban", "unban"):
        publish_block(community, obj, actor, reason, expires_at, undo=action == "unban")
    elif action == "report":
        publish_flag(actor, obj, community, reason)


def on_role_changed(membership, actor, previous) -> None:
    """``Add``/``Remove`` on the moderators collection when the change crosses "moderates"."""
    from maillage.communities.permissions import MODERATING_ROLES as MODERATOR_ROLES

    was, now = previous in MODERATOR_ROLES, membership.role in MODERATOR_ROLES
    if was != now:
        publish_moderator(membership.community, membership.user, actor, added=now)
