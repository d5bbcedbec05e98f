"""Every write on polls and surveys: creating, voting, closing, deleting.

Each function checks the permission policy, validates everything before changing anything,
writes the audit log and sends the signals before the caller commits.

Votes (see ``models`` for what is stored):

- one vote per member and poll, enforced by the unique ``(poll_id, user_id)`` of
  ``poll_participations``: two submissions at once store one vote;
- a named poll's vote may be replaced until the poll closes (the old choices are deleted, the new
  ones stored, the counts recounted); an anonymous poll's vote is final, since nothing links the
  voter to their choices;
- a vote is refused once the poll is closed (by hand, or past its closing date), when an option
  belongs to another poll, when a question is unanswered or has too many answers — and then
  nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.community.models import Community
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can
from maillage.communities.polls import queries
from maillage.communities.polls.models import (
    Poll,
    PollChoice,
    PollOption,
    PollParticipation,
    PollQuestion,
    ResultsVisibility,
)
from maillage.communities.users.models import User
from maillage.federation.ids import local_ap_id
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db
from maillage.platform.markdown import MarkdownTooLong, render

MODULE = "polls"
TITLE_MAX = 300
QUESTION_MAX = 300
OPTION_MAX = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 30
MAX_QUESTIONS = 20


@dataclass
class QuestionSpec:
    text: str
    options: list[str]
    multiple: bool = False
    max_choices: int | None = None


@dataclass
class PollSpec:
    title: str
    questions: list[QuestionSpec]
    description: str = ""
    anonymous: bool = False
    results_visibility: str = ResultsVisibility.ALWAYS
    closes_at: dt.datetime | None = None


# -- validation --------------------------------------------------------------------------------


def _require_module(community: Community) -> None:
    if not is_enabled(community, MODULE):
        raise OperationError(_l("Les sondages sont désactivés dans cette communauté."))


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise OperationError(_l("La question (ou le titre) est obligatoire."))
    if len(title) > TITLE_MAX:
        raise OperationError(_l("La question fait %(n)d caractères au plus."), n=TITLE_MAX)
    return title


def clean_options(options: Iterable[str]) -> list[str]:
    """Non-empty, distinct (ignoring case and spaces), 2 to 30 options of 200 characters."""
    cleaned, seen = [], set()
    for option in options:
        label = " ".join((option or "").split())
        if not label:
            continue
        if len(label) > OPTION_MAX:
            raise OperationError(
                _l("La réponse « %(label)s… » fait plus de %(n)d caractères."),
                label=label[:40],
                n=OPTION_MAX,
            )
        if label.casefold() in seen:
            raise OperationError(_l("La réponse « %(label)s » est en double."), label=label)
        seen.add(label.casefold())
        cleaned.append(label)
    if len(cleaned) < MIN_OPTIONS:
        raise OperationError(_l("Proposez au moins %(n)d réponses, une par ligne."), n=MIN_OPTIONS)
    if len(cleaned) > MAX_OPTIONS:
        raise OperationError(_l("Proposez au plus %(n)d réponses."), n=MAX_OPTIONS)
    return cleaned


def clean_question(spec: QuestionSpec, fallback_text: str | None = None) -> QuestionSpec:
    """``fallback_text``: the poll's title, used when a lone question has no text of its own."""
    text = " ".join((spec.text or "").split()) or (fallback_text or "")
    if not text:
        raise OperationError(_l("Chaque question doit avoir un intitulé."))
    if len(text) > QUESTION_MAX:
        raise OperationError(_l("Une question fait %(n)d caractères au plus."), n=QUESTION_MAX)
    options = clean_options(spec.options)
    max_choices = spec.max_choices if spec.multiple else None
    if max_choices is not None and not 1 <= max_choices <= len(options):
        raise OperationError(
            _l("Le nombre maximum de réponses est compris entre 1 et %(n)d."),
            n=len(options),
        )
    return QuestionSpec(text, options, bool(spec.multiple), max_choices)


def clean_closing(closes_at: dt.datetime | None, now: dt.datetime | None = None):
    if closes_at is None:
        return None
    if closes_at.tzinfo is None:
        raise OperationError(_l("La date de clôture doit préciser son fuseau horaire."))
    if closes_at <= (now or utcnow()):
        raise OperationError(_l("La date de clôture doit être dans le futur."))
    return closes_at.astimezone(dt.UTC)


