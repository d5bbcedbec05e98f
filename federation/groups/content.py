"""Create / Update / Delete of posts (Page, Article) and comments (Note) of remote people.

Every object is checked before anything is stored: it comes from its actor's own server
(object id and ``attributedTo`` of the actor's origin — the Mastodon CVE-2024-23832 class),
its author is not banned and may contribute to the community.  Posts and comments are made by
the communities' own operations (so counters, signals and audit are the usual ones), then
marked remote: ``local=False`` and the object's own id as ``ap_id``.
"""

from __future__ import annotations

import nh3
from flask import current_app
from sqlalchemy import select

from maillage.communities.community.models import Role, Visibility
from maillage.communities.permissions import can
from maillage.communities.posts.models import Post
from maillage.federation.groups import relay
from maillage.federation.groups.attachments import extras_markdown
from maillage.federation.groups.fetching import embedded_or_fetched
from maillage.federation.groups.registry import (
    Ignored,
    Incoming,
    Rejected,
    handles,
    id_of,
    ids_in,
    same_origin,
    undoes,
)
from maillage.federation.groups.targets import addressed_community, community_of, content_by_ap_id
from maillage.federation.text import html_to_text
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

POST_TYPES = frozenset({"Page", "Article", "Video", "Event", "Question"})
NOTE_TYPES = frozenset({"Note"})
TITLE_MAX = 200
REMOVAL_REASON = "Retiré par la modération"


def sanitise(html: str) -> str:
    """Remote HTML cleaned like our own rendered Markdown (same tags, attributes, schemes)."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def check_origin(incoming: Incoming, obj: dict) -> None:
    """The object must come from the actor's server and be attributed to the actor."""
    if not same_origin(id_of(obj), incoming.actor_id):
        raise Rejected("object and actor of different origins")
    authors = ids_in(obj.get("attributedTo"))
    if authors and incoming.actor_id not in authors:
        raise Rejected("object attributed to someone else")


def _text(obj: dict) -> tuple[str, str]:
    """``(markdown source, sanitised HTML)``: the Markdown source when sent (Lemmy, or a
    Markdown ``content`` as PeerTube sends), else the HTML content cleaned (Mastodon), with its
    text as the source."""
    limit = current_app.config["MAX_MARKDOWN_LENGTH"]
    source = obj.get("source")
    content = obj.get("content") if isinstance(obj.get("content"), str) else ""
    if len(content) > limit * 4:
        raise Rejected("content too long")
    if isinstance(source, dict) and source.get("mediaType") == "text/markdown":
        return str(source.get("content") or "")[:limit], ""
    if obj.get("mediaType") == "text/markdown":
        return content[:limit], ""
    return html_to_text(content)[:limit], sanitise(content)


def _body(incoming: Incoming, obj: dict, *, with_link: bool) -> tuple[str, str]:
    """``(markdown source, HTML or "")``: the object's text, then its link (posts) and its
    images (see ``attachments``), so that a link or an image alone is never an empty body."""
    from maillage.platform.markdown import render

    source, html = _text(obj)
    extras = extras_markdown(obj, budget=incoming.budget, with_link=with_link)
    if not extras:
        return source, html
    room = max(current_app.config["MAX_MARKDOWN_LENGTH"] - len(extras) - 2, 0)
    text = source[:room].rstrip()
    return (f"{text}\n\n{extras}" if text else extras), (html + render(extras) if html else "")


def _title(obj: dict, source: str) -> str:
    for candidate in (obj.get("name"), obj.get("summary"), source):
        if isinstance(candidate, str) and candidate.strip():
            return " ".join(candidate.split())[:TITLE_MAX]
    return "Sans titre"


def _contributor(incoming: Incoming, community, action: str, target):
    """The author's shadow user, allowed to ``action`` on ``target``: a remote person
    contributing to one of our open communities joins it, as a local person would; content
    a remote group announced is its members'."""
    from maillage.communities.community.operations import add_membership, membership_of
    from maillage.communities.moderation.queries import is_banned

    user = incoming.user()
    if is_banned(user, community):
        raise Rejected("author banned from the community")
    if can(user, action, target):
        return user
    joinable = community.local and can(user, "join", community)
    remote_group = not community.local and incoming.announced_by is not None
    if (joinable or remote_group) and membership_of(community, user) is None:
        add_membership(community, user, Role.MEMBER)
        if can(user, action, target):
            return user
    raise Rejected(f"author may not {action} here")


