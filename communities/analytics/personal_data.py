"""The activity log in the personal data registry.

The archive lists what the log recorded of the person (visits, views, contributions: kind,
community, object, time), read by chunks: it may hold tens of thousands of rows.  On deletion the
rows stay, so past figures (activity per day, per community) do not change, but no longer name
anyone: ``user_id`` is cleared.
"""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.analytics.models import ActivityEvent
from maillage.communities.community.models import Community
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import export_rows, set_null


def export_activity(user) -> list[dict]:
    return export_rows(
        select(
            ActivityEvent.id,
            ActivityEvent.at,
            ActivityEvent.kind,
            Community.slug.label("community"),
            ActivityEvent.object_type,
            ActivityEvent.object_id,
        )
        .outerjoin(Community, Community.id == ActivityEvent.community_id)
        .where(ActivityEvent.user_id == user.id),
        ActivityEvent.id,
    )


holds_personal_data(
    ActivityEvent,
    section="activity",
    export=export_activity,
    erase=lambda user, _erasure: set_null(
        ActivityEvent, ActivityEvent.user_id, ActivityEvent.user_id == user.id
    ),
)
