"""Who may do what with tasks, in the one permission policy.

- the board is seen by whoever may read the community, while the module is on;
- contributors (members and above, not guests) create, edit, assign and move tasks;
- a task is deleted by its creator (still a contributor) or by the community's moderators,
  facilitators and owners.
"""

from __future__ import annotations

from maillage.communities.kanban.models import Task
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can, rule

MODULE = "tasks"


@rule(Task, "view")
def _view(user, task):
    return is_enabled(task.community, MODULE) and can(user, "read", task.community)


@rule(Task, "edit", "move")
def _contribute(user, task):
    return can(user, "view", task) and can(user, "post", task.community)


@rule(Task, "delete")
def _delete(user, task):
    if user is None or not can(user, "view", task):
        return False
    if task.created_by_id == user.id and can(user, "post", task.community):
        return True
    return can(user, "moderate", task.community)
