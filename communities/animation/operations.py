"""Every write of the animation tools: announcements, scheduled posts, monthly summaries.

E-mails to all members never go out inside the request: the operation writes one outbox item
(``animation.mail_members``) in the same transaction; its handler writes the e-mails of one
chunk of members at a time, then the item for the next chunk, each in one commit — so a
community of 25,000 members is mailed in the background and no member gets a message twice.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.animation.models import (
    ActivitySummary,
    Announcement,
    ScheduledPost,
    ScheduledStatus,
)
from maillage.communities.community.models import Community
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong, render
from maillage.platform.outbox.operations import enqueue

TITLE_MAX = 200
BODY_MAX = 20000
MAIL_KIND = "animation.mail_members"


def _require(actor, community: Community) -> None:
    if not can(actor, "animate", community):
        raise NotAllowed(_l("Vous n'avez pas le droit de faire cela."))


def _title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise OperationError(_l("Le titre est obligatoire."))
    if len(title) > TITLE_MAX:
        raise OperationError(_l("Le titre fait %(n)d caractères au plus."), n=TITLE_MAX)
    return title


def _body(body: str, required: bool = True) -> str:
    body = (body or "").strip()
    if required and not body:
        raise OperationError(_l("Le texte est obligatoire."))
    if len(body) > BODY_MAX:
        raise OperationError(_l("Le texte fait %(n)d caractères au plus."), n=BODY_MAX)
    return body


def _html(source: str) -> str:
    try:
        return render(source)
    except MarkdownTooLong as exc:
        raise OperationError(_l("Le texte dépasse %(n)d caractères."), n=exc.args[0]) from exc


def _mail_members(kind: str, obj_id: int) -> None:
    enqueue(MAIL_KIND, what=kind, id=obj_id, after=0)


# -- announcements -----------------------------------------------------------------------------


def create_announcement(
    community: Community,
    actor: User,
    title: str,
    body: str,
    pinned_until: dt.datetime | None = None,
    send_email: bool = False,
    now: dt.datetime | None = None,
) -> Announcement:
    """Pin an announcement; ``send_email`` also mails it to every member (in the background)."""
    _require(actor, community)
    now = now or utcnow()
    if pinned_until is not None and pinned_until <= now:
        raise OperationError(_l("La date de fin d'épinglage doit être dans le futur."))
    body = _body(body)
    announcement = Announcement(
        community=community,
        author=actor,
        title=_title(title),
        body_source=body,
        body_html=_html(body),
        pinned_until=pinned_until,
        created_at=now,
    )
    db.session.add(announcement)
    db.session.flush()
    if send_email:
        announcement.emailed_at = now
        _mail_members("announcement", announcement.id)
    record(
        actor,
        "animation.announcement_create",
        announcement,
        community=community,
        emailed=send_email,
    )
    signals.announcement_pinned.send(announcement, community=community, actor=actor, pinned=True)
    return announcement


def unpin_announcement(
    announcement: Announcement, actor: User, now: dt.datetime | None = None
) -> Announcement:
    _require(actor, announcement.community)
    if announcement.unpinned_at is None:
        announcement.unpinned_at = now or utcnow()
        record(
            actor,
            "animation.announcement_unpin",
            announcement,
            community=announcement.community,
        )
        signals.announcement_pinned.send(
            announcement, community=announcement.community, actor=actor, pinned=False
        )
    return announcement


# -- scheduled posts ---------------------------------------------------------------------------


def _publish_at(publish_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if publish_at is None:
        raise OperationError(_l("La date de publication est obligatoire."))
    if publish_at.tzinfo is None:
        raise OperationError(_l("La date de publication doit préciser son fuseau horaire."))
    if publish_at <= now:
        raise OperationError(_l("La date de publication doit être dans le futur."))
    if publish_at > now + dt.timedelta(days=366):
        raise OperationError(_l("La date de publication est à moins d'un an."))
    return publish_at


def schedule_post(
    community: Community,
    actor: User,
    title: str,
    body: str,
    publish_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> ScheduledPost:
    _require(actor, community)
    now = now or utcnow()
    scheduled = ScheduledPost(
        community=community,
        author=actor,
        title=_title(title),
        body=_body(body),
        publish_at=_publish_at(publish_at, now),
        created_at=now,
    )
    _html(scheduled.body)  # refuse now what the publication would refuse later
    db.session.add(scheduled)
    db.session.flush()
    record(
        actor,
        "animation.post_schedule",
        scheduled,
        community=community,
        publish_at=scheduled.publish_at.isoformat(),
    )
    return scheduled


def _require_scheduled(scheduled: ScheduledPost) -> None:
    if scheduled.status != ScheduledStatus.SCHEDULED:
        raise Conflict(_l("Cette publication programmée n'est plus modifiable."))


def update_scheduled_post(
    scheduled: ScheduledPost,
    actor: User,
    title: str,
    body: str,
    publish_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> ScheduledPost:
    _require(actor, scheduled.community)
    _require_scheduled(scheduled)
    now = now or utcnow()
    title, body, publish_at = _title(title), _body(body), _publish_at(publish_at, now)
    _html(body)
    changed = db.session.execute(
        update(ScheduledPost)
        .where(ScheduledPost.id == scheduled.id, ScheduledPost.status == ScheduledStatus.SCHEDULED)
        .values(title=title, body=body, publish_at=publish_at)
    ).rowcount
    if not changed:  # published by the periodic task a moment ago
        raise Conflict(_l("Cette publication programmée n'est plus modifiable."))
    db.session.refresh(scheduled)
    record(actor, "animation.post_reschedule", scheduled, community=scheduled.community)
    return scheduled


def cancel_scheduled_post(scheduled: ScheduledPost, actor: User) -> ScheduledPost:
    _require(actor, scheduled.community)
    _require_scheduled(scheduled)
    changed = db.session.execute(
        update(ScheduledPost)
        .where(ScheduledPost.id == scheduled.id, ScheduledPost.status == ScheduledStatus.SCHEDULED)
        .values(status=ScheduledStatus.CANCELLED)
    ).rowcount
    if not changed:
        raise Conflict(_l("Cette publication programmée n'est plus modifiable."))
    db.session.refresh(scheduled)
    record(actor, "animation.post_cancel", scheduled, community=scheduled.community)
    return scheduled


def publish_due(now: dt.datetime | None = None, limit: int = 100) -> int:
    """Publish the scheduled posts due at ``now`` through the posts' create operation; each is
    claimed by one conditional update, so two runs never publish the same one twice.  Commits
    after each post; returns how many were published."""
    from maillage.communities.posts.operations import create_post

    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(ScheduledPost.id)
            .where(
                ScheduledPost.status == ScheduledStatus.SCHEDULED,
                ScheduledPost.publish_at <= now,
            )
            .order_by(ScheduledPost.publish_at, ScheduledPost.id)
            .limit(limit)
        )
    )
    published = 0
    for scheduled_id in due:
        claimed = db.session.execute(
            update(ScheduledPost)
            .where(
                ScheduledPost.id == scheduled_id,
                ScheduledPost.status == ScheduledStatus.SCHEDULED,
            )
            .values(status=ScheduledStatus.PUBLISHED, published_at=now)
        ).rowcount
        if not claimed:
            continue
        scheduled = db.session.get(ScheduledPost, scheduled_id)
        try:
            with db.session.begin_nested():
                post = create_post(
                    scheduled.community, scheduled.author, scheduled.title, scheduled.body
                )
        except OperationError as exc:
            scheduled.status, scheduled.error = ScheduledStatus.FAILED, str(exc)[:2000]
        else:
            scheduled.post_id = post.id
            published += 1
        db.session.commit()
    return published


# -- monthly activity summaries ----------------------------------------------------------------


def previous_month(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """``[first day of last month, first day of this month)`` in the instance's time zone."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris")
    today = (now or utcnow()).astimezone(zone).date()
    end = today.replace(day=1)
    start = (end - dt.timedelta(days=1)).replace(day=1)
    return start, end


