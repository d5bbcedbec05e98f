"""Who may do what with polls, in the one permission policy.

- a poll is seen by whoever may read its community, while the module is on;
- contributors (members and above) create polls and vote; guests are read-only: they see the
  polls (and their results, when visible) but do not vote;
- the author (still a contributor) and the community's moderators, facilitators and owners close
  and delete a poll;
- results show always, after the viewer's own vote, or once the poll is closed, as its author
  chose; whoever may close the poll sees them at any time;
- in a named poll, who voted what is shown to the community's members (guests included) who see
  the results, never to visitors from outside.
"""

from __future__ import annotations

from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can, role_in, rule
from maillage.communities.polls.models import Poll, ResultsVisibility
from maillage.communities.polls.queries import has_voted

MODULE = "polls"


@rule(Poll, "view")
def _view(user, poll):
    return is_enabled(poll.community, MODULE) and can(user, "read", poll.community)


@rule(Poll, "vote")
def _vote(user, poll):
    return can(user, "view", poll) and can(user, "post", poll.community)


def _author_or_moderator(user, poll) -> bool:
    if user is None:
        return False
    if poll.author_id == user.id and can(user, "post", poll.community):
        return True
    return can(user, "moderate", poll.community)


@rule(Poll, "close", "delete")
def _manage(user, poll):
    return _author_or_moderator(user, poll)


@rule(Poll, "see_results")
def _see_results(user, poll):
    if not can(user, "view", poll):
        return False
    if poll.results_visibility == ResultsVisibility.ALWAYS or poll.is_closed():
        return True
    if _author_or_moderator(user, poll):
        return True
    return poll.results_visibility == ResultsVisibility.AFTER_VOTE and has_voted(poll, user)


@rule(Poll, "see_voters")
def _see_voters(user, poll):
    return (
        not poll.anonymous
        and role_in(user, poll.community) is not None
        and can(user, "see_results", poll)
    )
