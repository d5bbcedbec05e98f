"""The welcome message: each new member of a community that has one gets it, in the app
(a notification) and by e-mail (the message itself), in the same transaction as the joining."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from maillage.communities import signals
from maillage.communities.animation import mailing  # noqa: F401 - registers the outbox handler
from maillage.communities.community.models import Membership
from maillage.communities.moderation.queries import is_banned
from maillage.platform import mail

WELCOME = "welcome"


@signals.member_joined.connect
def send_welcome_message(membership: Membership, **_kwargs) -> None:
    community, user = membership.community, membership.user
    if not community.welcome_message or not community.local or not user.local:
        return
    if is_banned(user, community):  # a membership put back while banned counts as none
        return
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        title = _("Bienvenue dans « %(name)s »", name=community.name)
        url = f"{current_app.config['BASE_URL']}/c/{community.slug}"
        footer = _("Retrouvez la communauté : %(url)s", url=url)
    signals.notification_requested.send(
        membership,
        community=community,
        actor=None,
        reason=WELCOME,
        url=f"/c/{community.slug}",
        title=title,
        recipients=[user],
    )
    if user.email and user.is_active:
        mail.send(user.email, title, f"{community.welcome_message}\n\n-- \n{footer}\n")
