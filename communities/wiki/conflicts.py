"""What the edit-conflict page shows: both sets of changes and a three-way merge attempt."""

from __future__ import annotations

from maillage.communities.wiki import queries
from maillage.communities.wiki.diffing import line_diff, merge3, merge_title, normalise
from maillage.communities.wiki.forms import EditPageForm
from maillage.communities.wiki.models import WikiPage

#: At most this many of the revisions saved in between are named on the page.
NAMED_REVISIONS = 20


def conflict_context(page: WikiPage, submitted: EditPageForm) -> dict:
    """Template variables for the conflict page of ``page`` (reloaded, at its latest version)
    given what the editor submitted (``submitted``, made from an older version)."""
    base_number = int(submitted.base_revision.data)
    current = page.current_revision
    first = max(base_number + 1, current - NAMED_REVISIONS + 1)
    found = queries.revisions(page, [base_number, *range(first, current + 1)])
    base = found.get(base_number)
    base_title = base.title if base is not None else page.title
    base_body = base.body_source if base is not None else ""
    mine_title, mine_body = submitted.title.data, normalise(submitted.body.data or "")
    merge = merge3(base_body, mine_body, page.body_source)
    title, title_clash = merge_title(base_title, mine_title, page.title)
    form = EditPageForm(
        formdata=None,
        data={
            "title": title,
            "body": merge.text if merge.clean else mine_body,
            "comment": submitted.comment.data,
            "base_revision": str(current),
        },
    )
    return {
        "form": form,
        "base_number": base_number,
        "in_between": [found[n] for n in range(current, first - 1, -1) if n in found],
        "my_changes": line_diff(base_body, mine_body),
        "their_changes": line_diff(base_body, page.body_source),
        "merge": merge,
        "merge_changes": line_diff(page.body_source, merge.text) if merge.clean else [],
        "mine_body": mine_body,
        "mine_title": mine_title,
        "title_clash": title_clash,
    }
