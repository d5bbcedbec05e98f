"""Local changes become activities (see ``publish`` for who receives them).

Only changes made by a LOCAL person federate from here: what a remote actor did reached us as an
activity that ``federation.groups`` applies and re-announces itself.  Every handler queues its
deliveries in the transaction of the change (``transport.delivery.enqueue_delivery``).
"""

from __future__ import annotations

import logging

from maillage.communities import signals
from maillage.federation.outgoing import activities, moderation, publish
from maillage.federation.outgoing.publish import inner_addressing

log = logging.getLogger(__name__)

REMOVAL_SUMMARY = moderation.REMOVAL_SUMMARY


def _is_local(user) -> bool:
    return user is not None and bool(getattr(user, "local", False))


_object_document = moderation.object_document


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

    return publish.publish(community, actor.ap_id, build, plain_object=kind == "Create")


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
    # moderation.delete tells why before the content's own operation sends this signal.
    summary = summary or moderation.removal_reason(obj)
    if removal and not summary:
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


@signals.reaction_toggled.connect
def _reaction(post, user=None, emoji="", added=True, **_):
    publish_reaction(post, user, emoji, added)


# -- moderation --------------------------------------------------------------------------------


@signals.moderation_action.connect
def _moderation(obj, community=None, actor=None, action="", reason="", expires_at=None, **_):
    if community is not None:
        moderation.on_moderation(obj, community, actor, action, reason, expires_at)


@signals.member_role_changed.connect
def _role_changed(membership, actor=None, previous=None, **_):
    moderation.on_role_changed(membership, actor, previous)
