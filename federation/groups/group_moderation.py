"""Flag (reports), Lock, Block (bans), Add/Remove of moderators and featured, Update{Group}.

On our own communities a remote moderator acts through the moderation operations, which check
their role like a local moderator's.  On a remote community (a shadow row), the remote Group is
the authority: what it announces (signed by it, about itself) is applied to the shadow rows.
"""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.community.models import Role
from maillage.communities.permissions import MODERATING_ROLES, can
from maillage.communities.posts.models import Post
from maillage.federation.groups.content import finish, finish_undo
from maillage.federation.groups.registry import (
    Ignored,
    Incoming,
    Rejected,
    handles,
    id_of,
    ids_in,
    undoes,
)
from maillage.federation.groups.targets import community_by_ap_id, community_of, content_by_ap_id
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, OperationError

REMOTE_REASON = "Signalé depuis une autre instance"


@handles("Flag")
def flag(incoming: Incoming) -> None:
    """A report from another server ⇒ a report in our moderation queue (never relayed)."""
    from maillage.communities.moderation.operations import report

    rows = [content_by_ap_id(ap_id) for ap_id in ids_in(incoming.activity.get("object"))]
    rows = [row for row in rows if row is not None]
    if not rows:
        raise Ignored("report on nothing we have")
    reporter = incoming.user()
    reason = incoming.activity.get("summary") or incoming.activity.get("content") or ""
    reason = " ".join(str(reason).split())[:1000] or REMOTE_REASON
    for row in rows:
        try:
            report(reporter, row, "other", reason)
        except Conflict:
            continue  # already reported by this person
        except OperationError as exc:
            raise Rejected(str(exc)) from exc


def _group_authority(incoming: Incoming, community) -> bool:
    """Whether the remote group that owns ``community`` vouches for this activity."""
    group = incoming.announced_by
    return not community.local and group is not None and group.community_id == community.id


def _post(incoming: Incoming) -> Post:
    row = content_by_ap_id(id_of(incoming.activity.get("object")))
    if not isinstance(row, Post):
        raise Ignored("lock of something we do not have")
    return row


@handles("Lock")
def lock(incoming: Incoming) -> None:
    _set_lock(incoming, locked=True)


@undoes("Lock")
def unlock(incoming: Incoming) -> None:
    _set_lock(incoming, locked=False)


def _set_lock(incoming: Incoming, *, locked: bool) -> None:
    post = _post(incoming)
    community = community_of(post)
    if _group_authority(incoming, community):
        post.locked_at = utcnow() if locked else None
        record(None, "federation.lock" if locked else "federation.unlock", post)
        return
    if not community.local:
        raise Rejected("not announced by the post's group")
    from maillage.communities.moderation.operations import lock as moderation_lock

    user = incoming.user()
    if post.locked == locked:
        return
    try:
        moderation_lock(user, post, locked)
    except OperationError as exc:
        raise Rejected(str(exc)) from exc
    (finish if locked else finish_undo)(incoming, community)


def _blocked_community(incoming: Incoming):
    community = community_by_ap_id(id_of(incoming.activity.get("target")))
    if community is None:
        raise Ignored("block outside a community we know (instance bans are not applied)")
    return community


def _person(ap_id: str):
    """Our local user, or the shadow of a remote person."""
    from maillage.communities.users.models import User
    from maillage.platform.extensions import db

    user = db.session.scalar(select(User).where(User.ap_id == ap_id))
    if user is None:
        raise Ignored("unknown person")
    return user


@handles("Block")
def block(incoming: Incoming) -> None:
    from maillage.communities.moderation.operations import ban

    community = _blocked_community(incoming)
    member = _person(id_of(incoming.activity.get("object")))
    reason = str(incoming.activity.get("summary") or "Exclu·e par la modération")[:1000]
    if _group_authority(incoming, community):
        _remote_ban(community, member, reason)
        return
    if not community.local:
        raise Rejected("not announced by the group")
    moderator = incoming.user()
    try:
        ban(moderator, community, member, reason, None)
    except Conflict:
        return
    except OperationError as exc:
        raise Rejected(str(exc)) from exc
    finish(incoming, community)


