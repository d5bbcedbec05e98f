"""Our users and remote communities: follow, unfollow, the group's answer.

A remote community is a shadow ``Community`` row (``local`` False, slug ``name@host``) created
by ``federation.actors``; following it sends ``Follow`` signed by the person to the Group's
inbox and records a ``RemoteFollow``; the Group's ``Accept`` (handled by ``federation.groups``,
which calls :func:`follow_answered`) makes the person a member of the shadow community, so the
permission policy lets them post, comment and react there like anywhere else.
"""

from __future__ import annotations

import logging
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from maillage.communities.community.models import Community, Role
from maillage.communities.users.models import User
from maillage.federation.outgoing import activities
from maillage.federation.outgoing.models import FollowState, RemoteFollow
from maillage.federation.outgoing.publish import enqueue, host_of
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db

log = logging.getLogger(__name__)

HANDLE_RE = re.compile(r"^[!@]?([a-z0-9_.~-]+)@([a-z0-9.-]+(?::\d{1,5})?)$", re.IGNORECASE)


class RemoteLookupError(OperationError):
    """The handle or address could not become a remote community (message says why)."""


def parse_target(handle_or_url: str) -> tuple[str, str]:
    """``("url", url)`` or ``("handle", "name@host")``; raises with a French message."""
    text = (handle_or_url or "").strip()
    if not text:
        raise RemoteLookupError(_l("Indiquez l'identifiant (!nom@instance) ou l'adresse."))
    if len(text) > 500:
        raise RemoteLookupError(_l("Cet identifiant est trop long."))
    if text.lower().startswith(("https://", "http://")):
        if not host_of(text):
            raise RemoteLookupError(_l("Cette adresse n'est pas valable."))
        return "url", text
    match = HANDLE_RE.match(text)
    if match is None:
        raise RemoteLookupError(
            _l(
                "Identifiant invalide : écrivez !nom@instance, nom@instance ou une adresse https://."
            )
        )
    return "handle", f"{match.group(1)}@{match.group(2)}".lower()


def _target_host(kind: str, value: str) -> str:
    return host_of(value) if kind == "url" else value.rsplit("@", 1)[1].split(":", maxsplit=1)[0]


def resolve_group(handle_or_url: str):
    """The RemoteActor of a remote Group, with a clear French error for each failure."""
    from maillage.federation.actors import operations as actors
    from maillage.federation.transport.policy import domain_allowed

    kind, value = parse_target(handle_or_url)
    host = _target_host(kind, value)
    if not domain_allowed(host):
        raise RemoteLookupError(
            _l("L'instance %(host)s n'est pas autorisée par la politique de fédération."),
            host=host,
        )
    try:
        remote = actors.resolve_actor(value) if kind == "url" else actors.resolve_handle(value)
    except Exception as exc:
        raise _lookup_error(exc, host) from exc
    if remote is None:
        raise RemoteLookupError(_l("Aucune communauté « %(what)s » n'a été trouvée."), what=value)
    if remote.type != "Group":
        raise RemoteLookupError(
            _l("« %(what)s » n'est pas une communauté (c'est un compte de type %(type)s)."),
            what=value,
            type=remote.type,
        )
    return remote


def _lookup_error(exc: Exception, host: str) -> RemoteLookupError:
    """Tell apart "nobody answers" from "they answered: no such name" from "refused"."""
    from maillage.federation.actors.operations import UnknownHandle

    reason = str(getattr(exc, "reason", "") or exc).lower()
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    status = getattr(cause, "status", None) if cause is not exc else None
    log.info("remote lookup on %s failed: %r (%r)", host, exc, cause)
    if "not allowed" in reason:
        return RemoteLookupError(
            _l("L'instance %(host)s n'est pas autorisée par la politique de fédération."),
            host=host,
        )
    # WebFinger answered without such an account (an empty 200 included), or the URL is gone.
    if isinstance(exc, UnknownHandle) or status in (404, 410):
        return RemoteLookupError(_l("Identifiant inconnu sur l'instance %(host)s."), host=host)
    if status in (401, 403):
        return RemoteLookupError(
            _l("L'instance %(host)s refuse de répondre à notre instance."), host=host
        )
    if "failed" in reason or cause is not exc:
        return RemoteLookupError(
            _l("L'instance %(host)s est injoignable ou n'a pas répondu correctement."),
            host=host,
        )
    if isinstance(exc, OperationError):
        return RemoteLookupError(exc.message, **exc.params)
    return RemoteLookupError(
        _l("L'instance %(host)s est injoignable ou n'a pas répondu correctement."), host=host
    )


