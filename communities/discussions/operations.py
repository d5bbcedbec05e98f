"""Every write on discussions: topics, replies, answers, pins and locks, what members have read.

Each function checks the permission policy, validates everything before changing anything,
writes the audit log and sends the signals (content and notifications) before the caller commits.

Deleting a reply: when another (not deleted) reply quotes it, it stays as a "message supprimé"
placeholder — its text erased, so the quote's link still leads somewhere and the thread reads in
order; otherwise the row is removed.  Either way it no longer counts in ``reply_count`` and stops
being the topic's answer.
"""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.discussions.links import reply_path, topic_path
from maillage.communities.discussions.mentions import linked_names, render_with_mentions
from maillage.communities.discussions.models import (
    DiscussionReadMark,
    DiscussionReply,
    DiscussionTopic,
    TopicRead,
)
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can, role_in
from maillage.communities.users.models import User
from maillage.federation.ids import local_ap_id
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong

MODULE = "discussions"
TITLE_MAX = 200
#: A quote keeps at most this many characters of the quoted reply.
QUOTE_MAX = 2000


# -- validation --------------------------------------------------------------------------------


def _require_module(community: Community) -> None:
    if not is_enabled(community, MODULE):
        raise OperationError(_l("Les discussions sont désactivées dans cette communauté."))


def _validate_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise OperationError(_l("Le titre est obligatoire."))
    if len(title) > TITLE_MAX:
        raise OperationError(_l("Le titre fait %(n)d caractères au plus."), n=TITLE_MAX)
    return title


def _render(body: str, community: Community) -> tuple[str, list[User]]:
    """Safe HTML and the people mentioned; refuses an empty or too long message."""
    if not (body or "").strip():
        raise OperationError(_l("Le message est vide."))
    try:
        return render_with_mentions(body, community)
    except MarkdownTooLong as exc:
        raise OperationError(_l("Le texte dépasse %(n)d caractères."), n=exc.args[0]) from exc


# -- notifications -----------------------------------------------------------------------------


def _notify(obj, topic: DiscussionTopic, actor: User, reason: str, url: str, recipients) -> None:
    """Ask for a notification; ``recipients`` None means the community's members."""
    if recipients is not None:
        seen: set[int] = set()
        recipients = [
            user
            for user in recipients
            if user.id != actor.id and not (user.id in seen or seen.add(user.id))
        ]
        if not recipients:
            return
    signals.notification_requested.send(
        obj,
        community=topic.community,
        actor=actor,
        reason=reason,
        url=url,
        title=topic.title,
        recipients=recipients,
    )


def _participants(topic: DiscussionTopic) -> list[User]:
    """The topic's author and everyone whose reply is still there, in one query."""
    authors = select(DiscussionReply.author_id).where(
        DiscussionReply.topic_id == topic.id, DiscussionReply.deleted_at.is_(None)
    )
    return list(
        db.session.scalars(
            select(User)
            .where(or_(User.id.in_(authors), User.id == topic.author_id))
            .order_by(User.id)
        ).unique()
    )


# -- topics ------------------------------------------------------------------------------------


def create_topic(community: Community, author: User, title: str, body: str) -> DiscussionTopic:
    if not can(author, "post", community):
        raise NotAllowed(_l("Seuls les membres peuvent ouvrir une discussion."))
    _require_module(community)
    title = _validate_title(title)
    html, mentioned = _render(body, community)
    now = utcnow()
    topic = DiscussionTopic(
        community=community,
        author=author,
        title=title,
        body_source=body,
        body_html=html,
        created_at=now,
        last_activity_at=now,
    )
    db.session.add(topic)
    db.session.flush()
    topic.ap_id = local_ap_id("topic", topic.id)
    mark_read(topic, author, now)
    record(author, "discussion.topic.create", topic, community=community.id)
    signals.content_created.send(topic, community=community, actor=author)
    url = topic_path(topic)
    _notify(topic, topic, author, "new_content", url, None)
    _notify(topic, topic, author, "mention", url, mentioned)
    return topic


def edit_topic(topic: DiscussionTopic, actor: User, title: str, body: str) -> DiscussionTopic:
    if not can(actor, "edit", topic):
        raise NotAllowed(_l("Vous ne pouvez modifier que vos propres discussions."))
    _require_module(topic.community)
    title = _validate_title(title)
    html, mentioned = _render(body, topic.community)
    before = linked_names(topic.body_html)
    topic.title, topic.body_source, topic.body_html = title, body, html
    topic.updated_at = utcnow()
    record(actor, "discussion.topic.edit", topic)
    signals.content_updated.send(topic, community=topic.community, actor=actor)
    new_mentions = [user for user in mentioned if user.username not in before]
    _notify(topic, topic, actor, "mention", topic_path(topic), new_mentions)
    return topic


