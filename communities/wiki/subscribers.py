"""Search for wiki pages: the index provider, how hits show, and the subscriptions that keep
the index in step (through the outbox, after the commit)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.search.kinds import Presentation, register_kind
from maillage.communities.search.providers import plain_text, post_audience
from maillage.communities.users.models import User
from maillage.communities.wiki.models import WikiPage
from maillage.communities.wiki.queries import ids_in_community
from maillage.platform.extensions import db
from maillage.platform.search.backend import doc_id, provider
from maillage.platform.search.indexing import schedule

WIKI_PAGE = "wiki_page"


def _all_page_ids(session: Session):
    return session.scalars(select(WikiPage.id).order_by(WikiPage.id))


@provider(WIKI_PAGE, all_ids=_all_page_ids)
def wiki_page_documents(session: Session, ids: list[int]) -> tuple[list[dict], list[int]]:
    rows = session.execute(
        select(
            WikiPage.id,
            WikiPage.title,
            WikiPage.body_source,
            WikiPage.community_id,
            Community.visibility,
        )
        .join(Community, Community.id == WikiPage.community_id)
        .where(WikiPage.id.in_(ids))
    ).all()
    documents = [
        {
            "id": doc_id(WIKI_PAGE, row.id),
            "kind": WIKI_PAGE,
            "object_id": row.id,
            "audience": post_audience(row.community_id, row.visibility),
            "community_id": row.community_id,
            "title": row.title,
            "text": row.body_source,
        }
        for row in rows
    ]
    found = {row.id for row in rows}
    return documents, [page_id for page_id in ids if page_id not in found]


def load_pages(ids: list[int]) -> list[WikiPage]:
    return list(
        db.session.scalars(
            select(WikiPage)
            .where(WikiPage.id.in_(ids))
            .options(
                joinedload(WikiPage.community),
                joinedload(WikiPage.updated_by).joinedload(User.organisation),
            )
        ).unique()
    )


def present_page(page: WikiPage) -> Presentation:
    return Presentation(
        title=page.title,
        text=plain_text(page.body_html),
        url=url_for("wiki.page", slug=page.community.slug, page_slug=page.slug),
        community=page.community,
        author=page.updated_by,
        date=page.updated_at,
    )


register_kind(
    WIKI_PAGE,
    _l("Page de wiki"),
    _l("Pages de wiki"),
    load_pages,
    present_page,
    ids_in_community,
)


def _changed(sender, **_extra) -> None:
    if isinstance(sender, WikiPage):
        schedule(WIKI_PAGE, sender.id)


signals.content_created.connect(_changed)
signals.content_updated.connect(_changed)
signals.content_deleted.connect(_changed)
