"""Every write on wiki pages: create, save a revision, restore, move, mark as FAQ, delete.

A save is a compare-and-swap on ``WikiPage.current_revision``: the editor says which version they
started from and the page changes only if it is still that version, in one conditional UPDATE.
Two saves from the same version, even at the same instant, cannot both win: the second one's
UPDATE matches no row and it gets :class:`EditConflict` (nothing of it is written).
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.communities.wiki import queries
from maillage.communities.wiki.diffing import normalise
from maillage.communities.wiki.models import (
    COMMENT_MAX,
    SLUG_MAX,
    TITLE_MAX,
    WikiPage,
    WikiRevision,
)
from maillage.federation.ids import local_ap_id
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong, render

#: Slugs the wiki's own addresses use (``/c/<slug>/wiki/new``).
RESERVED_SLUGS = frozenset({"new"})
#: What to do with the sub-pages of a page being deleted.
REPARENT, DELETE_ALL = "reparent", "delete_all"


class EditConflict(Conflict):
    """Someone saved the page after the version the editor started from."""

    def __init__(self, page: WikiPage, base_revision: int) -> None:
        super().__init__(
            _l("La page a été modifiée par quelqu'un d'autre pendant que vous la modifiiez.")
        )
        self.page_id = page.id
        self.base_revision = base_revision


# -- validation --------------------------------------------------------------------------------


def _render(source: str) -> str:
    try:
        return render(source)
    except MarkdownTooLong as exc:
        raise OperationError(
            _l(
                "Le texte dépasse %(n)d caractères : raccourcissez-le ou découpez-le en sous-pages."
            ),
            n=exc.args[0],
        ) from exc


def _validate_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise OperationError(_l("Le titre est obligatoire."))
    if len(title) > TITLE_MAX:
        raise OperationError(_l("Le titre fait %(n)d caractères au plus."), n=TITLE_MAX)
    return title


def _validate_comment(comment: str) -> str:
    comment = " ".join((comment or "").split())
    if len(comment) > COMMENT_MAX:
        raise OperationError(
            _l("Le résumé de la modification fait %(n)d caractères au plus."), n=COMMENT_MAX
        )
    return comment


def _require(actor: User, action: str, obj, message) -> None:
    if not can(actor, action, obj):
        raise NotAllowed(message)


def _require_module(community: Community) -> None:
    if not is_enabled(community, "wiki"):
        raise OperationError(_l("Le wiki est désactivé dans cette communauté."))


# -- addresses ---------------------------------------------------------------------------------


def slug_base(title: str) -> str:
    """``"Fiche n°3 : l'accueil"`` → ``"fiche-n-3-l-accueil"`` (ASCII, lowercase, short)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[: SLUG_MAX - 8].strip("-") or "page"


def free_slug(community: Community, title: str) -> str:
    """The title's slug, suffixed ``-2``, ``-3``… when another page of the community has it."""
    base = slug_base(title)
    taken = set(
        db.session.scalars(
            select(WikiPage.slug).where(
                WikiPage.community_id == community.id,
                (WikiPage.slug == base) | WikiPage.slug.like(f"{base}-%"),
            )
        )
    ) | set(RESERVED_SLUGS)
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def page_path(page: WikiPage, community: Community) -> str:
    """The page's address on this site (for notifications; works outside a request)."""
    return f"/c/{community.slug}/wiki/{page.slug}"


def page_ap_id(page_id: int) -> str:
    """The stable URL id of a local page (``/wiki/<id>`` redirects to the page)."""
    return local_ap_id("wiki_page", page_id)


# -- creating ----------------------------------------------------------------------------------


def _check_parent(community: Community, author: User, parent: WikiPage | None) -> None:
    if parent is None:
        return
    if parent.community_id != community.id:
        raise OperationError(_l("La page parente n'appartient pas à cette communauté."))
    _require(author, "add_child", parent, _l("Vous ne pouvez pas ajouter de sous-page ici."))
    if len(queries.ancestors(parent)) + 2 > queries.MAX_DEPTH:
        raise OperationError(_l("L'arborescence est limitée à %(n)d niveaux."), n=queries.MAX_DEPTH)


def _next_position(community: Community, parent_id: int | None) -> int:
    parent_clause = (
        WikiPage.parent_id.is_(None) if parent_id is None else WikiPage.parent_id == parent_id
    )
    highest = db.session.scalar(
        select(func.max(WikiPage.position)).where(
            WikiPage.community_id == community.id, parent_clause
        )
    )
    return 0 if highest is None else highest + 1


