"""Wiki pages and revisions in the personal data registry.

A wiki is written together: whatever the person chose, the pages they created and the revisions
they saved stay (a page's history must still add up), signed « Ancien membre » through the
anonymised account.  A page's ``updated_by_id`` repeats the author of its latest revision (in
the archive through the revisions).
"""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.community.models import Community
from maillage.communities.wiki.models import WikiPage, WikiRevision
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import export_rows


def export_pages(user) -> list[dict]:
    return export_rows(
        select(
            WikiPage.id,
            WikiPage.ap_id.label("url"),
            Community.slug.label("community"),
            WikiPage.slug,
            WikiPage.title,
            WikiPage.created_at,
        )
        .join(Community, Community.id == WikiPage.community_id)
        .where(WikiPage.created_by_id == user.id),
        WikiPage.id,
    )


def export_revisions(user) -> list[dict]:
    return export_rows(
        select(
            WikiRevision.id,
            WikiRevision.page_id,
            WikiPage.ap_id.label("page_url"),
            Community.slug.label("community"),
            WikiRevision.number,
            WikiRevision.title,
            WikiRevision.body_source.label("body_markdown"),
            WikiRevision.comment,
            WikiRevision.created_at,
        )
        .join(WikiPage, WikiPage.id == WikiRevision.page_id)
        .join(Community, Community.id == WikiPage.community_id)
        .where(WikiRevision.author_id == user.id),
        WikiRevision.id,
    )


def _keep(_user, _erasure) -> None:
    """Kept in both cases: see the module's docstring."""


holds_personal_data(WikiPage, section="wiki_pages", export=export_pages, erase=_keep)
holds_personal_data(WikiRevision, section="wiki_revisions", export=export_revisions, erase=_keep)