def delete_topic(topic: DiscussionTopic, actor: User) -> None:
    if not can(actor, "delete", topic):
        raise NotAllowed(
            _l(
                "Seuls les modérateurs, ou son auteur tant que personne n'a répondu, peuvent "
                "supprimer une discussion."
            )
        )
    community = topic.community
    record(actor, "discussion.topic.delete", topic, community=community.id, author=topic.author_id)
    signals.content_deleted.send(topic, community=community, actor=actor)
    # Said explicitly rather than left to the foreign keys' cascades.
    db.session.execute(delete(TopicRead).where(TopicRead.topic_id == topic.id))
    topic.answered_reply_id = None
    db.session.flush()
    db.session.execute(
        update(DiscussionReply)
        .where(DiscussionReply.topic_id == topic.id)
        .values(quoted_reply_id=None)
    )
    db.session.execute(delete(DiscussionReply).where(DiscussionReply.topic_id == topic.id))
    db.session.delete(topic)


def set_pinned(topic: DiscussionTopic, actor: User, pinned: bool) -> None:
    if not can(actor, "pin", topic):
        raise NotAllowed(_l("Seuls les animateurs et modérateurs épinglent les discussions."))
    _require_module(topic.community)
    if topic.pinned != pinned:
        topic.pinned = pinned
        record(actor, "discussion.topic.pin" if pinned else "discussion.topic.unpin", topic)
        signals.content_updated.send(topic, community=topic.community, actor=actor)


def set_locked(topic: DiscussionTopic, actor: User, locked: bool) -> None:
    if not can(actor, "lock", topic):
        raise NotAllowed(_l("Seuls les animateurs et modérateurs verrouillent les discussions."))
    _require_module(topic.community)
    if topic.locked != locked:
        topic.locked, topic.locked_at = locked, utcnow() if locked else None
        action = "discussion.topic.lock" if locked else "discussion.topic.unlock"
        record(actor, action, topic, community=topic.community)
        signals.content_updated.send(topic, community=topic.community, actor=actor)


def set_answer(topic: DiscussionTopic, actor: User, reply: DiscussionReply | None) -> None:
    """Make ``reply`` the topic's answer (None: the topic is no longer answered)."""
    if not can(actor, "mark_answered", topic):
        raise NotAllowed(
            _l("Seuls l'auteur de la discussion et les modérateurs choisissent la réponse.")
        )
    _require_module(topic.community)
    if reply is not None and (reply.topic_id != topic.id or reply.deleted):
        raise OperationError(_l("Cette réponse n'existe pas dans la discussion."))
    new_id = reply.id if reply is not None else None
    if topic.answered_reply_id == new_id:
        return
    topic.answered_reply_id = new_id
    record(actor, "discussion.topic.answer", topic, reply=new_id)
    signals.content_updated.send(topic, community=topic.community, actor=actor)
    if reply is not None:
        # The topic's author is told; so is the person whose reply was chosen.
        _notify(reply, topic, actor, "answered", reply_path(reply), [topic.author, reply.author])


# -- replies -----------------------------------------------------------------------------------


def add_reply(
    topic: DiscussionTopic, author: User, body: str, quoted: DiscussionReply | None = None
) -> DiscussionReply:
    community = topic.community
    if not can(author, "post", community):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent répondre."))
    _require_module(community)
    if not can(author, "reply", topic):
        raise Conflict(_l("Cette discussion est verrouillée : on ne peut plus y répondre."))
    if quoted is not None and (quoted.topic_id != topic.id or quoted.deleted):
        raise OperationError(_l("La réponse citée n'existe pas dans cette discussion."))
    html, mentioned = _render(body, community)
    now = utcnow()
    reply = DiscussionReply(
        topic=topic,
        author=author,
        body_source=body,
        body_html=html,
        quoted_reply_id=quoted.id if quoted is not None else None,
        created_at=now,
    )
    db.session.add(reply)
    db.session.flush()
    reply.ap_id = local_ap_id("reply", reply.id)
    db.session.execute(
        update(DiscussionTopic)
        .where(DiscussionTopic.id == topic.id)
        .values(reply_count=DiscussionTopic.reply_count + 1, last_activity_at=now)
    )
    db.session.refresh(topic, ["reply_count", "last_activity_at"])
    mark_read(topic, author, now)
    record(author, "discussion.reply.create", reply, topic=topic.id)
    signals.content_created.send(reply, community=community, actor=author)
    url = reply_path(reply)
    _notify(reply, topic, author, "mention", url, mentioned)
    mentioned_ids = {user.id for user in mentioned}
    others = [user for user in _participants(topic) if user.id not in mentioned_ids]
    _notify(reply, topic, author, "reply", url, others)
    return reply


