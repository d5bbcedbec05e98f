"""Who may do what with discussions, in the one permission policy.

- a topic is seen by whoever may read its community, while the module is on;
- contributors (members and above, not guests) open topics and reply; a locked topic takes
  replies from moderators only;
- authors edit their own topic, and their own replies while the topic is not locked;
- moderators (owners, facilitators, moderators) pin, lock and delete any topic or reply; an author
  may delete their own topic as long as nobody has replied, and their own replies;
- the author of a topic and moderators choose the reply that answers it;
- a topic or reply hidden by moderation is seen only by its author and moderators; signed-in
  readers report what others wrote (moderation package).
"""

from __future__ import annotations

from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can, rule

MODULE = "discussions"


def _moderates(user, topic: DiscussionTopic) -> bool:
    return can(user, "moderate", topic.community)


def _contributes(user, topic: DiscussionTopic) -> bool:
    return can(user, "post", topic.community)


def _is_author(user, item) -> bool:
    return user is not None and item.author_id == user.id


def _sees_hidden(user, item, topic: DiscussionTopic) -> bool:
    return not item.hidden or _is_author(user, item) or _moderates(user, topic)


@rule(DiscussionTopic, "view")
def _view_topic(user, topic):
    return (
        is_enabled(topic.community, MODULE)
        and can(user, "read", topic.community)
        and _sees_hidden(user, topic, topic)
    )


@rule(DiscussionTopic, "report")
def _report_topic(user, topic):
    return (
        not _is_author(user, topic)
        and not topic.hidden
        and can(user, "report", topic.community)
        and can(user, "view", topic)
    )


@rule(DiscussionTopic, "reply")
def _reply(user, topic):
    return _contributes(user, topic) and (not topic.locked or _moderates(user, topic))


@rule(DiscussionTopic, "edit")
def _edit_topic(user, topic):
    return _is_author(user, topic) and _contributes(user, topic)


@rule(DiscussionTopic, "delete")
def _delete_topic(user, topic):
    return _moderates(user, topic) or (_is_author(user, topic) and topic.reply_count == 0)


@rule(DiscussionTopic, "pin", "lock", "moderate", "hide")
def _moderate_topic(user, topic):
    return _moderates(user, topic)


@rule(DiscussionTopic, "mark_answered")
def _mark_answered(user, topic):
    return _moderates(user, topic) or (_is_author(user, topic) and _contributes(user, topic))


@rule(DiscussionReply, "view")
def _view_reply(user, reply):
    return can(user, "view", reply.topic) and _sees_hidden(user, reply, reply.topic)


@rule(DiscussionReply, "report")
def _report_reply(user, reply):
    return (
        not reply.deleted
        and not reply.hidden
        and not _is_author(user, reply)
        and can(user, "report", reply.topic.community)
        and can(user, "view", reply.topic)
    )


@rule(DiscussionReply, "moderate", "hide")
def _moderate_reply(user, reply):
    return not reply.deleted and _moderates(user, reply.topic)


@rule(DiscussionReply, "edit")
def _edit_reply(user, reply):
    return (
        not reply.deleted
        and _is_author(user, reply)
        and _contributes(user, reply.topic)
        and (not reply.topic.locked or _moderates(user, reply.topic))
    )


@rule(DiscussionReply, "delete")
def _delete_reply(user, reply):
    return not reply.deleted and (_is_author(user, reply) or _moderates(user, reply.topic))


@rule(DiscussionReply, "quote")
def _quote_reply(user, reply):
    return not reply.deleted and not reply.hidden and can(user, "reply", reply.topic)
