"""Every write of moderation: reports, decisions on reported content, sanctions.

Entry points (the web views, the CLI and federation call the same functions)::

    report(reporter, obj, category, reason, *, now=None) -> Report
        ``obj`` is a Post, Comment, DiscussionTopic or DiscussionReply; ``category`` one of
        ``ReportCategory``; ``reason`` free text (may be empty unless the category is
        ``other``).  The reporter must be allowed to ``report`` the object (signed in, may read
        it, not its author).  One open report per person and object (Conflict); at most
        ``MODERATION_REPORTS_PER_HOUR`` reports per person per hour (ReportFlood, HTTP 429).
        Federation calls it with the remote actor's local User for an incoming ``Flag``.
    dismiss(actor, community, kind, object_id, note="")     close the open reports, no change
    hide(actor, obj, reason) / restore(actor, obj)          the author keeps seeing it, with why
    delete(actor, obj, reason)                              through the content's own operation
    lock(actor, thread) / unlock(actor, thread)             a Post or DiscussionTopic
    mute(actor, community, member, reason, until)           until None: permanent
    ban(actor, community, member, reason, until)
    lift(actor, sanction)

Each checks the permission policy, validates everything before changing anything, writes the
audit log with ``community=`` (the community's audit page reads it) and asks for notifications;
the caller commits.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.community.models import (
    Community,
    Invitation,
    JoinRequest,
    RequestStatus,
    Role,
)
from maillage.communities.moderation import queries, targets
from maillage.communities.moderation.models import (
    Report,
    ReportCategory,
    ReportStatus,
    Sanction,
    SanctionKind,
)
from maillage.communities.permissions import can, forget_roles, role_in
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db

REASON_MAX = 2000
DEFAULT_REPORTS_PER_HOUR = 10


class ReportFlood(OperationError):
    """Too many reports in the last hour."""

    status = 429


def _reason(text: str | None, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise OperationError(_l("Indiquez la raison : elle est montrée à la personne concernée."))
    if len(text) > REASON_MAX:
        raise OperationError(_l("La raison fait %(n)d caractères au plus."), n=REASON_MAX)
    return text


def _notify(obj, community, actor, reason, url, title, person) -> None:
    if person is None:
        return
    signals.notification_requested.send(
        obj,
        community=community,
        actor=actor,
        reason=reason,
        url=url,
        title=title,
        recipients=[person],
    )


def _emit(obj, community, actor, action, reason="", expires_at=None) -> None:
    """``moderation_action`` (federation relays it), before the caller commits."""
    signals.moderation_action.send(
        obj, community=community, actor=actor, action=action, reason=reason, expires_at=expires_at
    )


# -- reports -----------------------------------------------------------------------------------


def report(
    reporter: User, obj, category: str, reason: str, *, now: dt.datetime | None = None
) -> Report:
    target = targets.kind_of(obj)
    if not can(reporter, "report", obj):
        raise NotAllowed(_l("Vous ne pouvez pas signaler ce contenu (le vôtre, ou déjà masqué)."))
    if category not in set(ReportCategory):
        raise OperationError(_l("Choisissez le motif du signalement."))
    reason = _reason(reason, required=category == ReportCategory.OTHER)
    now = now or utcnow()
    limit = current_app.config.get("MODERATION_REPORTS_PER_HOUR", DEFAULT_REPORTS_PER_HOUR)
    if queries.reports_since(reporter, now - dt.timedelta(hours=1)) >= limit:
        raise ReportFlood(
            _l(
                "Vous avez envoyé %(n)d signalements dans l'heure : attendez un peu avant "
                "d'en envoyer d'autres.",
            ),
            n=limit,
        )
    if queries.open_report_by(reporter, target.key, obj.id) is not None:
        raise Conflict(_l("Vous avez déjà signalé ce contenu ; les modérateurs vont l'examiner."))
    community = target.community(obj)
    entry = Report(
        community_id=community.id,
        object_type=target.key,
        object_id=obj.id,
        reporter_id=reporter.id,
        category=category,
        reason=reason,
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError as exc:  # the same report sent twice at once
        raise Conflict(_l("Vous avez déjà signalé ce contenu.")) from exc
    record(
        reporter,
        "moderation.report",
        entry,
        community=community,
        object=target.key,
        object_id=obj.id,
        category=category,
    )
    _emit(obj, community, reporter, "report", reason or category)
    return entry


def _close_reports(actor: User, kind: str, object_id: int, status: str, resolution: str) -> int:
    return db.session.execute(
        update(Report)
        .where(
            Report.object_type == kind,
            Report.object_id == object_id,
            Report.status == ReportStatus.OPEN,
        )
        .values(status=status, resolution=resolution, handled_at=utcnow(), handled_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount


def dismiss(actor: User, community: Community, kind: str, object_id: int, note: str = "") -> int:
    """Close the open reports on an object without changing it; returns how many."""
    if not can(actor, "moderate", community):
        raise NotAllowed(_l("Seuls les modérateurs traitent les signalements."))
    note = _reason(note, required=False)
    closed = db.session.execute(
        update(Report)
        .where(
            Report.community_id == community.id,
            Report.object_type == kind,
            Report.object_id == object_id,
            Report.status == ReportStatus.OPEN,
        )
        .values(
            status=ReportStatus.DISMISSED,
            resolution="dismiss",
            handled_at=utcnow(),
            handled_by_id=actor.id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not closed:
        raise OperationError(_l("Aucun signalement ouvert sur ce contenu."))
    record(
        actor,
        "moderation.dismiss",
        None,
        community=community,
        object=kind,
        object_id=object_id,
        reports=closed,
        note=note,
    )
    return closed


# -- decisions on content ----------------------------------------------------------------------


def hide(actor: User, obj, reason: str) -> None:
    target = targets.kind_of(obj)
    if not can(actor, "hide", obj):
        raise NotAllowed(_l("Seuls les modérateurs masquent un contenu."))
    reason = _reason(reason)
    if obj.hidden:
        raise Conflict(_l("Ce contenu est déjà masqué."))
    community = target.community(obj)
    obj.hidden_at, obj.hidden_reason, obj.hidden_by_id = utcnow(), reason, actor.id
    closed = _close_reports(actor, target.key, obj.id, ReportStatus.ACTIONED, "hide")
    record(
        actor,
        "moderation.hide",
        obj,
        community=community,
        reason=reason,
        author=obj.author_id,
        reports=closed,
    )
    _emit(obj, community, actor, "hide", reason)
    _notify(
        obj,
        community,
        actor,
        "moderation_hidden",
        target.path(obj),
        _l("Contenu masqué : %(reason)s", reason=reason),
        obj.author,
    )


def restore(actor: User, obj) -> None:
    target = targets.kind_of(obj)
    if not can(actor, "hide", obj):
        raise NotAllowed(_l("Seuls les modérateurs rétablissent un contenu."))
    if not obj.hidden:
        raise Conflict(_l("Ce contenu n'est pas masqué."))
    community = target.community(obj)
    obj.hidden_at, obj.hidden_reason, obj.hidden_by_id = None, "", None
    record(actor, "moderation.restore", obj, community=community, author=obj.author_id)
    _emit(obj, community, actor, "restore")
    _notify(
        obj,
        community,
        actor,
        "moderation_restored",
        target.path(obj),
        _l("Contenu rétabli par la modération"),
        obj.author,
    )


def delete(actor: User, obj, reason: str) -> None:
    """Delete through the content's own operation (counters, signals, its own audit entry),
    after telling the author why."""
    from maillage.communities.discussions import operations as discussions
    from maillage.communities.posts import operations as posts

    target = targets.kind_of(obj)
    if not can(actor, "moderate", obj):
        raise NotAllowed(_l("Seuls les modérateurs suppriment le contenu des autres."))
    reason = _reason(reason)
    community = target.community(obj)
    record(
        actor,
        "moderation.delete",
        obj,
        community=community,
        reason=reason,
        author=obj.author_id,
        excerpt=targets.excerpt(obj),
    )
    _notify(
        obj,
        community,
        actor,
        "moderation_deleted",
        f"/c/{community.slug}",
        _l("Contenu supprimé : %(reason)s", reason=reason),
        obj.author,
    )
    _close_reports(actor, target.key, obj.id, ReportStatus.ACTIONED, "delete")
    _emit(obj, community, actor, "delete", reason)  # while the object still exists
    delete_operation = {
        "post": posts.delete_post,
        "comment": posts.delete_comment,
        "topic": discussions.delete_topic,
        "reply": discussions.delete_reply,
    }[target.key]
    delete_operation(obj, actor)


def lock(actor: User, thread, locked: bool = True) -> None:
    """Lock (or unlock) a post's comments or a topic's replies; moderators may still answer."""
    target = targets.kind_of(thread)
    if target.key not in ("post", "topic"):
        raise OperationError(_l("Seules les publications et les discussions se verrouillent."))
    if not can(actor, "lock", thread):
        raise NotAllowed(_l("Seuls les modérateurs verrouillent une discussion."))
    if thread.locked == locked:
        raise Conflict(
            _l("La discussion est déjà verrouillée.")
            if locked
            else _l("La discussion n'est pas verrouillée.")
        )
    community = target.community(thread)
    thread.locked_at = utcnow() if locked else None
    if target.key == "topic":
        thread.locked = locked
    if locked:
        _close_reports(actor, target.key, thread.id, ReportStatus.ACTIONED, "lock")
    record(actor, "moderation.lock" if locked else "moderation.unlock", thread, community=community)
    _emit(thread, community, actor, "lock" if locked else "unlock")


def unlock(actor: User, thread) -> None:
    lock(actor, thread, locked=False)


# -- sanctions ---------------------------------------------------------------------------------

ROLE_RANK = {Role.GUEST: 0, Role.MEMBER: 1, Role.MODERATOR: 2, Role.FACILITATOR: 3, Role.OWNER: 4}


def _check_sanction(actor, community, member, kind, until, now) -> None:
    action = "ban" if kind == SanctionKind.BAN else "mute"
    if not can(actor, action, community):
        raise NotAllowed(
            _l("Seuls les animateurs et propriétaires excluent un membre.")
            if action == "ban"
            else _l("Seuls les modérateurs réduisent un membre au silence.")
        )
    if member.id == actor.id:
        raise OperationError(_l("Vous ne pouvez pas vous sanctionner vous-même."))
    role = role_in(member, community)
    if role is None and kind == SanctionKind.MUTE:
        raise OperationError(_l("Cette personne n'est pas membre."))
    if role == Role.OWNER:
        raise Conflict(
            _l("Un propriétaire ne peut pas être sanctionné ; changez d'abord son rôle.")
        )
    # Platform powers outrank owners only where they reach (public, or under an access grant).
    actor_rank = (
        5 if can(actor, "administer", community) else ROLE_RANK.get(role_in(actor, community), -1)
    )
    if role is not None and ROLE_RANK[role] >= actor_rank:
        raise NotAllowed(_l("Vous ne pouvez sanctionner que des rôles inférieurs au vôtre."))
    if until is not None and until <= now:
        raise OperationError(_l("La fin de la sanction doit être dans le futur."))


def _sanction(actor, community, member, kind, reason, until, now) -> Sanction:
    now = now or utcnow()
    reason = _reason(reason)
    _check_sanction(actor, community, member, kind, until, now)
    if queries.active_sanction(member, community, kind, now) is not None:
        raise Conflict(_l("Une sanction de ce type est déjà en cours ; levez-la d'abord."))
    sanction = Sanction(
        community_id=community.id,
        user_id=member.id,
        kind=kind,
        reason=reason,
        created_by_id=actor.id,
        created_at=now,
        ends_at=until,
    )
    db.session.add(sanction)
    db.session.flush()
    record(
        actor,
        f"moderation.{kind}",
        sanction,
        community=community,
        user=member.id,
        reason=reason,
        until=until.isoformat() if until else None,
    )
    _emit(member, community, actor, str(kind), reason, until)
    return sanction


def mute(actor, community, member, reason, until, *, now=None) -> Sanction:
    """The member keeps reading but cannot post, comment or react until ``until``."""
    sanction = _sanction(actor, community, member, SanctionKind.MUTE, reason, until, now)
    forget_roles(member)
    _notify(
        sanction,
        community,
        actor,
        "moderation_sanction",
        f"/c/{community.slug}",
        _l("Réduit·e au silence : %(reason)s", reason=sanction.reason),
        member,
    )
    return sanction


def ban(actor, community, member, reason, until, *, now=None) -> Sanction:
    """Remove the membership, refuse pending requests and cancel open invitations; joining,
    requesting and accepting an invitation are refused while the ban lasts."""
    from maillage.communities.community.operations import remove_membership

    sanction = _sanction(actor, community, member, SanctionKind.BAN, reason, until, now)
    if role_in(member, community) is not None:
        remove_membership(community, member)
    _close_doors(community, member, sanction.created_at)
    forget_roles(member)
    # Told without the community: the person may no longer read it.
    _notify(
        sanction,
        None,
        actor,
        "moderation_sanction",
        "/",
        _l("Exclu·e de « %(name)s » : %(reason)s", name=community.name, reason=sanction.reason),
        member,
    )
    return sanction


def _close_doors(community: Community, member: User, now: dt.datetime) -> None:
    db.session.execute(
        update(JoinRequest)
        .where(
            JoinRequest.community_id == community.id,
            JoinRequest.user_id == member.id,
            JoinRequest.status == RequestStatus.PENDING,
        )
        .values(status=RequestStatus.REFUSED, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if member.email:
        db.session.execute(
            update(Invitation)
            .where(
                Invitation.community_id == community.id,
                db.func.lower(Invitation.email) == member.email.lower(),
                Invitation.used_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )


def lift(actor: User, sanction: Sanction) -> None:
    """End a sanction early (a banned person may then join or be invited again)."""
    community = sanction.community
    action = "ban" if sanction.kind == SanctionKind.BAN else "mute"
    if not can(actor, action, community):
        raise NotAllowed(_l("Vous ne pouvez pas lever cette sanction."))
    if not sanction.active_at(utcnow()):
        raise Conflict(_l("Cette sanction n'est plus en cours."))
    sanction.lifted_at, sanction.lifted_by_id = utcnow(), actor.id
    forget_roles(sanction.user)
    record(
        actor,
        f"moderation.lift_{sanction.kind}",
        sanction,
        community=community,
        user=sanction.user_id,
    )
    _emit(sanction.user, community, actor, f"un{sanction.kind}", sanction.reason)