def _remote_ban(community, member, reason: str) -> None:
    from maillage.communities.community.operations import membership_of, remove_membership
    from maillage.communities.moderation.models import Sanction, SanctionKind
    from maillage.communities.moderation.queries import active_sanction
    from maillage.platform.extensions import db

    if active_sanction(member, community, SanctionKind.BAN, utcnow()) is None:
        db.session.add(
            Sanction(community_id=community.id, user_id=member.id, kind="ban", reason=reason)
        )
    if membership_of(community, member) is not None:
        remove_membership(community, member)
    record(None, "federation.ban", community, community=community, user=member.id)


@undoes("Block")
def unblock(incoming: Incoming) -> None:
    from maillage.communities.moderation.models import SanctionKind
    from maillage.communities.moderation.queries import active_sanction

    community = _blocked_community(incoming)
    member = _person(id_of(incoming.activity.get("object")))
    sanction = active_sanction(member, community, SanctionKind.BAN, utcnow())
    if sanction is None:
        return
    if _group_authority(incoming, community):
        sanction.lifted_at = utcnow()
        record(None, "federation.unban", community, community=community, user=member.id)
        return
    if not community.local:
        raise Rejected("not announced by the group")
    from maillage.communities.moderation.operations import lift

    user = incoming.user()
    if not can(user, "ban", community):
        raise Rejected("only facilitators lift a ban")
    try:
        lift(user, sanction)
    except OperationError as exc:
        raise Rejected(str(exc)) from exc
    finish_undo(incoming, community)


@handles("Add", "Remove")
def add_or_remove(incoming: Incoming) -> None:
    """Moderators of a remote group (as it announces them), or of one of ours (changed by a
    remote facilitator through our operations, then relayed).  Featured posts are not shown."""
    target = id_of(incoming.activity.get("target"))
    group = incoming.announced_by
    if group is not None and group.community is not None:
        if target and target in (group.moderators, f"{group.ap_id}/moderators"):
            _set_moderator(group.community, incoming, add=incoming.type == "Add")
            return
        raise Ignored("featured posts are not shown in Maillage")
    community = community_by_ap_id(target.removesuffix("/moderators"))
    if community is None or not community.local or not target.endswith("/moderators"):
        raise Ignored("Add/Remove of something else than our moderators")
    if _change_moderator(incoming, community, add=incoming.type == "Add"):
        finish(incoming, community)


def _change_moderator(incoming: Incoming, community, *, add: bool) -> bool:
    """Whether the role changed (what did not change is not relayed)."""
    from maillage.communities.community.operations import change_role, membership_of

    actor = incoming.user()
    if not can(actor, "manage_members", community):
        raise Rejected("only facilitators change the moderators")
    person = _person(id_of(incoming.activity.get("object")))
    membership = membership_of(community, person)
    if membership is None:
        raise Rejected("only members become moderators")
    moderates = membership.role in MODERATING_ROLES
    if moderates == add:
        return False
    try:
        change_role(community, actor, person, Role.MODERATOR if add else Role.MEMBER)
    except OperationError as exc:
        raise Rejected(str(exc)) from exc
    return True


def _set_moderator(community, incoming: Incoming, *, add: bool) -> None:
    from maillage.communities.community.operations import add_membership, membership_of

    person = _person(id_of(incoming.activity.get("object")))
    membership = membership_of(community, person)
    role = Role.MODERATOR if add else Role.MEMBER
    if membership is None:
        if add:
            add_membership(community, person, role)
        return
    if membership.role in (Role.MEMBER, Role.MODERATOR):
        membership.role = role
    record(None, "federation.moderator", community, community=community, user=person.id, add=add)


def update_group(incoming: Incoming, obj: dict) -> None:
    """``Update{Group}``: the remote group's document fetched again from its origin (the
    embedded copy is only a hint) and applied to its shadow community."""
    from maillage.federation.actors.documents import ActorError
    from maillage.federation.actors.operations import resolve_actor

    group_id = id_of(obj)
    vouched = incoming.announced_by is not None and incoming.announced_by.ap_id == group_id
    if not vouched and incoming.actor_id != group_id:
        raise Rejected("a group is updated by itself")
    if community_by_ap_id(group_id) is None:
        raise Ignored("group we do not follow")
    try:
        resolve_actor(group_id, refresh=True, budget=incoming.budget)
    except ActorError as exc:
        raise Rejected(f"group not fetched: {exc.reason}") from exc
