"""Every write on posts, comments and reactions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can
from maillage.communities.posts.models import ALLOWED_REACTIONS, Comment, Post, Reaction
from maillage.communities.users.models import User
from maillage.federation.ids import local_ap_id
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong, render

TITLE_MAX = 200


def _render(source: str) -> str:
    try:
        return render(source)
    except MarkdownTooLong as exc:
        raise OperationError(_l("Le texte dépasse %(n)d caractères."), n=exc.args[0]) from exc


def _validate_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise OperationError(_l("Le titre est obligatoire."))
    if len(title) > TITLE_MAX:
        raise OperationError(_l("Le titre fait %(n)d caractères au plus."), n=TITLE_MAX)
    return title


def create_post(community: Community, author: User, title: str, body: str) -> Post:
    if not can(author, "post", community):
        raise NotAllowed(_l("Seuls les membres peuvent publier dans cette communauté."))
    if not is_enabled(community, "posts"):
        raise OperationError(_l("Les publications sont désactivées dans cette communauté."))
    post = Post(
        community=community,
        author=author,
        title=_validate_title(title),
        body_source=body,
        body_html=_render(body),
    )
    db.session.add(post)
    db.session.flush()
    post.ap_id = local_ap_id("post", post.id)
    db.session.execute(
        update(Community)
        .where(Community.id == community.id)
        .values(post_count=Community.post_count + 1)
    )
    record(author, "post.create", post, community=community.id)
    signals.post_created.send(post, actor=author)
    return post


def edit_post(post: Post, actor: User, title: str, body: str) -> Post:
    if not can(actor, "edit", post):
        raise NotAllowed(_l("Vous ne pouvez modifier que vos propres publications."))
    title, html = _validate_title(title), _render(body)  # validate everything, then change
    post.title, post.body_source, post.body_html, post.updated_at = title, body, html, utcnow()
    record(actor, "post.edit", post)
    signals.post_updated.send(post, actor=actor)
    return post


def delete_post(post: Post, actor: User) -> None:
    if not can(actor, "delete", post):
        raise NotAllowed(_l("Vous ne pouvez pas supprimer cette publication."))
    record(actor, "post.delete", post, community=post.community_id, author=post.author_id)
    remove_post(post, actor)


def remove_post(post: Post, actor: User) -> None:
    """Delete ``post`` with its comments and reactions, keeping the community's counter right.

    No permission check: :func:`delete_post` makes it, and account deletion calls this for the
    posts of a person who is leaving (and may no longer be able to act).
    """
    community_id = post.community_id
    signals.post_deleted.send(post, actor=actor)
    # The foreign keys cascade on PostgreSQL, but SQLite does not enforce them: say it explicitly.
    db.session.execute(delete(Reaction).where(Reaction.post_id == post.id))
    db.session.execute(delete(Comment).where(Comment.post_id == post.id))
    db.session.delete(post)
    db.session.execute(
        update(Community)
        .where(Community.id == community_id)
        .values(post_count=Community.post_count - 1)
    )


def add_comment(post: Post, author: User, body: str) -> Comment:
    if not can(author, "comment", post):
        if post.locked and can(author, "comment", post.community):
            raise Conflict(_l("Cette publication est verrouillée : on ne peut plus la commenter."))
        raise NotAllowed(_l("Seuls les membres peuvent commenter."))
    if not body.strip():
        raise OperationError(_l("Le commentaire est vide."))
    comment = Comment(post=post, author=author, body_source=body, body_html=_render(body))
    db.session.add(comment)
    db.session.flush()
    comment.ap_id = local_ap_id("comment", comment.id)
    db.session.execute(
        update(Post).where(Post.id == post.id).values(comment_count=Post.comment_count + 1)
    )
    db.session.refresh(post, ["comment_count"])
    record(author, "comment.create", comment, post=post.id)
    signals.comment_created.send(comment, actor=author)
    return comment


def delete_comment(comment: Comment, actor: User) -> None:
    if not can(actor, "delete", comment):
        raise NotAllowed(_l("Vous ne pouvez pas supprimer ce commentaire."))
    record(actor, "comment.delete", comment, post=comment.post_id)
    remove_comment(comment, actor)


def remove_comment(comment: Comment, actor: User) -> None:
    """Delete ``comment`` and count it out of its post (no permission check: see remove_post)."""
    post_id = comment.post_id
    signals.comment_deleted.send(comment, actor=actor)
    db.session.delete(comment)
    db.session.execute(
        update(Post).where(Post.id == post_id).values(comment_count=Post.comment_count - 1)
    )


def toggle_reaction(post: Post, user: User, emoji: str) -> bool:
    """Add the reaction, or remove it if present; returns whether it is now present."""
    if emoji not in ALLOWED_REACTIONS:
        raise OperationError(_l("Réaction inconnue."))
    if not can(user, "react", post):
        raise NotAllowed(_l("Seuls les membres peuvent réagir."))
    removed = db.session.execute(
        delete(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == user.id, Reaction.emoji == emoji
        )
    ).rowcount
    if removed:
        signals.reaction_toggled.send(post, user=user, emoji=emoji, added=False)
        return False
    try:
        with db.session.begin_nested():
            db.session.add(Reaction(post_id=post.id, user_id=user.id, emoji=emoji))
    except IntegrityError:  # the same click arrived twice at once: the reaction is there
        return True
    signals.reaction_toggled.send(post, user=user, emoji=emoji, added=True)
    return True