def local_closing_time(day: dt.date, time: dt.time | None) -> dt.datetime:
    """A closing date entered in the instance's time zone (Europe/Paris), as UTC; no time means
    the end of that day."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris")
    moment = dt.datetime.combine(day, time or dt.time(23, 59), tzinfo=zone)
    return moment.astimezone(dt.UTC)


def _render(source: str) -> str:
    try:
        return render(source or "")
    except MarkdownTooLong as exc:
        raise OperationError(_l("Le texte dépasse %(n)d caractères."), n=exc.args[0]) from exc


def _validated(spec: PollSpec) -> dict:
    title = clean_title(spec.title)
    if not spec.questions:
        raise OperationError(_l("Ajoutez au moins une question avec ses réponses."))
    if len(spec.questions) > MAX_QUESTIONS:
        raise OperationError(_l("Un questionnaire a au plus %(n)d questions."), n=MAX_QUESTIONS)
    lone = len(spec.questions) == 1
    questions = [clean_question(q, title if lone else None) for q in spec.questions]
    if spec.results_visibility not in ResultsVisibility.ALL:
        raise OperationError(_l("Choisissez quand les résultats sont visibles."))
    return {
        "title": title,
        "questions": questions,
        "description_source": spec.description or "",
        "description_html": _render(spec.description),
        "anonymous": bool(spec.anonymous),
        "results_visibility": spec.results_visibility,
        "closes_at": clean_closing(spec.closes_at),
    }


# -- urls and notifications --------------------------------------------------------------------


def poll_path(poll: Poll) -> str:
    """The poll's page, built without a request (operations also run in tasks and the CLI)."""
    return current_app.url_map.bind("").build(
        "polls.show", {"slug": poll.community.slug, "poll_id": poll.id}
    )


def poll_ap_id(poll_id: int) -> str:
    """The stable id of a local poll; ``/poll/<id>`` redirects to its page."""
    return local_ap_id("poll", poll_id)


def _notify(poll: Poll, actor: User | None, reason: str, recipients) -> None:
    if recipients is not None:
        recipients = [user for user in recipients if actor is None or user.id != actor.id]
        if not recipients:
            return
    signals.notification_requested.send(
        poll,
        community=poll.community,
        actor=actor,
        reason=reason,
        url=poll_path(poll),
        title=poll.title,
        recipients=recipients,
    )


# -- polls -------------------------------------------------------------------------------------


def create_poll(community: Community, author: User, spec: PollSpec) -> Poll:
    if not can(author, "post", community):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent créer un sondage."))
    _require_module(community)
    values = _validated(spec)
    questions = values.pop("questions")
    poll = Poll(community=community, author=author, **values)
    for index, question in enumerate(questions):
        row = PollQuestion(
            position=index,
            text=question.text,
            multiple=question.multiple,
            max_choices=question.max_choices,
        )
        row.options = [
            PollOption(poll=poll, position=number, label=label)
            for number, label in enumerate(question.options)
        ]
        poll.questions.append(row)
    db.session.add(poll)
    db.session.flush()
    poll.ap_id = poll_ap_id(poll.id)
    record(author, "poll.create", poll, community=community.id, anonymous=poll.anonymous)
    signals.content_created.send(poll, community=community, actor=author)
    _notify(poll, author, "new_content", None)
    return poll


def close_poll(poll: Poll, actor: User) -> Poll:
    _require_module(poll.community)
    if not can(actor, "close", poll):
        raise NotAllowed(
            _l("Seuls l'auteur du sondage et les modérateurs de la communauté peuvent le clore.")
        )
    db.session.flush()
    db.session.refresh(poll, ["closed_at", "closes_at"], with_for_update=True)
    if poll.is_closed():
        raise Conflict(_l("Ce sondage est déjà clos."))
    poll.closed_at, poll.closed_by_id = utcnow(), actor.id
    record(actor, "poll.close", poll)
    signals.content_updated.send(poll, community=poll.community, actor=actor)
    _notify(poll, actor, "poll_closed", queries.voters(poll))
    return poll