def follow_remote(user: User, handle_or_url: str) -> RemoteFollow:
    """Ask to follow a remote community; pending until its Group accepts."""
    from maillage.federation.actors.operations import shadow_community

    if not user.local:
        raise NotAllowed(_l("Seuls les comptes de cette instance peuvent suivre une communauté."))
    remote = resolve_group(handle_or_url)
    community = shadow_community(remote)
    if community.local:
        raise RemoteLookupError(_l("Cette communauté est hébergée ici : rejoignez-la directement."))
    follow = _follow_row(user, community)
    if follow.state == FollowState.ACCEPTED and _is_member(community, user):
        raise Conflict(_l("Vous suivez déjà « %(name)s »."), name=community.name)
    follow.follow_activity_id = activities.new_activity_id("follow")
    follow.state, follow.answered_at, follow.created_at = FollowState.PENDING, None, utcnow()
    db.session.flush()
    document = {
        "@context": activities.CONTEXT,
        "id": follow.follow_activity_id,
        "type": "Follow",
        "actor": user.ap_id,
        "object": remote.ap_id,
        "to": [remote.ap_id],
    }
    enqueue(document, [remote.inbox or remote.shared_inbox], user.ap_id)
    record(user, "federation.follow", community, group=remote.ap_id)
    return follow


def _follow_row(user: User, community: Community) -> RemoteFollow:
    follow = db.session.scalar(
        select(RemoteFollow).where(
            RemoteFollow.user_id == user.id, RemoteFollow.community_id == community.id
        )
    )
    if follow is None:
        follow = RemoteFollow(
            user=user,
            community=community,
            state=FollowState.PENDING,
            follow_activity_id=activities.new_activity_id("follow"),
        )
        db.session.add(follow)
    return follow


def _is_member(community: Community, user: User) -> bool:
    from maillage.communities.community.operations import membership_of

    return membership_of(community, user) is not None


def remote_follow_of(user: User, community: Community) -> RemoteFollow | None:
    return db.session.scalar(
        select(RemoteFollow).where(
            RemoteFollow.user_id == user.id, RemoteFollow.community_id == community.id
        )
    )


def unfollow_remote(user: User, community: Community) -> None:
    """Stop following: ``Undo{Follow}`` to the Group, membership of the shadow removed."""
    from maillage.communities.community.operations import remove_membership

    follow = remote_follow_of(user, community)
    if follow is None and not _is_member(community, user):
        raise OperationError(_l("Vous ne suivez pas cette communauté."))
    if _is_member(community, user):
        remove_membership(community, user)  # member_left: the subscriber sends the Undo
    else:
        send_undo_follow(user, community)
    record(user, "federation.unfollow", community)


def send_undo_follow(user: User, community: Community) -> dict | None:
    """Send ``Undo{Follow}`` for ``user``'s follow of ``community`` and forget the follow."""
    from maillage.federation.actors.operations import remote_actor_for

    follow = remote_follow_of(user, community)
    if follow is None:
        return None
    remote = remote_actor_for(community)
    db.session.delete(follow)
    if remote is None:
        return None
    inner = {
        "id": follow.follow_activity_id,
        "type": "Follow",
        "actor": user.ap_id,
        "object": remote.ap_id,
        "to": [remote.ap_id],
    }
    undo = activities.undo(user.ap_id, inner, to=[remote.ap_id], cc=[], audience=None)
    enqueue(undo, [remote.inbox or remote.shared_inbox], user.ap_id)
    return undo


def follow_answered(follow_activity_id: str, accepted: bool, group_actor) -> RemoteFollow | None:
    """The remote Group accepted or rejected our Follow (called by ``federation.groups``).

    ``group_actor`` (a RemoteActor or an ap id) must be the Group that was followed: another
    server cannot accept a follow on its behalf.  Idempotent.
    """
    from maillage.communities.community.operations import add_membership, remove_membership

    follow = db.session.scalar(
        select(RemoteFollow).where(RemoteFollow.follow_activity_id == follow_activity_id)
    )
    group_id = getattr(group_actor, "ap_id", group_actor)
    if follow is None or follow.community.ap_id != group_id:
        log.info("answer to unknown follow %s from %s ignored", follow_activity_id, group_id)
        return None
    community, user = follow.community, follow.user
    follow.answered_at = utcnow()
    if accepted:
        follow.state = FollowState.ACCEPTED
        if not _is_member(community, user):
            add_membership(community, user, Role.MEMBER)
    else:
        follow.state = FollowState.REJECTED
        if _is_member(community, user):
            remove_membership(community, user)
    record(None, "federation.follow_answered", community, user=user.id, accepted=accepted)
    return follow


def followed_communities(user: User) -> list[RemoteFollow]:
    """The person's remote follows, newest first (the follow page)."""
    from sqlalchemy.orm import joinedload

    return list(
        db.session.scalars(
            select(RemoteFollow)
            .options(joinedload(RemoteFollow.community))
            .where(RemoteFollow.user_id == user.id)
            .order_by(RemoteFollow.created_at.desc(), RemoteFollow.id.desc())
        )
    )
