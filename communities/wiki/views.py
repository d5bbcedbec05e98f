"""The wiki over HTTP: thin handlers that parse, ask the permission policy, call an operation
and render.  Everything works without JavaScript (plain forms, redirects after POST).

Addresses: ``/c/<community>/wiki`` (the tree), ``/c/<community>/wiki/<page>`` and its actions
(``edit``, ``history``, ``diff``, ``revisions/<n>``, ``move``, ``delete``); ``/wiki/<id>`` (the
page's stable id) redirects to the page.  A community the viewer may not see, or whose wiki is
switched off, is a 404; one whose content they may not read is a 403; unknown pages and
revisions are 404s.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from maillage.communities import signals
from maillage.communities.community.queries import community_by_slug
from maillage.communities.modules import require_module
from maillage.communities.permissions import can
from maillage.communities.wiki import queries
from maillage.communities.wiki.blueprint import blueprint
from maillage.communities.wiki.conflicts import conflict_context
from maillage.communities.wiki.diffing import diff_counts, line_diff
from maillage.communities.wiki.forms import (
    TOP_LEVEL,
    ActionForm,
    CreatePageForm,
    DeleteForm,
    EditPageForm,
    MoveForm,
    RestoreForm,
)
from maillage.communities.wiki.operations import (
    REPARENT,
    EditConflict,
    create_page,
    delete_page,
    move_page,
    restore_revision,
    save_page,
    set_faq,
)
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong, render
from maillage.platform.views_util import confirmation_page, current_viewer, page_number

REFUSALS = {
    "post": _l("Seuls les membres de la communauté peuvent écrire dans son wiki."),
    "edit": _l("Seuls les membres de la communauté peuvent modifier son wiki."),
    "add_child": _l("Seuls les membres de la communauté peuvent ajouter des pages."),
    "restore": _l("Seuls les membres de la communauté peuvent restaurer une version."),
    "move": _l(
        "Seuls les modérateurs et animateurs, ou l'auteur d'une page que personne d'autre n'a "
        "modifiée, peuvent la déplacer."
    ),
    "delete": _l(
        "Seuls les modérateurs et animateurs, ou l'auteur d'une page que personne d'autre n'a "
        "modifiée, peuvent la supprimer."
    ),
}


# -- helpers -----------------------------------------------------------------------------------


def _wiki_or_abort(slug: str):
    """The community whose wiki the viewer may read: 404 if hidden or switched off, 403 if the
    viewer may see the community but not read its content."""
    community = community_by_slug(slug)
    viewer = current_viewer()
    if community is None or not can(viewer, "view", community):
        abort(404)
    require_module(community, "wiki")
    if not can(viewer, "read", community):
        raise NotAllowed(_l("Le wiki de cette communauté est réservé à ses membres."))
    return community


def _page_or_404(slug: str, page_slug: str):
    community = _wiki_or_abort(slug)
    page = queries.page_by_slug(community, page_slug)
    if page is None or not can(current_viewer(), "view", page):
        abort(404)
    return community, page


def _require(action: str, obj) -> None:
    if not can(current_user, action, obj):
        raise NotAllowed(REFUSALS[action])


@contextmanager
def operation_errors(form):
    """An operation's refusal of the input becomes a message on ``form``; nothing is stored.
    A refusal of the person (403) stays an error page."""
    try:
        yield
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed | EditConflict):
            raise
        form.form_errors.append(str(exc))


def page_url(page, community=None, **kwargs) -> str:
    community = community or page.community
    return url_for("wiki.page", slug=community.slug, page_slug=page.slug, **kwargs)


def _parent_choices(community, skip=None) -> list[SelectChoice]:
    """Choices for a "parent page" select: the tree in reading order, indented; ``skip``'s
    subtree is left out (a page cannot go under itself)."""
    nodes = queries.flatten(queries.tree(community), skip=skip)
    choices = [SelectChoice(TOP_LEVEL, _("Aucune : page de premier niveau"))]
    choices += [SelectChoice(str(node.id), "— " * (node.depth - 1) + node.title) for node in nodes]
    return choices


def _parent_from(form_field, community):
    if not form_field.data:
        return None
    parent = queries.page_by_id(int(form_field.data))
    if parent is None or parent.community_id != community.id:
        abort(404)
    return parent


# -- the tree ----------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/wiki")
def index(slug: str):
    community = _wiki_or_abort(slug)
    roots = queries.tree(community)
    return render_template(
        "wiki/index.html",
        community=community,
        roots=roots,
        faq=queries.faq_entries(community, roots),
        can_create=can(current_viewer(), "post", community),
    )


@blueprint.route("/wiki/<int:page_id>")
def by_id(page_id: int):
    """The page's stable id (its ``ap_id``) leads to its current address."""
    page = queries.page_by_id(page_id)
    if page is None:
        abort(404)
    community = _wiki_or_abort(page.community.slug)
    return redirect(page_url(page, community), 301)


