"""The e-mails: one per notice (``immediate``) or a digest (``daily``, ``weekly``).

Each is written in the recipient's language, in plain text, with a one-click unsubscribe link
(RFC 8058: ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers, plus the link in the body
for people whose mail program shows no button).  Links are absolute, built from ``BASE_URL``:
mails are also written by the worker and the CLI, outside any web request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _

from maillage.communities.users.models import User
from maillage.platform import mail
from maillage.platform.notifications.labels import reason_label
from maillage.platform.notifications.models import Notification
from maillage.platform.notifications.tokens import make_token

#: Paths of the pages the mails link to (kept in step with views.py).
NOTIFICATIONS_PATH = "/notifications"
PREFERENCES_PATH = "/notifications/preferences"
UNSUBSCRIBE_PATH = "/notifications/unsubscribe/"
#: A digest lists at most this many notices; it links to the page for the rest.
DIGEST_MAX_ITEMS = 50


@dataclass(frozen=True)
class Notice:
    """What a mail says about one notification (no ORM object needed)."""

    reason: str
    title: str
    url: str
    actor_name: str | None
    community_id: int | None
    community_name: str | None

    @classmethod
    def of(cls, notification: Notification) -> Notice:
        actor, community = notification.actor, notification.community
        return cls(
            notification.reason,
            notification.title,
            notification.url,
            actor.display_name if actor else None,
            community.id if community else None,
            community.name if community else None,
        )


def language_of(user: User) -> str:
    config = current_app.config
    return user.locale if user.locale in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]


def absolute(path: str) -> str:
    return current_app.config["BASE_URL"] + path


def unsubscribe_url(user: User, community_id: int | None) -> str:
    """Signed on the real clock: the link's age counts from when the mail leaves."""
    return absolute(UNSUBSCRIBE_PATH + make_token(user.id, community_id))


def unsubscribe_headers(url: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }


def _notice_lines(notice: Notice, with_community: bool) -> list[str]:
    parts = [reason_label(notice.reason)]
    if with_community and notice.community_name:
        parts.append(f"« {notice.community_name} »")
    if notice.actor_name:
        parts.append(_("par %(name)s", name=notice.actor_name))
    return [" · ".join(parts), notice.title, absolute(notice.url)]


def send_immediate(user: User, notice: Notice) -> None:
    """Queue the e-mail of one notice to ``user`` (through the outbox, in this transaction)."""
    link = unsubscribe_url(user, notice.community_id)
    with force_locale(language_of(user)):
        if notice.community_name:
            subject = f"[{notice.community_name}] {notice.title}"
            why = _(
                "Vous recevez cet e-mail car vos notifications de « %(name)s » sont envoyées "
                "immédiatement.",
                name=notice.community_name,
            )
            stop = _("Ne plus recevoir d'e-mails de « %(name)s » :", name=notice.community_name)
        else:
            subject = notice.title
            why = _("Vous recevez cet e-mail car vos notifications sont envoyées immédiatement.")
            stop = _("Ne plus recevoir d'e-mails de notification :")
        lines = [
            _("Bonjour %(name)s,", name=user.display_name),
            "",
            *_notice_lines(notice, with_community=True),
            "",
            "-- ",
            why,
            _("Gérer vos préférences : %(url)s", url=absolute(PREFERENCES_PATH)),
            f"{stop} {link}",
        ]
    mail.send(user.email, subject, "\n".join(lines), headers=unsubscribe_headers(link))


def _digest_body(notices: list[Notice]) -> list[str]:
    lines: list[str] = []
    current_community: object = object()
    for notice in notices[:DIGEST_MAX_ITEMS]:
        if notice.community_id != current_community:
            current_community = notice.community_id
            heading = (
                f"« {notice.community_name} »" if notice.community_name else _("Sur la plateforme")
            )
            lines += ["", heading, "=" * len(heading)]
        first, *rest = _notice_lines(notice, with_community=False)
        lines += [f"- {first}", *(f"  {line}" for line in rest)]
    hidden = len(notices) - DIGEST_MAX_ITEMS
    if hidden > 0:
        lines += [
            "",
            ngettext("Et %(num)d autre notification.", "Et %(num)d autres notifications.", hidden),
        ]
    return lines


def send_digest(user: User, notices: list[Notice], frequency: str, now: dt.datetime) -> None:
    """Queue ``user``'s digest of ``notices`` (sorted by community, then time)."""
    link = unsubscribe_url(user, None)
    site = current_app.config["INSTANCE_NAME"]
    with force_locale(language_of(user)):
        if frequency == "weekly":
            subject = _("Votre résumé de la semaine — %(site)s", site=site)
            intro = _(
                "Voici ce qui s'est passé cette semaine (au %(date)s).",
                date=format_date(now, "long"),
            )
        else:
            subject = _("Votre résumé du jour — %(site)s", site=site)
            intro = _(
                "Voici ce qui s'est passé depuis hier (au %(date)s).", date=format_date(now, "long")
            )
        lines = [
            _("Bonjour %(name)s,", name=user.display_name),
            "",
            intro,
            *_digest_body(notices),
            "",
            _("Toutes vos notifications : %(url)s", url=absolute(NOTIFICATIONS_PATH)),
            "",
            "-- ",
            _("Gérer vos préférences : %(url)s", url=absolute(PREFERENCES_PATH)),
            _("Ne plus recevoir aucun e-mail de notification :") + f" {link}",
        ]
    mail.send(user.email, subject, "\n".join(lines), headers=unsubscribe_headers(link))
