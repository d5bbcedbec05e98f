"""Polls and votes in the personal data registry.

What a vote says is exported only for named polls (an anonymous poll stores no link between a
person and a choice: the archive can only say that they voted).  On deletion, the person's
participations go; in a named poll their choices go too and the options are recounted from the
remaining choice rows (as after a vote), the voter count following; in an anonymous poll the
count is kept (nothing links it to them).  Polls they wrote stay when they keep their
contributions, otherwise they are deleted.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.polls.models import (
    Poll,
    PollChoice,
    PollOption,
    PollParticipation,
    PollQuestion,
)
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import Erasure, holds_personal_data
from maillage.platform.personal_data.rows import export_rows


def export_polls(user) -> list[dict]:
    return export_rows(
        select(
            Poll.id,
            Poll.ap_id.label("url"),
            Community.slug.label("community"),
            Poll.title,
            Poll.description_source.label("description_markdown"),
            Poll.anonymous,
            Poll.created_at,
            Poll.closes_at,
            Poll.closed_at,
            Poll.voter_count,
        )
        .join(Community, Community.id == Poll.community_id)
        .where(Poll.author_id == user.id),
        Poll.id,
    )


def export_votes(user) -> list[dict]:
    votes = export_rows(
        select(
            PollParticipation.id,
            PollParticipation.poll_id,
            Poll.title.label("poll_title"),
            Poll.ap_id.label("poll_url"),
            Community.slug.label("community"),
            Poll.anonymous,
            PollParticipation.voted_at,
        )
        .join(Poll, Poll.id == PollParticipation.poll_id)
        .join(Community, Community.id == Poll.community_id)
        .where(PollParticipation.user_id == user.id),
        PollParticipation.id,
    )
    chosen: dict[int, list] = {}
    rows = db.session.execute(
        select(PollChoice.participation_id, PollQuestion.text, PollOption.label)
        .join(PollOption, PollOption.id == PollChoice.option_id)
        .join(PollQuestion, PollQuestion.id == PollOption.question_id)
        .join(PollParticipation, PollParticipation.id == PollChoice.participation_id)
        .where(PollParticipation.user_id == user.id)
        .order_by(PollQuestion.position, PollOption.position)
    )
    for participation_id, question, label in rows:
        chosen.setdefault(participation_id, []).append({"question": question, "option": label})
    for vote in votes:
        vote["choices"] = None if vote["anonymous"] else chosen.get(vote["id"], [])
    return votes


def erase_votes(user, _erasure) -> None:
    mine = select(PollParticipation.id).where(PollParticipation.user_id == user.id)
    options = db.session.scalars(
        select(PollChoice.option_id).where(PollChoice.participation_id.in_(mine)).distinct()
    ).all()
    named = db.session.scalars(
        select(PollParticipation.poll_id)
        .join(Poll, Poll.id == PollParticipation.poll_id)
        .where(PollParticipation.user_id == user.id, ~Poll.anonymous)
    ).all()
    db.session.execute(delete(PollChoice).where(PollChoice.participation_id.in_(mine)))
    db.session.execute(delete(PollParticipation).where(PollParticipation.user_id == user.id))
    if options:
        recount = (
            select(func.count()).where(PollChoice.option_id == PollOption.id).scalar_subquery()
        )
        db.session.execute(
            update(PollOption).where(PollOption.id.in_(options)).values(vote_count=recount)
        )
    if named:
        db.session.execute(
            update(Poll)
            .where(Poll.id.in_(named), Poll.voter_count > 0)
            .values(voter_count=Poll.voter_count - 1)
        )


def erase_polls(user, erasure: Erasure) -> None:
    if erasure != Erasure.DELETE_CONTENT:
        return
    for poll in db.session.scalars(select(Poll).where(Poll.author_id == user.id)).all():
        signals.content_deleted.send(poll, community=poll.community, actor=user)
        db.session.execute(delete(PollChoice).where(PollChoice.poll_id == poll.id))
        db.session.execute(delete(PollParticipation).where(PollParticipation.poll_id == poll.id))
        db.session.delete(poll)
    db.session.flush()


holds_personal_data(
    Poll,
    section="polls",
    export=export_polls,
    erase=erase_polls,
    other_people_columns=("closed_by_id",),
)
holds_personal_data(PollParticipation, section="poll_votes", export=export_votes, erase=erase_votes)