def _target_community(incoming: Incoming, obj: dict):
    parent = content_by_ap_id(id_of(obj.get("inReplyTo")))
    community = community_of(parent) if parent is not None else addressed_community(incoming, obj)
    if community is None:
        raise Ignored("not addressed to a community we know")
    if community.local and community.visibility == Visibility.SECRET:
        raise Rejected("secret communities do not federate")
    if not community.local and incoming.announced_by is None:
        raise Ignored("a remote group's content comes through its Announce")
    return community, parent


def _mark_remote(obj_row, obj: dict) -> None:
    obj_row.ap_id, obj_row.local = id_of(obj), False


def create_content(incoming: Incoming, obj: dict):
    """The Post or Comment for ``obj`` (created, or the existing one: idempotent)."""
    existing = content_by_ap_id(id_of(obj))
    if existing is not None:
        return existing
    from maillage.communities.posts.operations import add_comment, create_post

    community, parent = _target_community(incoming, obj)
    is_comment = obj.get("type") in NOTE_TYPES and obj.get("inReplyTo")
    if is_comment and parent is None:
        raise Ignored("reply to something we do not have")
    title = _title(obj, _text(obj)[0])
    source, html = _body(incoming, obj, with_link=not is_comment)
    try:
        if is_comment:
            post = parent if isinstance(parent, Post) else parent.post
            author = _contributor(incoming, community, "comment", post)
            row = add_comment(post, author, source or "…")
        else:
            author = _contributor(incoming, community, "post", community)
            row = create_post(community, author, title, source)
    except OperationError as exc:
        raise Rejected(str(exc)) from exc
    if html:
        row.body_html = html
    _mark_remote(row, obj)
    return row


def update_content(incoming: Incoming, obj: dict, row) -> None:
    if row.author.ap_id != incoming.actor_id:
        raise Rejected("only the author edits")
    title = _title(obj, _text(obj)[0])
    source, html = _body(incoming, obj, with_link=isinstance(row, Post))
    if isinstance(row, Post):
        from maillage.communities.posts.operations import edit_post

        try:
            edit_post(row, row.author, title, source)
        except OperationError as exc:
            raise Rejected(str(exc)) from exc
    else:
        from maillage.platform.markdown import render

        row.body_source, row.body_html = source, render(source)
        record(row.author, "comment.edit", row, post=row.post_id)
    if html:
        row.body_html = html


@handles("Create", "Update")
def create_or_update(incoming: Incoming) -> None:
    obj = embedded_or_fetched(incoming, incoming.activity.get("object"))
    kind = obj.get("type")
    if kind == "Group" and incoming.type == "Update":
        from maillage.federation.groups.group_moderation import update_group

        update_group(incoming, obj)
        return
    if kind == "ChatMessage" or (kind == "Note" and _is_private_message(obj)):
        raise Ignored("private messages are not supported")
    if kind not in POST_TYPES | NOTE_TYPES:
        raise Ignored(f"{incoming.type} of {kind!r}")
    check_origin(incoming, obj)
    existing = content_by_ap_id(id_of(obj))
    if incoming.type == "Update" and existing is not None:
        update_content(incoming, obj, existing)
        row = existing
    else:
        row = create_content(incoming, obj)
    finish(incoming, community_of(row))


def _is_private_message(obj: dict) -> bool:
    from maillage.federation.groups.registry import PUBLIC_ALIASES

    addressed = set(ids_in(obj.get("to"))) | set(ids_in(obj.get("cc")))
    return not addressed & PUBLIC_ALIASES and not obj.get("audience") and not obj.get("inReplyTo")


def finish(incoming: Incoming, community) -> None:
    """After applying: our Group re-sends the activity to its followers (FEP-1b12)."""
    db.session.flush()
    if community.local and incoming.announced_by is None:
        relay.announce(community, incoming.activity, origin=incoming.actor_id)


