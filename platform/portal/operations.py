from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from maillage.communities.permissions import can
from maillage.platform.audit.operations import record
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong, render
from maillage.platform.portal.models import Announcement


def publish_announcement(
    author, title: str, body: str, expires_at: dt.datetime | None = None
) -> Announcement:
    if not can(author, "announce"):
        raise NotAllowed(_l("Seuls les administrateurs publient des annonces de la plateforme."))
    title = " ".join(title.split())
    if not title or len(title) > 200:
        raise OperationError(_l("Le titre est obligatoire (200 caractères au plus)."))
    try:
        html = render(body)
    except MarkdownTooLong as exc:
        raise OperationError(_l("Le texte dépasse %(n)d caractères."), n=exc.args[0]) from exc
    announcement = Announcement(
        title=title, body_source=body, body_html=html, author=author, expires_at=expires_at
    )
    db.session.add(announcement)
    db.session.flush()
    record(author, "announcement.publish", announcement)
    return announcement
