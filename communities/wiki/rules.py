"""Who may do what in a community's wiki.

- ``view`` (read a page, its history, its diffs): whoever may read the community;
- ``edit``, ``add_child``, ``restore``: contributors (members, moderators, facilitators, owners;
  guests only read);
- ``move`` and ``delete`` (reorganising the tree, deleting a page): moderators, facilitators and
  owners; also the page's creator while nobody else has saved a revision of it (a page written
  alone is one's own draft, a page others improved belongs to the community);
- ``delete_tree`` (deleting a page together with its sub-pages): moderators, facilitators and
  owners only, since the sub-pages may be other people's work.

Creating a top-level page asks ``can(user, "post", community)`` (contributors).
"""

from __future__ import annotations

from maillage.communities.permissions import can, rule
from maillage.communities.wiki.models import WikiPage, WikiRevision


@rule(WikiPage, "view")
def _view_page(user, page):
    return can(user, "read", page.community)


@rule(WikiRevision, "view")
def _view_revision(user, revision):
    return can(user, "read", revision.page.community)


@rule(WikiPage, "edit", "add_child", "restore")
def _contribute(user, page):
    return can(user, "post", page.community)


@rule(WikiPage, "move", "delete")
def _reorganise(user, page):
    if user is None or not can(user, "post", page.community):
        return False
    if can(user, "moderate", page.community):
        return True
    return page.created_by_id == user.id and not page.edited_by_others


@rule(WikiPage, "delete_tree")
def _delete_tree(user, page):
    return can(user, "moderate", page.community)