def edit_reply(reply: DiscussionReply, actor: User, body: str) -> DiscussionReply:
    if not can(actor, "edit", reply):
        raise NotAllowed(_l("Vous ne pouvez modifier que vos propres réponses."))
    topic = reply.topic
    _require_module(topic.community)
    html, mentioned = _render(body, topic.community)
    before = linked_names(reply.body_html)
    reply.body_source, reply.body_html, reply.updated_at = body, html, utcnow()
    record(actor, "discussion.reply.edit", reply, topic=topic.id)
    signals.content_updated.send(reply, community=topic.community, actor=actor)
    new_mentions = [user for user in mentioned if user.username not in before]
    _notify(reply, topic, actor, "mention", reply_path(reply), new_mentions)
    return reply


def delete_reply(reply: DiscussionReply, actor: User) -> bool:
    """Delete ``reply``; returns True when it stays as a placeholder (others quote it)."""
    if not can(actor, "delete", reply):
        raise NotAllowed(_l("Seuls son auteur et les modérateurs peuvent supprimer une réponse."))
    topic = reply.topic
    record(actor, "discussion.reply.delete", reply, topic=topic.id, author=reply.author_id)
    kept = remove_reply(reply, actor)
    db.session.flush()
    db.session.refresh(topic, ["reply_count"])
    return kept


def remove_reply(reply: DiscussionReply, actor: User) -> bool:
    """Delete ``reply`` — a placeholder when others quote it (returns True then) — and count it
    out of its topic.  No permission check: :func:`delete_reply` makes it, and account deletion
    calls this for the replies of a person who is leaving."""
    topic = reply.topic
    signals.content_deleted.send(reply, community=topic.community, actor=actor)
    if topic.answered_reply_id == reply.id:
        topic.answered_reply_id = None
    quoted_by_others = db.session.scalar(
        select(
            exists().where(
                DiscussionReply.quoted_reply_id == reply.id, DiscussionReply.deleted_at.is_(None)
            )
        )
    )
    if quoted_by_others:
        reply.deleted_at = utcnow()
        reply.body_source = reply.body_html = ""
    else:
        db.session.flush()
        db.session.execute(
            update(DiscussionReply)
            .where(DiscussionReply.quoted_reply_id == reply.id)
            .values(quoted_reply_id=None)
        )
        db.session.delete(reply)
    db.session.execute(
        update(DiscussionTopic)
        .where(DiscussionTopic.id == topic.id)
        .values(reply_count=DiscussionTopic.reply_count - 1)
    )
    return bool(quoted_by_others)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~-])")


def quote_source(reply: DiscussionReply) -> str:
    """The Markdown a "Citer" action puts in the reply form: a blockquote of ``reply`` (without
    the quotes it contained itself), introduced by its author's name."""
    lines = [line for line in reply.body_source.splitlines() if not line.lstrip().startswith(">")]
    text = "\n".join(lines).strip()
    if len(text) > QUOTE_MAX:
        text = text[:QUOTE_MAX].rstrip() + " …"
    name = _MARKDOWN_SPECIAL.sub(r"\\\1", reply.author.display_name)
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())
    return f"> {_('**%(name)s** a écrit :', name=name)}\n>\n{quoted}\n\n"


# -- reading -----------------------------------------------------------------------------------


def tracks_reading(user: User | None, community: Community) -> bool:
    """Unread topics are tracked for the community's members."""
    return user is not None and role_in(user, community) is not None


def mark_read(topic: DiscussionTopic, user: User, until: dt.datetime | None = None) -> None:
    """``user`` has read ``topic`` up to ``until`` (default: now); never moves backwards."""
    if not tracks_reading(user, topic.community):
        return
    until = until or utcnow()
    read = db.session.get(TopicRead, (user.id, topic.id))
    if read is not None:
        read.last_read_at = max(read.last_read_at, until)
        return
    try:
        with db.session.begin_nested():
            db.session.add(TopicRead(user_id=user.id, topic_id=topic.id, last_read_at=until))
    except IntegrityError:  # the same page opened twice at once: the other request recorded it
        pass


def mark_all_read(community: Community, user: User) -> None:
    """Every topic of ``community`` active until now is read by ``user``."""
    if not tracks_reading(user, community):
        raise NotAllowed(_l("Seuls les membres suivent leurs lectures."))
    _require_module(community)
    now = utcnow()
    mark = db.session.get(DiscussionReadMark, (user.id, community.id))
    if mark is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    DiscussionReadMark(user_id=user.id, community_id=community.id, all_read_at=now)
                )
        except IntegrityError:
            mark = db.session.get(DiscussionReadMark, (user.id, community.id))
    if mark is not None:
        mark.all_read_at = now
    topics = select(DiscussionTopic.id).where(DiscussionTopic.community_id == community.id)
    db.session.execute(
        delete(TopicRead).where(TopicRead.user_id == user.id, TopicRead.topic_id.in_(topics))
    )
