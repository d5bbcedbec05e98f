"""Local changes become activities (see ``publish`` for who receives them).

Only changes made by a LOCAL person federate from here: what a remote actor did reached us as an
activity that ``federation.groups`` applies and re-announces itself.  Every handler queues its
deliveries in the transaction of the change (``transport.delivery.enqueue_delivery``).
"""

from __future__ import annotations

import logging

from maillage.communities import signals
from maillage.federation.outgoing import activities, publish

log = logging.getLogger(__name__)

# Content kinds that federate as objects (actors.serialize.object_for answers None for others).
REMOVAL_SUMMARY = "Retiré par la modération"


def _is_local(user) -> bool:
    return user is not None and bool(getattr(user, "local", False))


def _object_document(obj) -> dict | None:
    from maillage.federation.actors.serialize import object_for

    try:
        return object_for(obj)
    except (LookupError, NotImplementedError, TypeError):
        return None


def inner_addressing(community, public: bool) -> tuple[list[str], list[str]]:
    """``to``/``cc`` of a person's activity in ``community`` (Lemmy's shape)."""
    if public:
        return [activities.PUBLIC], [community.ap_id]
    return [community.ap_id], [publish.followers_url(community)] if community.local else []


def publish_object(kind: str, obj, community, actor) -> dict | None:
    """``Create``/``Update`` of ``obj`` by ``actor`` (its author) in ``community``."""
    if not _is_local(actor) or not getattr(obj, "local", True) or not getattr(obj, "ap_id", None):
        return None

    def build(addressing):
        document = _object_document(obj)
        if document is None:
            return None
        document = activities.strip_public(document, addressing.public)
        to, cc = inner_addressing(community, addressing.public)
        return activities.activity(
            kind, actor.ap_id, document, to=to, cc=cc, audience=community.ap_id
        )

    return publish.publish(community, actor.ap_id, build)


def publish_delete(obj, community, actor, summary: str | None = None) -> dict | None:
    """``Delete`` of ``obj``: by its author, or a removal by a local moderator (with summary)."""
    if not _is_local(actor) or not getattr(obj, "ap_id", None):
        return None
    author_id = getattr(obj, "author_id", None)
    removal = author_id is not None and author_id != actor.id
    if removal and not community.local:
        return None  # a remote group's moderation is that group's business
    if not removal and not getattr(obj, "local", True):
        return None
    if removal and summary is None:
        summary = REMOVAL_SUMMARY
    object_id = obj.ap_id

    def build(addressing):
        if _object_document(obj) is None:  # a kind that never federated
            return None
        to, cc = inner_addressing(community, addressing.public)
        return activities.activity(
            "Delete",
            actor.ap_id,
            object_id,
            to=to,
            cc=cc,
            audience=community.ap_id,
            summary=summary,
        )

    return publish.publish(community, actor.ap_id, build)


# -- posts and comments ------------------------------------------------------------------------


@signals.post_created.connect
def _post_created(post, actor=None, **_):
    publish_object("Create", post, post.community, actor)


@signals.post_updated.connect
def _post_updated(post, actor=None, **_):
    publish_object("Update", post, post.community, actor)


@signals.post_deleted.connect
def _post_deleted(post, actor=None, **_):
    publish_delete(post, post.community, actor)


@signals.comment_created.connect
def _comment_created(comment, actor=None, **_):
    publish_object("Create", comment, comment.post.community, actor)


@signals.comment_deleted.connect
def _comment_deleted(comment, actor=None, **_):
    publish_delete(comment, comment.post.community, actor)


# -- other content (forum topics and replies, events…) -----------------------------------------


@signals.content_created.connect
def _content_created(obj, community=None, actor=None, **_):
    if community is not None:
        publish_object("Create", obj, community, actor)


@signals.content_updated.connect
def _content_updated(obj, community=None, actor=None, **_):
    if community is not None:
        publish_object("Update", obj, community, actor)


@signals.content_deleted.connect
def _content_deleted(obj, community=None, actor=None, **_):
    if community is not None:
        publish_delete(obj, community, actor)


# -- communities and memberships ---------------------------------------------------------------


@signals.community_updated.connect
def _community_updated(community, actor=None, **_):
    """``Update{Group}`` when a local community's public face changed."""
    if not community.local or not _is_local(actor):
        return

    def build(addressing):
        from maillage.federation.actors.serialize import group

        return activities.activity(
            "Update",
            actor.ap_id,
            group(community),
            to=addressing.to,
            cc=[community.ap_id],
            audience=community.ap_id,
        )

    publish.publish(community, actor.ap_id, build)


@signals.member_left.connect
def _member_left(community, user=None, **_):
    """A local person leaving a remote community stops following its Group."""
    from maillage.federation.outgoing.models import FollowState
    from maillage.federation.outgoing.operations import remote_follow_of, send_undo_follow

    if community.local or not _is_local(user) or not publish.enabled():
        return
    follow = remote_follow_of(user, community)
    if follow is not None and follow.state != FollowState.REJECTED:
        send_undo_follow(user, community)


@signals.member_left.connect
def _member_banned(community, user=None, **_):
    """A ban (``moderation.ban`` removes the membership) of a local community: ``Block``."""
    if not community.local or user is None or not publish.enabled():
        return
    try:
        from maillage.communities.moderation.models import SanctionKind
        from maillage.communities.moderation.queries import active_sanction
    except ImportError:
        return
    from maillage.platform.db import utcnow

    sanction = active_sanction(user, community, SanctionKind.BAN, utcnow())
    if sanction is None:
        return
    from maillage.federation.outgoing.moderation import publish_block

    publish_block(community, user, sanction.created_by, sanction.reason, sanction.ends_at)


# -- votes -------------------------------------------------------------------------------------

LIKE = "👍"


def publish_reaction(post, user, emoji: str, added: bool) -> dict | None:
    """A local person's 👍 on a post is a ``Like`` (its removal ``Undo{Like}``), as Lemmy votes;
    other emoji stay local."""
    if emoji != LIKE or not _is_local(user) or not getattr(post, "ap_id", None):
        return None
    community = post.community

    def build(addressing):
        to, cc = inner_addressing(community, addressing.public)
        like = activities.activity(
            "Like", user.ap_id, post.ap_id, to=to, cc=cc, audience=community.ap_id
        )
        if added:
            return like
        return activities.undo(user.ap_id, like, to=to, cc=cc, audience=community.ap_id)

    return publish.publish(community, user.ap_id, build)


# posts.toggle_reaction sends no signal yet; the lead adds ``reaction_toggled`` (sender: the
# Post; kwargs: user, emoji, added) to communities/signals.py and sends it there.
_reaction_toggled = getattr(signals, "reaction_toggled", None)
if _reaction_toggled is not None:

    @_reaction_toggled.connect
    def _reaction(post, user=None, emoji="", added=True, **_):
        publish_reaction(post, user, emoji, added)