@blueprint.route("/c/<slug>/wiki/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    community = _wiki_or_abort(slug)
    _require("post", community)
    form = CreatePageForm()
    form.parent.choices = _parent_choices(community)
    if not form.is_submitted():
        wanted = queries.page_by_slug(community, request.args.get("parent", ""))
        form.parent.data = str(wanted.id) if wanted is not None else TOP_LEVEL
    elif form.validate():
        with operation_errors(form):
            page = create_page(
                community,
                current_user,
                form.title.data,
                form.body.data or "",
                parent=_parent_from(form.parent, community),
                is_faq=form.is_faq.data,
                comment=form.comment.data or "",
            )
            db.session.commit()
            flash(_("La page « %(title)s » est créée.", title=page.title), "success")
            return redirect(page_url(page, community))
    status = 400 if form.is_submitted() else 200
    return render_template("wiki/new.html", community=community, form=form), status


# -- a page ------------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/wiki/<page_slug>")
def page(slug: str, page_slug: str):
    community, page = _page_or_404(slug, page_slug)
    signals.content_viewed.send(page, community=community, user=current_viewer())
    return render_template(
        "wiki/page.html",
        community=community,
        page=page,
        ancestors=queries.ancestors(page),
        children=queries.children(community, page),
    )


@blueprint.route("/c/<slug>/wiki/<page_slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, page_slug: str):
    community, page = _page_or_404(slug, page_slug)
    _require("edit", page)
    form = EditPageForm(
        data={
            "title": page.title,
            "body": page.body_source,
            "base_revision": str(page.current_revision),
        }
    )
    if form.validate_on_submit():
        try:
            with operation_errors(form):
                saved = save_page(
                    page,
                    current_user,
                    form.title.data,
                    form.body.data or "",
                    base_revision=int(form.base_revision.data),
                    comment=form.comment.data or "",
                )
                db.session.commit()
                if saved is None:
                    flash(_("Aucune modification : la page est inchangée."), "info")
                else:
                    flash(_("La page est enregistrée (version %(n)d).", n=saved.number), "success")
                return redirect(page_url(page, community))
        except EditConflict:
            return _conflict(slug, page_slug, form)
    status = 400 if form.is_submitted() else 200
    return render_template("wiki/edit.html", community=community, page=page, form=form), status


def _conflict(slug: str, page_slug: str, submitted: EditPageForm):
    """The page changed since the editor's version: show both, propose a merge (409)."""
    community, page = _page_or_404(slug, page_slug)  # reloaded after the rollback
    context = conflict_context(page, submitted)
    return render_template("wiki/conflict.html", community=community, page=page, **context), 409


# -- history -----------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/wiki/<page_slug>/history")
def history(slug: str, page_slug: str):
    community, page = _page_or_404(slug, page_slug)
    revisions, number, pages = queries.history(page, page_number())

    def at(n: int) -> str:
        return url_for(".history", slug=community.slug, page_slug=page.slug, page=n)

    return render_template(
        "wiki/history.html",
        community=community,
        page=page,
        revisions=revisions,
        pagination={
            "page": number,
            "pages": pages,
            "previous_url": at(number - 1) if number > 1 else None,
            "next_url": at(number + 1) if number < pages else None,
        },
    )


def _revision_number(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit():
        abort(404)
    return int(raw)


@blueprint.route("/c/<slug>/wiki/<page_slug>/diff")
def diff(slug: str, page_slug: str):
    community, page = _page_or_404(slug, page_slug)
    current = page.current_revision
    old_number = _revision_number("from", max(current - 1, 1))
    new_number = _revision_number("to", current)
    found = queries.revisions(page, [old_number, new_number])
    if old_number not in found or new_number not in found:
        abort(404)
    old, new = found[old_number], found[new_number]
    rows = line_diff(old.body_source, new.body_source)
    return render_template(
        "wiki/diff.html",
        community=community,
        page=page,
        old=old,
        new=new,
        rows=rows,
        counts=diff_counts(rows),
    )


@blueprint.route("/c/<slug>/wiki/<page_slug>/revisions/<int:number>")
def revision(slug: str, page_slug: str, number: int):
    community, page = _page_or_404(slug, page_slug)
    old = queries.revision(page, number)
    if old is None:
        abort(404)
    form = RestoreForm(data={"base_revision": str(page.current_revision)})
    return _render_revision(community, page, old, form)


def _render_revision(community, page, old, form, status: int = 200):
    try:
        html = render(old.body_source)
    except MarkdownTooLong:  # the instance's limit went down since: show the source
        html = None
    return render_template(
        "wiki/revision.html",
        community=community,
        page=page,
        old=old,
        html=html,
        form=form,
    ), status


@blueprint.route("/c/<slug>/wiki/<page_slug>/revisions/<int:number>/restore", methods=["POST"])
@login_required
def restore(slug: str, page_slug: str, number: int):
    community, page = _page_or_404(slug, page_slug)
    _require("restore", page)
    old = queries.revision(page, number)
    if old is None:
        abort(404)
    form = RestoreForm()
    if form.validate_on_submit():
        try:
            with operation_errors(form):
                saved = restore_revision(
                    page,
                    current_user,
                    old,
                    base_revision=int(form.base_revision.data),
                    comment=form.comment.data or "",
                )
                db.session.commit()
                flash(
                    _(
                        "La version %(old)d est restaurée (nouvelle version %(n)d).",
                        old=number,
                        n=saved.number,
                    ),
                    "success",
                )
                return redirect(page_url(page, community))
        except EditConflict:
            community, page = _page_or_404(slug, page_slug)
            old = queries.revision(page, number)
            form = RestoreForm(formdata=None, data={"base_revision": str(page.current_revision)})
            form.form_errors.append(
                _(
                    "La page a été modifiée depuis que vous avez affiché cette version (elle est "
                    "maintenant à la version %(n)d). Vérifiez l'historique, puis confirmez.",
                    n=page.current_revision,
                )
            )
            return _render_revision(community, page, old, form, 409)
    return _render_revision(community, page, old, form, 400)


# -- organising --------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/wiki/<page_slug>/move", methods=["GET", "POST"])
@login_required
def move(slug: str, page_slug: str):
    community, page = _page_or_404(slug, page_slug)
    _require("move", page)
    siblings = queries.children(community, _current_parent(page))
    index = next((i for i, sibling in enumerate(siblings) if sibling.id == page.id), 0)
    form = MoveForm(
        data={
            "parent": str(page.parent_id or TOP_LEVEL),
            "position": index + 1,
            "is_faq": page.is_faq,
        }
    )
    form.parent.choices = _parent_choices(community, skip=page.id)
    if form.validate_on_submit():
        with operation_errors(form):
            parent = _parent_from(form.parent, community)
            position = form.position.data - 1 if form.position.data else None
            if (parent.id if parent else None) != page.parent_id or position != index:
                move_page(page, current_user, parent, position)
            set_faq(page, current_user, form.is_faq.data)
            db.session.commit()
            flash(_("La page est réorganisée."), "success")
            return redirect(page_url(page, community))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "wiki/move.html",
        community=community,
        page=page,
        form=form,
        siblings=siblings,
        index=index,
    ), status


def _current_parent(page):
    return queries.page_by_id(page.parent_id) if page.parent_id is not None else None


@blueprint.route("/c/<slug>/wiki/<page_slug>/reorder", methods=["POST"])
@login_required
def reorder(slug: str, page_slug: str):
    """Move the page one step up or down among its siblings."""
    community, page = _page_or_404(slug, page_slug)
    _require("move", page)
    if not ActionForm().validate_on_submit():
        abort(400)
    parent = _current_parent(page)
    siblings = queries.children(community, parent)
    index = next((i for i, sibling in enumerate(siblings) if sibling.id == page.id), 0)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400)
    move_page(page, current_user, parent, max(index + step, 0))
    db.session.commit()
    flash(_("L'ordre des pages est modifié."), "success")
    return redirect(url_for(".move", slug=community.slug, page_slug=page.slug))


@blueprint.route("/c/<slug>/wiki/<page_slug>/delete", methods=["GET", "POST"])
@login_required
def delete(slug: str, page_slug: str):
    """GET asks for confirmation (and what becomes of sub-pages); POST deletes."""
    community, page = _page_or_404(slug, page_slug)
    _require("delete", page)
    subpages = queries.descendants(page)
    can_delete_tree = can(current_user, "delete_tree", page)
    form = DeleteForm()
    form.has_children = bool(subpages)
    if not can_delete_tree:
        form.children.choices = [c for c in form.children.choices if c.value == REPARENT]
    if request.method == "POST":
        question = _("Supprimer la page « %(title)s » ?", title=page.title)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
    if form.validate_on_submit():
        with operation_errors(form):
            delete_page(page, current_user, form.children.data if subpages else None)
            db.session.commit()
            flash(_("La page est supprimée."), "success")
            return redirect(url_for(".index", slug=community.slug))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "wiki/delete.html",
        community=community,
        page=page,
        form=form,
        subpage_count=len(subpages),
        children=queries.children(community, page) if subpages else [],
        can_delete_tree=can_delete_tree,
    ), status
