"""Search for polls: one document per poll (its question or title, description, the questions of a
survey and their options), rebuilt after the commit when the poll is created, closed or deleted.

Audience: ``public`` in a public community, otherwise the community's members only; hits are shown
only when ``can(viewer, "view", poll)`` (so also never while the module is switched off).
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.polls.models import Poll, PollOption, PollQuestion
from maillage.communities.polls.operations import poll_path
from maillage.communities.polls.queries import poll_ids_in_community
from maillage.communities.search.kinds import Presentation, register_kind
from maillage.communities.search.providers import plain_text, post_audience
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.search.backend import doc_id, provider
from maillage.platform.search.indexing import schedule

POLL = "poll"


def _all_poll_ids(session: Session):
    return session.scalars(select(Poll.id).order_by(Poll.id))


def _questions_text(session: Session, poll_ids: list[int]) -> dict[int, str]:
    """Each poll's questions followed by their options, in order (two queries)."""
    texts: dict[int, list[str]] = defaultdict(list)
    options: dict[int, list[str]] = defaultdict(list)
    for question_id, label in session.execute(
        select(PollOption.question_id, PollOption.label)
        .where(PollOption.poll_id.in_(poll_ids))
        .order_by(PollOption.question_id, PollOption.position)
    ):
        options[question_id].append(label)
    for poll_id, question_id, text in session.execute(
        select(PollQuestion.poll_id, PollQuestion.id, PollQuestion.text)
        .where(PollQuestion.poll_id.in_(poll_ids))
        .order_by(PollQuestion.poll_id, PollQuestion.position)
    ):
        texts[poll_id].extend([text, *options[question_id]])
    return {poll_id: "\n".join(parts) for poll_id, parts in texts.items()}


@provider(POLL, all_ids=_all_poll_ids)
def poll_documents(session: Session, ids: list[int]) -> tuple[list[dict], list[int]]:
    rows = session.execute(
        select(
            Poll.id, Poll.title, Poll.description_source, Poll.community_id, Community.visibility
        )
        .join(Community, Community.id == Poll.community_id)
        .where(Poll.id.in_(ids))
    ).all()
    questions = _questions_text(session, [row.id for row in rows]) if rows else {}
    documents = [
        {
            "id": doc_id(POLL, row.id),
            "kind": POLL,
            "object_id": row.id,
            "audience": post_audience(row.community_id, row.visibility),
            "community_id": row.community_id,
            "title": row.title,
            "text": "\n".join(filter(None, [row.description_source, questions.get(row.id, "")])),
        }
        for row in rows
    ]
    found = {row.id for row in rows}
    return documents, [poll_id for poll_id in ids if poll_id not in found]


# -- how hits show -----------------------------------------------------------------------------


def load_polls(ids: list[int]) -> list[Poll]:
    return list(
        db.session.scalars(
            select(Poll)
            .where(Poll.id.in_(ids))
            .options(
                joinedload(Poll.community),
                joinedload(Poll.author).joinedload(User.organisation),
            )
        ).unique()
    )


def present_poll(poll: Poll) -> Presentation:
    state = _l("Sondage clos") if poll.is_closed() else _l("Sondage ouvert")
    return Presentation(
        title=poll.title,
        text=" — ".join(filter(None, [str(state), plain_text(poll.description_html)])),
        url=poll_path(poll),
        community=poll.community,
        author=poll.author,
        date=poll.created_at,
    )


register_kind(POLL, _l("Sondage"), _l("Sondages"), load_polls, present_poll, poll_ids_in_community)


# -- subscriptions -----------------------------------------------------------------------------


@signals.content_created.connect
@signals.content_updated.connect
@signals.content_deleted.connect
def _poll_changed(obj, **_extra) -> None:
    if isinstance(obj, Poll):
        schedule(POLL, obj.id)