def close_due_polls(now: dt.datetime | None = None, limit: int = 200) -> int:
    """Write the closing of polls past their closing date and tell their voters (idempotent:
    a poll is closed once, whoever runs this).  They already behaved as closed."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Poll)
        .where(Poll.closed_at.is_(None), Poll.closes_at <= now)
        .order_by(Poll.closes_at, Poll.id)
        .limit(limit)
    ).all()
    closed = 0
    for poll in due:
        written = db.session.execute(
            update(Poll)
            .where(Poll.id == poll.id, Poll.closed_at.is_(None))
            .values(closed_at=Poll.closes_at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if written:
            db.session.refresh(poll, ["closed_at"])
            record(None, "poll.close", poll, automatic=True)
            _notify(poll, None, "poll_closed", queries.voters(poll))
            closed += 1
    return closed


def delete_poll(poll: Poll, actor: User) -> None:
    if not can(actor, "delete", poll):
        raise NotAllowed(
            _l(
                "Seuls l'auteur du sondage et les modérateurs de la communauté peuvent le "
                "supprimer."
            )
        )
    community = poll.community
    record(actor, "poll.delete", poll, community=community.id, author=poll.author_id)
    signals.content_deleted.send(poll, community=community, actor=actor)
    # Said explicitly, whatever the database does with its foreign keys.
    db.session.execute(delete(PollChoice).where(PollChoice.poll_id == poll.id))
    db.session.execute(delete(PollParticipation).where(PollParticipation.poll_id == poll.id))
    db.session.delete(poll)


# -- votes -------------------------------------------------------------------------------------


def _group_choices(poll: Poll, option_ids: Iterable[int]) -> dict[int, list[int]]:
    """``{question_id: [option_id, …]}``, after checking every rule of every question."""
    question_of = dict(
        db.session.execute(
            select(PollOption.id, PollOption.question_id).where(PollOption.poll_id == poll.id)
        ).all()
    )
    chosen: dict[int, list[int]] = {}
    for option_id in dict.fromkeys(option_ids):
        if option_id not in question_of:
            raise OperationError(_l("Un des choix envoyés n'appartient pas à ce sondage."))
        chosen.setdefault(question_of[option_id], []).append(option_id)
    for question in poll.questions:
        answers = chosen.get(question.id, [])
        if not answers:
            raise OperationError(
                _l("Répondez à la question « %(question)s »."), question=question.text
            )
        if not question.multiple and len(answers) > 1:
            raise OperationError(
                _l("Une seule réponse est possible à la question « %(question)s »."),
                question=question.text,
            )
        if question.max_choices is not None and len(answers) > question.max_choices:
            raise OperationError(
                _l("Au plus %(n)d réponses à la question « %(question)s »."),
                n=question.max_choices,
                question=question.text,
            )
    return chosen


def vote(poll: Poll, user: User, option_ids: Iterable[int]) -> PollParticipation:
    """Record ``user``'s vote (replacing their previous one in a named poll)."""
    _require_module(poll.community)
    if not can(user, "vote", poll):
        raise NotAllowed(_l("Seuls les membres de la communauté peuvent voter."))
    db.session.flush()
    db.session.refresh(poll, ["closed_at", "closes_at"], with_for_update=True)
    if poll.is_closed():
        raise Conflict(_l("Ce sondage est clos : les votes ne sont plus acceptés."))
    chosen = [option_id for ids in _group_choices(poll, option_ids).values() for option_id in ids]
    existing = queries.participation_of(poll, user)
    if existing is not None and poll.anonymous:
        raise Conflict(_already_voted_anonymous())
    participation = existing or _new_participation(poll, user)
    if poll.anonymous:
        db.session.execute(
            update(PollOption)
            .where(PollOption.id.in_(chosen), PollOption.poll_id == poll.id)
            .values(vote_count=PollOption.vote_count + 1)
            .execution_options(synchronize_session=False)
        )
    else:
        _store_named_choices(poll, participation, chosen)
    if existing is None:
        db.session.execute(
            update(Poll).where(Poll.id == poll.id).values(voter_count=Poll.voter_count + 1)
        )
    else:
        participation.voted_at = utcnow()
    db.session.expire(poll, ["voter_count"])
    for question in poll.questions:
        for option in question.options:
            db.session.expire(option, ["vote_count"])
    record(user, "poll.vote", poll, changed=existing is not None)
    queries.remember_vote(poll, user)
    return participation


def _already_voted_anonymous():
    return _l("Vous avez déjà voté. Dans un sondage anonyme, un vote ne peut pas être modifié.")


def _new_participation(poll: Poll, user: User) -> PollParticipation:
    """The "has voted" row; the database refuses a second one for the same person."""
    participation = PollParticipation(poll_id=poll.id, user_id=user.id, voted_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(participation)
    except IntegrityError as exc:  # the same vote arrived twice at once
        if poll.anonymous:
            raise Conflict(_already_voted_anonymous()) from exc
        participation = queries.participation_of(poll, user)
        if participation is None:
            raise
    return participation


def _store_named_choices(poll: Poll, participation: PollParticipation, chosen: list[int]):
    db.session.execute(delete(PollChoice).where(PollChoice.participation_id == participation.id))
    db.session.add_all(
        PollChoice(poll_id=poll.id, participation_id=participation.id, option_id=option_id)
        for option_id in chosen
    )
    db.session.flush()
    counted = (
        select(func.count())
        .where(PollChoice.option_id == PollOption.id)
        .correlate(PollOption)
        .scalar_subquery()
    )
    db.session.execute(
        update(PollOption)
        .where(PollOption.poll_id == poll.id)
        .values(vote_count=counted)
        .execution_options(synchronize_session=False)
    )
