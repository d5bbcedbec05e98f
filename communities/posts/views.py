"""Posts, comments and reactions over HTTP: thin handlers that parse, ask the permission policy,
call an operation and render.

Every page works without JavaScript (plain forms, redirects after POST); with HTMX (``HX-Request``)
the comment and reaction views answer with the partial to swap in.  Unknown objects, and objects
the viewer may not see (a secret community's post for an outsider), are a 404; visible objects the
viewer may not act on are a 403.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from maillage.communities import signals
from maillage.communities.community.queries import community_by_slug
from maillage.communities.permissions import can
from maillage.communities.posts.blueprint import blueprint
from maillage.communities.posts.forms import CommentForm, PostForm
from maillage.communities.posts.models import ALLOWED_REACTIONS
from maillage.communities.posts.operations import (
    add_comment,
    create_post,
    delete_comment,
    delete_post,
    edit_post,
    toggle_reaction,
)
from maillage.communities.posts.queries import (
    comment_page,
    comment_with_post,
    post_for_page,
    reaction_summary,
)
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer, is_htmx, safe_next_url

COMMENTS_PAGE_SIZE = 100


@blueprint.app_context_processor
def reaction_choices() -> dict:
    return {"allowed_reactions": ALLOWED_REACTIONS}


# -- helpers -----------------------------------------------------------------------------------


def signed_in(view):
    """``login_required`` that also works for HTMX requests: the whole page goes to the sign-in
    form (``HX-Redirect``) instead of the form being swapped into a fragment of the page."""
    protected = login_required(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated and is_htmx():
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            here = safe_next_url(current.path + (f"?{current.query}" if current.query else ""))
            response = current_app.response_class(status=204)
            response.headers["HX-Redirect"] = url_for("auth.login", next=here)
            return response
        return protected(*args, **kwargs)

    return wrapper


def _community_or_404(slug: str):
    community = community_by_slug(slug)
    if community is None or not can(current_viewer(), "view", community):
        abort(404)
    return community


def _post_or_404(post_id: int):
    post = post_for_page(post_id)
    if post is None or not can(current_viewer(), "view", post):
        abort(404)
    return post


#: Why a visible object refuses an action (shown on the 403 page).
REFUSALS = {
    "post": _l("Seuls les membres de la communauté peuvent y publier."),
    "comment": _l("Seuls les membres de la communauté peuvent commenter."),
    "react": _l("Seuls les membres de la communauté peuvent réagir."),
    "edit": _l("Vous ne pouvez modifier que vos propres publications."),
    "delete": _l(
        "Seuls leur auteur et les modérateurs de la communauté peuvent supprimer un contenu."
    ),
}


def _require(action: str, obj) -> None:
    if not can(current_user, action, obj):
        raise NotAllowed(_refusal(action, obj))


def _refusal(action: str, obj):
    """Why: a mute or a lock says so rather than "only members"."""
    from maillage.communities.moderation.queries import is_muted

    if action not in ("post", "comment", "react"):
        return REFUSALS[action]
    community = obj if action == "post" else obj.community
    if is_muted(current_viewer(), community):
        return _l("La modération vous a réduit·e au silence dans cette communauté pour le moment.")
    if action == "comment" and obj.locked:
        return _l("Cette publication est verrouillée : on ne peut plus la commenter.")
    return REFUSALS[action]


@contextmanager
def operation_errors(form):
    """An operation's refusal of the input becomes a message on ``form``; nothing is stored.
    A refusal of the person (403) stays an error page."""
    try:
        yield
    except OperationError as exc:
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            raise
        form.form_errors.append(str(exc))


def _post_url(post, anchor: str = "") -> str:
    return url_for(".show", post_id=post.id) + (f"#{anchor}" if anchor else "")


# -- posts -------------------------------------------------------------------------------------


@blueprint.route("/c/<slug>/posts/new")
@signed_in
def new(slug: str):
    community = _community_or_404(slug)
    _require("post", community)
    return render_template("posts/compose.html", community=community, post_form=PostForm())


@blueprint.route("/c/<slug>/posts", methods=["POST"])
@signed_in
def create(slug: str):
    community = _community_or_404(slug)
    _require("post", community)
    form = PostForm()
    if form.validate_on_submit():
        with operation_errors(form):
            post = create_post(community, current_user, form.title.data, form.body.data or "")
            db.session.commit()
            flash(_("Votre publication est en ligne."), "success")
            return redirect(_post_url(post))
    return render_template("posts/compose.html", community=community, post_form=form), 400


@blueprint.route("/post/<int:post_id>")
def show(post_id: int):
    post = _post_or_404(post_id)
    signals.content_viewed.send(post, community=post.community, user=current_viewer())
    form = CommentForm() if can(current_viewer(), "comment", post) else None
    return _render_post_page(post, form)


def _render_post_page(post, comment_form, status: int = 200):
    viewer = current_viewer()
    comments = comment_page(post, request.args.get("commentaires"), COMMENTS_PAGE_SIZE)
    more_url = (
        url_for(".show", post_id=post.id, commentaires=comments.next_cursor) + "#commentaires"
        if comments.next_cursor
        else None
    )
    return render_template(
        "posts/show.html",
        post=post,
        comments=comments.items,
        more_comments_url=more_url,
        first_comments_page=not request.args.get("commentaires"),
        reactions=reaction_summary([post.id], viewer).get(post.id, {}),
        comment_form=comment_form,
    ), status


@blueprint.route("/post/<int:post_id>/edit", methods=["GET", "POST"])
@signed_in
def edit(post_id: int):
    post = _post_or_404(post_id)
    _require("edit", post)
    form = PostForm(data={"title": post.title, "body": post.body_source})
    if form.validate_on_submit():
        with operation_errors(form):
            edit_post(post, current_user, form.title.data, form.body.data or "")
            db.session.commit()
            flash(_("La publication a été modifiée."), "success")
            return redirect(_post_url(post))
    status = 400 if form.is_submitted() else 200
    return render_template("posts/edit.html", post=post, post_form=form), status


@blueprint.route("/post/<int:post_id>/delete", methods=["GET", "POST"])
@signed_in
def delete(post_id: int):
    """GET asks for confirmation (works without JavaScript); POST deletes."""
    post = _post_or_404(post_id)
    _require("delete", post)
    if request.method == "POST":
        question = _("Supprimer la publication « %(title)s » ?", title=post.title)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
        community = post.community
        delete_post(post, current_user)
        db.session.commit()
        flash(_("La publication a été supprimée."), "success")
        return redirect(url_for("community.show", slug=community.slug))
    return render_template(
        "posts/confirm_delete.html",
        post=post,
        heading=_("Supprimer la publication « %(title)s » ?", title=post.title),
        action_url=url_for(".delete", post_id=post.id),
        cancel_url=_post_url(post),
        warning=_("Ses commentaires et réactions seront supprimés aussi. C'est définitif."),
    )


# -- comments ----------------------------------------------------------------------------------


@blueprint.route("/post/<int:post_id>/comments", methods=["POST"])
@signed_in
def comment(post_id: int):
    post = _post_or_404(post_id)
    _require("comment", post)
    form = CommentForm()
    if form.validate_on_submit():
        with operation_errors(form):
            new_comment = add_comment(post, current_user, form.body.data)
            db.session.commit()
            return _comment_added(post, new_comment)
    return _comment_refused(post, form)


def _comment_added(post, new_comment):
    if is_htmx():
        return render_template(
            "posts/_comment_added.html",
            post=post,
            comment=new_comment,
            comment_form=CommentForm(formdata=None),
        )
    flash(_("Votre commentaire est publié."), "success")
    return redirect(_post_url(post, f"comment-{new_comment.id}"))


def _comment_refused(post, form):
    if is_htmx():
        # htmx does not swap 4xx answers: a 200 re-targeted at the form shows the message.
        html = render_template("posts/_comment_form.html", post=post, comment_form=form)
        return html, 200, {"HX-Retarget": "#comment-form", "HX-Reswap": "outerHTML"}
    return _render_post_page(post, form, status=400)


@blueprint.route(
    "/comment/<int:comment_id>/delete", methods=["GET", "POST"], endpoint="delete_comment"
)
@signed_in
def delete_comment_view(comment_id: int):
    """GET asks for confirmation (works without JavaScript); POST deletes."""
    target = comment_with_post(comment_id)
    if target is None or not can(current_viewer(), "view", target.post):
        abort(404)
    _require("delete", target)
    post = target.post
    if request.method == "POST":
        question = _("Supprimer ce commentaire de %(name)s ?", name=target.author.display_name)
        if (asked := confirmation_page(question, confirm_label=_("Supprimer"))) is not None:
            return asked
        delete_comment(target, current_user)
        db.session.commit()
        flash(_("Le commentaire a été supprimé."), "success")
        return redirect(_post_url(post, "commentaires"))
    return render_template(
        "posts/confirm_delete.html",
        post=post,
        comment=target,
        heading=_("Supprimer ce commentaire ?"),
        action_url=url_for(".delete_comment", comment_id=target.id),
        cancel_url=_post_url(post, f"comment-{target.id}"),
        warning=_("C'est définitif."),
    )


# -- reactions ---------------------------------------------------------------------------------


@blueprint.route("/post/<int:post_id>/react", methods=["POST"])
@signed_in
def react(post_id: int):
    post = _post_or_404(post_id)
    _require("react", post)
    toggle_reaction(post, current_user, request.form.get("emoji", ""))
    db.session.commit()
    back = safe_next_url(request.form.get("next"))
    if is_htmx():
        return render_template(
            "posts/_reactions.html",
            post=post,
            reactions=reaction_summary([post.id], current_user).get(post.id, {}),
            reaction_next_url=back,
        )
    return redirect(f"{back or url_for('.show', post_id=post.id)}#post-{post.id}")