def create_page(
    community: Community,
    author: User,
    title: str,
    body: str,
    *,
    parent: WikiPage | None = None,
    is_faq: bool = False,
    comment: str = "",
) -> WikiPage:
    _require(author, "post", community, _l("Seuls les membres peuvent écrire dans le wiki."))
    _require_module(community)
    _check_parent(community, author, parent)
    title, body, comment = _validate_title(title), normalise(body or ""), _validate_comment(comment)
    html = _render(body)  # everything is validated before anything is written
    page = WikiPage(
        community=community,
        parent_id=parent.id if parent is not None else None,
        position=_next_position(community, parent.id if parent is not None else None),
        title=title,
        slug=free_slug(community, title),
        body_source=body,
        body_html=html,
        is_faq=bool(is_faq),
        current_revision=1,
        created_by=author,
        updated_by=author,
    )
    db.session.add(page)
    try:
        db.session.flush()
    except IntegrityError as exc:  # the same address was taken at the same instant
        raise Conflict(
            _l("Une page du même titre vient d'être créée : enregistrez à nouveau.")
        ) from exc
    page.ap_id = page_ap_id(page.id)
    db.session.add(
        WikiRevision(
            page_id=page.id, number=1, author=author, title=title, body_source=body, comment=comment
        )
    )
    db.session.flush()
    record(author, "wiki.create", page, community=community.id, parent=page.parent_id)
    signals.content_created.send(page, community=community, actor=author)
    signals.notification_requested.send(
        page,
        community=community,
        actor=author,
        reason="new_content",
        url=page_path(page, community),
        title=title,
        recipients=None,
    )
    return page


# -- saving revisions --------------------------------------------------------------------------


