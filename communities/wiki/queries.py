"""Reads of the wiki, each a bounded number of queries whatever the size of the tree.

The tree of a community is read in one query of a few short columns and assembled in Python;
the ancestors and descendants of a page use recursive common table expressions (SQLite and
PostgreSQL), capped in depth so that even damaged data cannot make them loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, literal, select
from sqlalchemy.orm import aliased, joinedload, load_only

from maillage.communities.community.models import Community
from maillage.communities.users.models import User
from maillage.communities.wiki.models import WikiPage, WikiRevision
from maillage.platform.extensions import db

#: How deep the tree may go (a top-level page is at depth 1).
MAX_DEPTH = 10
#: Recursive queries never walk further than this, even on inconsistent data.
WALK_LIMIT = 100
HISTORY_PAGE_SIZE = 50


@dataclass
class TreeNode:
    id: int
    parent_id: int | None
    title: str
    slug: str
    is_faq: bool
    depth: int = 1
    children: list[TreeNode] = field(default_factory=list)


def page_by_slug(community: Community, slug: str) -> WikiPage | None:
    """A page with its community and last editor, in one query."""
    return db.session.scalar(
        select(WikiPage)
        .where(WikiPage.community_id == community.id, WikiPage.slug == slug)
        .options(
            joinedload(WikiPage.community),
            joinedload(WikiPage.updated_by).joinedload(User.organisation),
        )
    )


def page_by_id(page_id: int) -> WikiPage | None:
    return db.session.scalar(
        select(WikiPage).where(WikiPage.id == page_id).options(joinedload(WikiPage.community))
    )


def tree(community: Community) -> list[TreeNode]:
    """The community's pages as nested nodes (top-level pages first), in one query."""
    rows = db.session.execute(
        select(WikiPage.id, WikiPage.parent_id, WikiPage.title, WikiPage.slug, WikiPage.is_faq)
        .where(WikiPage.community_id == community.id)
        .order_by(WikiPage.position, WikiPage.id)
    )
    nodes = {
        row.id: TreeNode(row.id, row.parent_id, row.title, row.slug, row.is_faq) for row in rows
    }
    roots: list[TreeNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        (parent.children if parent is not None else roots).append(node)
    _set_depths(roots)
    return roots


def _set_depths(roots: list[TreeNode]) -> None:
    stack = [(node, 1) for node in roots]
    while stack:
        node, depth = stack.pop()
        node.depth = depth
        stack.extend((child, depth + 1) for child in node.children)


def flatten(roots: list[TreeNode], skip: int | None = None) -> list[TreeNode]:
    """The nodes in reading order (depth first); ``skip``'s subtree left out."""
    ordered: list[TreeNode] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        if node.id == skip:
            continue
        ordered.append(node)
        stack.extend(reversed(node.children))
    return ordered


def faq_entries(community: Community, roots: list[TreeNode]) -> list[tuple[TreeNode, str]]:
    """Pages marked as FAQ entries with their HTML, in the tree's reading order (one query)."""
    wanted = [node for node in flatten(roots) if node.is_faq]
    if not wanted:
        return []
    bodies = dict(
        db.session.execute(
            select(WikiPage.id, WikiPage.body_html).where(
                WikiPage.community_id == community.id, WikiPage.is_faq.is_(True)
            )
        ).all()
    )
    return [(node, bodies.get(node.id, "")) for node in wanted]


def ancestors(page: WikiPage) -> list[WikiPage]:
    """The pages above ``page``, from the top of the tree down to its parent (one query)."""
    if page.parent_id is None:
        return []
    walk = (
        select(WikiPage.id, WikiPage.parent_id, literal(1).label("depth"))
        .where(WikiPage.id == page.parent_id)
        .cte("wiki_ancestors", recursive=True)
    )
    above = aliased(WikiPage)
    walk = walk.union_all(
        select(above.id, above.parent_id, walk.c.depth + 1).where(
            above.id == walk.c.parent_id, walk.c.depth < WALK_LIMIT
        )
    )
    return list(
        db.session.scalars(
            select(WikiPage)
            .join(walk, WikiPage.id == walk.c.id)
            .options(load_only(WikiPage.id, WikiPage.parent_id, WikiPage.title, WikiPage.slug))
            .order_by(walk.c.depth.desc())
        )
    )


def descendants(page: WikiPage) -> dict[int, int]:
    """``{page id: depth below page}`` for every page under ``page`` (one query)."""
    walk = (
        select(WikiPage.id, literal(1).label("depth"))
        .where(WikiPage.parent_id == page.id)
        .cte("wiki_descendants", recursive=True)
    )
    below = aliased(WikiPage)
    walk = walk.union_all(
        select(below.id, walk.c.depth + 1).where(
            below.parent_id == walk.c.id, walk.c.depth < WALK_LIMIT
        )
    )
    return {row.id: row.depth for row in db.session.execute(select(walk.c.id, walk.c.depth))}


def children(community: Community, parent: WikiPage | None) -> list[WikiPage]:
    """The pages right under ``parent`` (top-level pages for None), in order."""
    parent_clause = (
        WikiPage.parent_id.is_(None) if parent is None else WikiPage.parent_id == parent.id
    )
    return list(
        db.session.scalars(
            select(WikiPage)
            .where(WikiPage.community_id == community.id, parent_clause)
            .options(load_only(WikiPage.id, WikiPage.title, WikiPage.slug, WikiPage.position))
            .order_by(WikiPage.position, WikiPage.id)
        )
    )


def child_count(page: WikiPage) -> int:
    return db.session.scalar(
        select(func.count()).select_from(WikiPage).where(WikiPage.parent_id == page.id)
    )


def history(page: WikiPage, page_number: int = 1, per_page: int = HISTORY_PAGE_SIZE):
    """``(revisions newest first with their authors, number of pages)``: two queries."""
    total = page.current_revision
    pages = max((total + per_page - 1) // per_page, 1)
    page_number = min(max(page_number, 1), pages)
    revisions = list(
        db.session.scalars(
            select(WikiRevision)
            .where(WikiRevision.page_id == page.id)
            .options(
                joinedload(WikiRevision.author).joinedload(User.organisation),
                load_only(
                    WikiRevision.id,
                    WikiRevision.number,
                    WikiRevision.author_id,
                    WikiRevision.title,
                    WikiRevision.comment,
                    WikiRevision.restored_from,
                    WikiRevision.created_at,
                ),
            )
            .order_by(WikiRevision.number.desc())
            .limit(per_page)
            .offset((page_number - 1) * per_page)
        )
    )
    return revisions, page_number, pages


def revision(page: WikiPage, number: int) -> WikiRevision | None:
    return db.session.scalar(
        select(WikiRevision)
        .where(WikiRevision.page_id == page.id, WikiRevision.number == number)
        .options(joinedload(WikiRevision.author))
    )


def revisions(page: WikiPage, numbers: list[int]) -> dict[int, WikiRevision]:
    """Several revisions of a page by number, in one query."""
    return {
        found.number: found
        for found in db.session.scalars(
            select(WikiRevision)
            .where(WikiRevision.page_id == page.id, WikiRevision.number.in_(numbers))
            .options(joinedload(WikiRevision.author))
        )
    }


def earlier_authors(page: WikiPage, exclude: User) -> list[User]:
    """The people who saved a revision of ``page``, except ``exclude`` (one query)."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(select(WikiRevision.author_id).where(WikiRevision.page_id == page.id)),
                User.id != exclude.id,
            )
            .order_by(User.id)
        ).unique()
    )


def ids_in_community(session, community_id: int):
    return session.scalars(
        select(WikiPage.id).where(WikiPage.community_id == community_id).order_by(WikiPage.id)
    )
