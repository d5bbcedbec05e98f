"""Moderation reports and sanctions in the personal data registry.

The archive says which reports the person filed (and what became of them) and which sanctions
were taken against them, with the reason they were given, never who took them.
``handled_by_id``, ``created_by_id`` and ``lifted_by_id`` are the decisions of the community's
moderators: they stay with the decision.  On deletion, the reports they filed stay for the
moderation history but no longer name them; sanctions against them go with the account.
"""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.community.models import Community
from maillage.communities.moderation.models import Report, Sanction
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows, set_null


def export_reports(user) -> list[dict]:
    return export_rows(
        select(
            Report.id,
            Community.slug.label("community"),
            Report.object_type,
            Report.object_id,
            Report.category,
            Report.reason,
            Report.status,
            Report.resolution,
            Report.created_at,
            Report.handled_at,
        )
        .join(Community, Community.id == Report.community_id)
        .where(Report.reporter_id == user.id),
        Report.id,
    )


def export_sanctions(user) -> list[dict]:
    return export_rows(
        select(
            Sanction.id,
            Community.slug.label("community"),
            Sanction.kind,
            Sanction.reason,
            Sanction.created_at,
            Sanction.ends_at,
            Sanction.lifted_at,
        )
        .join(Community, Community.id == Sanction.community_id)
        .where(Sanction.user_id == user.id),
        Sanction.id,
    )


holds_personal_data(
    Report,
    section="moderation_reports",
    export=export_reports,
    erase=lambda user, _erasure: set_null(
        Report, Report.reporter_id, Report.reporter_id == user.id
    ),
    other_people_columns=("handled_by_id",),
)
holds_personal_data(
    Sanction,
    section="moderation_sanctions",
    export=export_sanctions,
    erase=lambda user, _erasure: delete_rows(Sanction, Sanction.user_id == user.id),
    other_people_columns=("created_by_id", "lifted_by_id"),
)