def _write_revision(
    page: WikiPage,
    actor: User,
    base_revision: int,
    content: dict,
    *,
    comment: str,
    restored_from: int | None = None,
) -> WikiRevision:
    """Compare-and-swap the page to revision ``base_revision + 1`` with ``content`` (title,
    body_source, body_html), then store the revision; :class:`EditConflict` if it moved on."""
    number = base_revision + 1
    values = {
        **content,
        "current_revision": number,
        "updated_at": utcnow(),
        "updated_by_id": actor.id,
    }
    if actor.id != page.created_by_id:
        values["edited_by_others"] = True
    swapped = db.session.execute(
        update(WikiPage)
        .where(WikiPage.id == page.id, WikiPage.current_revision == base_revision)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if swapped.rowcount != 1:
        raise EditConflict(page, base_revision)
    for key, value in values.items():
        set_committed_value(page, key, value)
    set_committed_value(page, "updated_by", actor)
    revision = WikiRevision(
        page_id=page.id,
        number=number,
        author=actor,
        title=content["title"],
        body_source=content["body_source"],
        comment=comment,
        restored_from=restored_from,
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def _announce_edit(page: WikiPage, actor: User, recipients: list[User]) -> None:
    community = page.community
    signals.content_updated.send(page, community=community, actor=actor)
    if recipients:
        signals.notification_requested.send(
            page,
            community=community,
            actor=actor,
            reason="wiki_edit",
            url=page_path(page, community),
            title=page.title,
            recipients=recipients,
        )


def save_page(
    page: WikiPage,
    actor: User,
    title: str,
    body: str,
    *,
    base_revision: int,
    comment: str = "",
) -> WikiRevision | None:
    """Save a new revision made from version ``base_revision``; None when nothing changed.

    Raises :class:`EditConflict` when the page is no longer at ``base_revision``.
    """
    _require(actor, "edit", page, _l("Seuls les membres peuvent modifier le wiki."))
    _require_module(page.community)
    title, body, comment = _validate_title(title), normalise(body or ""), _validate_comment(comment)
    html = _render(body)
    if title == page.title and body == page.body_source:
        return None
    recipients = queries.earlier_authors(page, actor)
    revision = _write_revision(
        page,
        actor,
        base_revision,
        {"title": title, "body_source": body, "body_html": html},
        comment=comment,
    )
    record(actor, "wiki.edit", page, revision=revision.number)
    _announce_edit(page, actor, recipients)
    return revision


def restore_revision(
    page: WikiPage, actor: User, old: WikiRevision, *, base_revision: int, comment: str = ""
) -> WikiRevision:
    """Make ``old``'s title and text the page's again, as a new revision."""
    _require(actor, "restore", page, _l("Seuls les membres peuvent restaurer une version."))
    _require_module(page.community)
    if old.page_id != page.id:
        raise OperationError(_l("Cette version n'appartient pas à cette page."))
    if old.number == page.current_revision:
        raise OperationError(_l("Cette version est déjà la version actuelle."))
    comment = _validate_comment(comment)
    html = _render(old.body_source)
    recipients = queries.earlier_authors(page, actor)
    revision = _write_revision(
        page,
        actor,
        base_revision,
        {"title": old.title, "body_source": old.body_source, "body_html": html},
        comment=comment,
        restored_from=old.number,
    )
    record(actor, "wiki.restore", page, revision=revision.number, restored=old.number)
    _announce_edit(page, actor, recipients)
    return revision


# -- organising the tree -----------------------------------------------------------------------


def _lock_tree(community: Community) -> None:
    """Serialise changes to a community's tree (PostgreSQL row lock; SQLite has one writer)."""
    db.session.execute(select(Community.id).where(Community.id == community.id).with_for_update())


def _renumber(community: Community, parent_id: int | None, ordered_ids: list[int]) -> None:
    """Give the pages ``ordered_ids`` (all children of ``parent_id``) positions 0, 1, 2…"""
    if not ordered_ids:
        return
    db.session.execute(
        update(WikiPage)
        .where(WikiPage.community_id == community.id, WikiPage.id.in_(ordered_ids))
        .values(
            parent_id=parent_id,
            position=case(
                {page_id: index for index, page_id in enumerate(ordered_ids)},
                value=WikiPage.id,
            ),
        )
        .execution_options(synchronize_session=False)
    )


def _check_move(page: WikiPage, parent: WikiPage | None) -> None:
    if parent is None:
        return
    if parent.community_id != page.community_id:
        raise OperationError(_l("La page parente n'appartient pas à cette communauté."))
    below = queries.descendants(page)
    if parent.id == page.id or parent.id in below:
        raise OperationError(
            _l("Une page ne peut pas être placée sous elle-même ni sous l'une de ses sous-pages.")
        )
    height = max(below.values(), default=0)
    if len(queries.ancestors(parent)) + 2 + height > queries.MAX_DEPTH:
        raise OperationError(_l("L'arborescence est limitée à %(n)d niveaux."), n=queries.MAX_DEPTH)


def move_page(
    page: WikiPage, actor: User, parent: WikiPage | None, position: int | None = None
) -> WikiPage:
    """Put ``page`` under ``parent`` (None: top level) at ``position`` among its new siblings
    (0 is first; None or past the end: last).  Refused if it would make a cycle."""
    _require(actor, "move", page, _l("Vous ne pouvez pas déplacer cette page."))
    community = page.community
    _require_module(community)
    _check_move(page, parent)
    _lock_tree(community)
    parent_id = parent.id if parent is not None else None
    siblings = [
        sibling.id for sibling in queries.children(community, parent) if sibling.id != page.id
    ]
    index = len(siblings) if position is None else min(max(position, 0), len(siblings))
    siblings.insert(index, page.id)
    _renumber(community, parent_id, siblings)
    db.session.expire(page, ["parent_id", "position"])
    # Checked again once written (the tree is locked): a concurrent move cannot close a loop.
    if any(above.id == page.id for above in queries.ancestors(page)):
        raise OperationError(
            _l("Une page ne peut pas être placée sous elle-même ni sous l'une de ses sous-pages.")
        )
    record(actor, "wiki.move", page, parent=parent_id, position=index)
    signals.content_updated.send(page, community=community, actor=actor)
    return page


def set_faq(page: WikiPage, actor: User, is_faq: bool) -> WikiPage:
    _require(actor, "move", page, _l("Vous ne pouvez pas réorganiser cette page."))
    _require_module(page.community)
    if page.is_faq != bool(is_faq):
        page.is_faq = bool(is_faq)
        record(actor, "wiki.faq", page, is_faq=page.is_faq)
        signals.content_updated.send(page, community=page.community, actor=actor)
    return page


# -- deleting ----------------------------------------------------------------------------------


def delete_page(page: WikiPage, actor: User, children: str | None = None) -> list[int]:
    """Delete ``page``; its sub-pages, if any, are attached to its parent (``REPARENT``) or
    deleted with it (``DELETE_ALL``).  Returns the ids of the deleted pages."""
    _require(actor, "delete", page, _l("Vous ne pouvez pas supprimer cette page."))
    community = page.community
    _require_module(community)
    _lock_tree(community)
    below = queries.descendants(page)
    if below and children not in (REPARENT, DELETE_ALL):
        raise OperationError(_l("Cette page a des sous-pages : choisissez ce qu'elles deviennent."))
    doomed = [page]
    if below and children == REPARENT:
        _reparent_children(page, community)
    elif below:
        _require(
            actor,
            "delete_tree",
            page,
            _l("Seuls les modérateurs et animateurs peuvent supprimer des sous-pages."),
        )
        doomed += list(db.session.scalars(select(WikiPage).where(WikiPage.id.in_(list(below)))))
    ids = [target.id for target in doomed]
    record(actor, "wiki.delete", page, community=community.id, pages=ids, title=page.title)
    for target in doomed:
        signals.content_deleted.send(target, community=community, actor=actor)
    db.session.execute(delete(WikiRevision).where(WikiRevision.page_id.in_(ids)))
    db.session.execute(
        delete(WikiPage).where(WikiPage.id.in_(ids)).execution_options(synchronize_session=False)
    )
    for target in doomed:
        db.session.expunge(target)
    return ids


def _reparent_children(page: WikiPage, community: Community) -> None:
    """The sub-pages take the deleted page's place, in their order, among its siblings."""
    parent = db.session.get(WikiPage, page.parent_id) if page.parent_id is not None else None
    siblings = [sibling.id for sibling in queries.children(community, parent)]
    moved = [child.id for child in queries.children(community, page)]
    index = siblings.index(page.id) if page.id in siblings else len(siblings)
    ordered = siblings[:index] + moved + siblings[index + 1 :]
    _renumber(community, page.parent_id, ordered)