def finish_undo(incoming: Incoming, community) -> None:
    """Relay the whole ``Undo`` (not the inner activity) to the followers."""
    db.session.flush()
    if community.local and incoming.announced_by is None and incoming.outer is not None:
        relay.announce(community, incoming.outer, origin=incoming.actor_id)


def moderated_by_ap_id(ap_id: str):
    """The post, comment, discussion topic or reply whose id is ``ap_id``, and its community."""
    from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
    from maillage.communities.moderation.targets import kind_of

    row = content_by_ap_id(ap_id)
    for model in (DiscussionTopic, DiscussionReply):
        if row is None and ap_id:
            row = db.session.scalar(select(model).where(model.ap_id == ap_id))
    return (row, kind_of(row).community(row)) if row is not None else (None, None)


def group_vouches(incoming: Incoming, community) -> bool:
    """Whether the remote group that owns ``community`` carried (signed) this activity."""
    group = incoming.announced_by
    return not community.local and group is not None and group.community_id == community.id


@handles("Delete")
def delete(incoming: Incoming) -> None:
    """The author's ``Delete`` deletes; anyone else's is a moderator's removal (Lemmy's
    "removed" state): the content is hidden, and ``Undo{Delete}`` restores it."""
    target = id_of(incoming.activity.get("object"))
    if target == incoming.actor_id:
        _delete_actor(incoming)
        return
    row, community = moderated_by_ap_id(target)
    if row is None:
        raise Ignored("nothing to delete")
    if row.author is not None and row.author.ap_id == incoming.actor_id:
        _delete_row(row, row.author)
    else:
        _remove(incoming, row, community, removed=True)
    finish(incoming, community)


@undoes("Delete")
def undo_delete(incoming: Incoming) -> None:
    """``Undo{Delete}`` of a moderator's removal: the content is shown again."""
    row, community = moderated_by_ap_id(id_of(incoming.activity.get("object")))
    if row is None:
        raise Ignored("nothing to restore")
    if row.author is not None and row.author.ap_id == incoming.actor_id:
        raise Ignored("a deletion by the author is final")
    _remove(incoming, row, community, removed=False)
    finish_undo(incoming, community)


def _delete_row(row, actor) -> None:
    from maillage.communities.discussions import operations as discussions
    from maillage.communities.moderation.targets import kind_of
    from maillage.communities.posts import operations as posts

    operation = {
        "post": posts.delete_post,
        "comment": posts.delete_comment,
        "topic": discussions.delete_topic,
        "reply": discussions.delete_reply,
    }[kind_of(row).key]
    try:
        operation(row, actor)
    except OperationError as exc:
        raise Rejected(str(exc)) from exc


def _remove(incoming: Incoming, row, community, *, removed: bool) -> None:
    """Hide (``removed``) or restore ``row``: as the remote group says for its own content,
    through our moderation operations (role checked) for our communities."""
    reason = " ".join(str(incoming.activity.get("summary") or "").split())[:1000]
    reason = reason or REMOVAL_REASON
    if group_vouches(incoming, community):
        if row.hidden == removed:
            return
        row.hidden_at, row.hidden_by_id = (utcnow() if removed else None), None
        row.hidden_reason = reason if removed else ""
        action = "federation.remove" if removed else "federation.restore"
        record(None, action, row, community=community, author=row.author_id)
        return
    if not community.local:
        raise Rejected("removal not announced by the content's group")
    from maillage.communities.moderation.operations import hide, restore

    user = incoming.user()
    if not can(user, "hide", row):
        raise Rejected("only the author or a moderator removes")
    if row.hidden == removed:
        return
    try:
        if removed:
            hide(user, row, reason)
        else:
            restore(user, row)
    except OperationError as exc:
        raise Rejected(str(exc)) from exc


def _delete_actor(incoming: Incoming) -> None:
    from maillage.federation.actors.queries import remote_actor_by_ap_id

    actor = remote_actor_by_ap_id(incoming.actor_id)
    if actor is None or actor.user is None:
        raise Ignored("unknown actor deleted")
    actor.user.is_active = False
    record(None, "federation.actor_deleted", actor.user, ap_id=actor.ap_id)
