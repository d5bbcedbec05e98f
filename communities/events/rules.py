"""Who may do what with events and date polls (registered in the one permission policy).

- reading follows the community: ``can(user, "read", community)``;
- creating an event or a date poll: contributors (``can(user, "post", community)``);
- editing, cancelling, closing a date poll: the organiser (still a contributor) or the
  community's facilitators and owners; deleting: also its moderators;
- answering (RSVP, availabilities): every member, guests included — guests are external
  participants, and coming to a meeting is not publishing content.
"""

from __future__ import annotations

from maillage.communities.events.models import DatePoll, Event
from maillage.communities.permissions import can, role_in, rule


@rule(Event, "view")
@rule(DatePoll, "view")
def _view(user, obj):
    return can(user, "read", obj.community)


def _organiser_or_manager(user, obj) -> bool:
    if user is None:
        return False
    if obj.organiser_id == user.id and can(user, "post", obj.community):
        return True
    return can(user, "manage", obj.community)


@rule(Event, "edit", "cancel")
@rule(DatePoll, "close")
def _organise(user, obj):
    return _organiser_or_manager(user, obj)


@rule(Event, "delete")
def _delete(user, event):
    return _organiser_or_manager(user, event) or (
        user is not None and can(user, "moderate", event.community)
    )


@rule(Event, "rsvp")
@rule(DatePoll, "answer")
def _answer(user, obj):
    return user is not None and role_in(user, obj.community) is not None
