"""Like / Dislike / Undo of remote people on posts.

A ``Like`` of a post is the 👍 reaction of the person's shadow user.  Maillage has no
down-votes: a ``Dislike`` is relayed to the followers (the community's other instances count
it) but not stored here.  Comments carry no reactions in Maillage: votes on them are relayed
only.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from maillage.communities.posts.models import Post, Reaction
from maillage.federation.groups.content import _contributor, finish, finish_undo
from maillage.federation.groups.registry import Ignored, Incoming, handles, id_of, undoes
from maillage.federation.groups.targets import community_of, content_by_ap_id
from maillage.platform.extensions import db

LIKE = "👍"


def _voted(incoming: Incoming):
    row = content_by_ap_id(id_of(incoming.activity.get("object")))
    if row is None:
        raise Ignored("vote on something we do not have")
    return row, community_of(row)


@handles("Like", "Dislike")
def vote(incoming: Incoming) -> None:
    row, community = _voted(incoming)
    user = _contributor(incoming, community, "react", row if isinstance(row, Post) else community)
    if incoming.type == "Like" and isinstance(row, Post):
        present = db.session.scalar(
            select(Reaction.id).where(
                Reaction.post_id == row.id, Reaction.user_id == user.id, Reaction.emoji == LIKE
            )
        )
        if present is None:
            from maillage.communities.posts.operations import toggle_reaction

            toggle_reaction(row, user, LIKE)
    finish(incoming, community)


@undoes("Like", "Dislike")
def undo_vote(incoming: Incoming) -> None:
    row, community = _voted(incoming)
    user = incoming.user()
    if incoming.type == "Like" and isinstance(row, Post):
        db.session.execute(
            delete(Reaction).where(
                Reaction.post_id == row.id, Reaction.user_id == user.id, Reaction.emoji == LIKE
            )
        )
    finish_undo(incoming, community)