def month_of(start: dt.date) -> tuple[dt.date, dt.date]:
    start = start.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def draft_summary(
    community: Community,
    actor: User,
    start: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ActivitySummary:
    """The summary of the month beginning at ``start`` (default: last month): the one already
    drafted, or a new draft written from the community's numbers."""
    from maillage.communities.animation import summaries

    _require(actor, community)
    start, end = month_of(start) if start else previous_month(now)
    existing = summary_for(community, start)
    if existing is not None:
        return existing
    numbers = summaries.period_numbers(community, start, end)
    summary = ActivitySummary(
        community=community,
        period_start=start,
        period_end=end,
        subject=summaries.default_subject(community, start),
        body=summaries.draft_text(community, start, numbers),
        created_by_id=actor.id,
        created_at=now or utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(summary)
            db.session.flush()
    except IntegrityError:  # drafted by someone else at the same moment
        return summary_for(community, start)
    record(actor, "animation.summary_draft", summary, community=community, month=str(start))
    return summary


def summary_for(community: Community, start: dt.date) -> ActivitySummary | None:
    return db.session.scalar(
        select(ActivitySummary).where(
            ActivitySummary.community_id == community.id, ActivitySummary.period_start == start
        )
    )


def edit_summary(
    summary: ActivitySummary, actor: User, subject: str, body: str, now: dt.datetime | None = None
) -> ActivitySummary:
    _require(actor, summary.community)
    summary.subject, summary.body = _title(subject), _body(body)
    summary.updated_at = now or utcnow()
    record(actor, "animation.summary_edit", summary, community=summary.community)
    return summary


def send_summary(
    summary: ActivitySummary, actor: User, resend: bool = False, now: dt.datetime | None = None
) -> ActivitySummary:
    """E-mail the summary to the members: once per month, unless ``resend`` says so."""
    _require(actor, summary.community)
    if summary.sent_at is not None and not resend:
        raise Conflict(
            _l("Ce résumé a déjà été envoyé ; cochez « Envoyer à nouveau » pour le renvoyer.")
        )
    now = now or utcnow()
    condition = ActivitySummary.sent_at.is_(None) if not resend else db.true()
    claimed = db.session.execute(
        update(ActivitySummary)
        .where(ActivitySummary.id == summary.id, condition)
        .values(sent_at=now, sent_by_id=actor.id, send_count=ActivitySummary.send_count + 1)
    ).rowcount
    if not claimed:  # sent by another facilitator at the same moment
        raise Conflict(_l("Ce résumé a déjà été envoyé."))
    db.session.refresh(summary)
    _mail_members("summary", summary.id)
    record(
        actor,
        "animation.summary_send",
        summary,
        community=summary.community,
        month=str(summary.period_start),
        resend=resend,
    )
    return summary
