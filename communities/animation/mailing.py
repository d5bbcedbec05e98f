"""E-mailing an announcement or a monthly summary to every member, in the background.

One outbox item (``animation.mail_members``: what, id, after) covers the members whose id is
greater than ``after``, up to :data:`CHUNK`; its handler writes their e-mails as ``mail.send``
outbox items and, if members remain, the item for the next chunk — all in the handler's own
transaction, committed with the item marked done, so a retry never mails anyone twice.
"""

from __future__ import annotations

from email.utils import make_msgid

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from maillage.communities.animation.models import ActivitySummary, Announcement
from maillage.communities.animation.operations import MAIL_KIND
from maillage.communities.community.models import Membership
from maillage.communities.moderation.models import Sanction, SanctionKind
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.outbox.operations import enqueue, handler

CHUNK = 500


def _not_banned(community_id: int):
    """NOT EXISTS an active ban: a membership put back while banned (a directory sync, say)
    counts as none, so the person gets no e-mail of the community either."""
    now = utcnow()
    return ~(
        select(Sanction.id)
        .where(
            Sanction.user_id == User.id,
            Sanction.community_id == community_id,
            Sanction.kind == SanctionKind.BAN,
            Sanction.lifted_at.is_(None),
            (Sanction.ends_at.is_(None)) | (Sanction.ends_at > now),
        )
        .exists()
    )


def _recipients(session: Session, community_id: int, after: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.community_id == community_id,
                _not_banned(community_id),
                User.id > after,
                User.is_active.is_(True),
                User.local.is_(True),
                User.email.is_not(None),
                User.email != "",
            )
            .order_by(User.id)
            .limit(CHUNK)
        )
    )


def _message(obj, user: User) -> tuple[str, str]:
    community = obj.community
    url = f"{current_app.config['BASE_URL']}/c/{community.slug}"
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        if isinstance(obj, Announcement):
            subject = _("[%(name)s] %(title)s", name=community.name, title=obj.title)
            body = obj.body_source
        else:
            subject, body = obj.subject, obj.body
        footer = _(
            "Vous recevez ce message parce que vous êtes membre de « %(name)s » : %(url)s",
            name=community.name,
            url=url,
        )
    return subject, f"{body}\n\n-- \n{footer}\n"


def _send(session: Session, to: str, subject: str, text: str) -> None:
    """Queue one e-mail in ``session`` (what ``mail.send`` writes, in the handler's session)."""
    enqueue(
        "mail.send",
        session=session,
        to=" ".join(to.split()),
        subject=" ".join(subject.split()),
        text=text,
        message_id=make_msgid("maillage"),
    )


@handler(MAIL_KIND, per_item=True)
def mail_members(session: Session, payloads: list[dict]) -> None:
    for payload in payloads:
        model = Announcement if payload["what"] == "announcement" else ActivitySummary
        obj = session.get(model, payload["id"])
        if obj is None:  # deleted with its community meanwhile
            continue
        people = _recipients(session, obj.community_id, payload.get("after", 0))
        for user in people:
            _send(session, user.email, *_message(obj, user))
        if len(people) == CHUNK:
            enqueue(
                MAIL_KIND, session=session, what=payload["what"], id=obj.id, after=people[-1].id
            )
