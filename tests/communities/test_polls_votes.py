"""Votes: one per member enforced by the database, anonymity (nothing links a person to a choice),
refusals (closed poll, foreign option, too many or missing answers) with nothing half-stored,
results visibility, closing by date."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from maillage.communities.polls import operations
from maillage.communities.polls.models import (
    PollChoice,
    PollOption,
    PollParticipation,
)
from maillage.communities.polls.operations import QuestionSpec
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db
from tests.communities.test_polls_fixtures import *  # noqa: F403 - fixtures
from tests.communities.test_polls_fixtures import (
    count,
    csrf,
    fresh,
    option_ids,
    reasons,
    said,
    text_of,
)


def counts(poll) -> dict[str, int]:
    db.session.expire_all()
    return {
        option.label: option.vote_count
        for option in db.session.scalars(select(PollOption).where(PollOption.poll_id == poll.id))
    }


def post_vote(client, poll, *option_ids_, field=None):
    field = field or f"q-{fresh(poll).questions[0].id}"
    return client.post(
        f"/c/achats/polls/{poll.id}/vote",
        data={"csrf_token": csrf(client), field: [str(i) for i in option_ids_]},
    )


# -- one vote per member -----------------------------------------------------------------------


def test_the_database_refuses_a_second_participation(people, community, make_poll):
    poll = make_poll(community, people["owner"])
    db.session.add(PollParticipation(poll_id=poll.id, user_id=people["member"].id))
    db.session.commit()
    db.session.add(PollParticipation(poll_id=poll.id, user_id=people["member"].id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert count(PollParticipation) == 1


def test_anonymous_poll_stores_who_voted_but_never_what_they_chose(
    client, login_as, people, community, make_poll
):
    poll = make_poll(community, people["owner"], anonymous=True)
    options = option_ids(poll)
    login_as(people["member"])
    assert post_vote(client, poll, options["Mardi"]).status_code == 303
    login_as(people["other"])
    assert post_vote(client, poll, options["Jeudi"]).status_code == 303

    assert counts(poll) == {"Lundi": 0, "Mardi": 1, "Jeudi": 1}
    voters = set(db.session.scalars(select(PollParticipation.user_id)))
    assert voters == {people["member"].id, people["other"].id}
    assert count(PollChoice) == 0  # no ballot row: nothing to link to a participation
    # No column of the participations says anything about a choice.
    columns = {c["name"] for c in inspect(db.engine).get_columns("poll_participations")}
    assert columns == {"id", "poll_id", "user_id", "voted_at"}

    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "Vous avez voté. Ce sondage est anonyme : votre vote ne peut plus être modifié." in page
    assert "Vote anonyme : seuls les totaux sont connus." in page
    assert "Marc Membre" not in page
    assert "Qui a choisi" not in page
    assert "(votre choix)" not in page


def test_an_anonymous_vote_cannot_be_cast_twice(client, login_as, people, community, make_poll):
    poll = make_poll(community, people["owner"], anonymous=True)
    options = option_ids(poll)
    login_as(people["member"])
    post_vote(client, poll, options["Mardi"])
    again = post_vote(client, poll, options["Lundi"])
    assert again.status_code == 409
    assert (
        "Vous avez déjà voté. Dans un sondage anonyme, un vote ne peut pas être modifié."
        in said(again)
    )
    assert counts(poll) == {"Lundi": 0, "Mardi": 1, "Jeudi": 0}
    assert fresh(poll).voter_count == 1


def test_a_repeated_named_vote_is_one_vote(people, community, make_poll):
    poll = make_poll(community, people["owner"])
    options = option_ids(poll)
    for label in ("Lundi", "Lundi", "Mardi"):
        operations.vote(fresh(poll), people["member"], [options[label]])
        db.session.commit()
    assert counts(poll) == {"Lundi": 0, "Mardi": 1, "Jeudi": 0}
    assert fresh(poll).voter_count == 1
    assert count(PollParticipation) == 1
    assert count(PollChoice) == 1


# -- refusals, nothing stored ------------------------------------------------------------------


def test_votes_are_refused_once_the_poll_is_closed(client, login_as, people, community, make_poll):
    poll = make_poll(community, people["owner"])
    options = option_ids(poll)
    operations.close_poll(fresh(poll), people["owner"])
    db.session.commit()
    login_as(people["member"])
    refused = post_vote(client, poll, options["Mardi"])
    assert refused.status_code == 409
    assert "Ce sondage est clos : les votes ne sont plus acceptés." in said(refused)
    assert count(PollParticipation) == 0
    assert counts(poll)["Mardi"] == 0


def test_a_poll_past_its_closing_date_behaves_as_closed_without_any_task(
    client, login_as, people, community, make_poll
):
    poll = make_poll(
        community,
        people["owner"],
        closes_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    options = option_ids(poll)
    operations.vote(fresh(poll), people["other"], [options["Lundi"]])
    db.session.commit()
    past = fresh(poll)
    past.closes_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    db.session.commit()
    assert fresh(poll).closed_at is None

    login_as(people["member"])
    refused = post_vote(client, poll, options["Mardi"])
    assert refused.status_code == 409
    assert "Ce sondage est clos" in said(refused)
    assert count(PollParticipation) == 1
    listing = said(client.get("/c/achats/polls?etat=clos"))
    assert "Quel jour pour la réunion ?" in listing
    assert "Aucun sondage ouvert." in said(client.get("/c/achats/polls?etat=ouverts"))
    with pytest.raises(Conflict):
        operations.close_poll(fresh(poll), people["owner"])
    db.session.rollback()


def test_the_periodic_task_records_closing_once_and_tells_voters(
    people, community, make_poll, notifications
):
    from maillage.communities.polls.tasks import close_due

    poll = make_poll(
        community, people["owner"], closes_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    )
    operations.vote(fresh(poll), people["member"], [option_ids(poll)["Lundi"]])
    operations.vote(fresh(poll), people["owner"], [option_ids(poll)["Mardi"]])
    db.session.commit()
    deadline = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    fresh(poll).closes_at = deadline
    db.session.commit()

    assert close_due() == 1
    assert fresh(poll).closed_at == deadline.replace(microsecond=deadline.microsecond)
    assert reasons(notifications, "poll_closed") == [{"marc", "olga"}]
    assert close_due() == 0  # idempotent
    assert len(reasons(notifications, "poll_closed")) == 1


def test_options_of_another_poll_and_bad_ids_are_refused(
    client, login_as, people, community, make_poll
):
    poll = make_poll(community, people["owner"])
    other = make_poll(community, people["owner"], title="Autre", options=("Oui", "Non"))
    login_as(people["member"])
    foreign = post_vote(client, poll, option_ids(other)["Oui"])
    assert foreign.status_code == 400
    assert "Un des choix envoyés n'appartient pas à ce sondage." in said(foreign)
    not_a_number = post_vote(client, poll, "abc")
    assert not_a_number.status_code == 400
    assert "Un des choix envoyés n'est pas valide." in said(not_a_number)
    empty = client.post(f"/c/achats/polls/{poll.id}/vote", data={"csrf_token": csrf(client)})
    assert empty.status_code == 400
    assert "Répondez à la question « Quel jour pour la réunion ? »." in said(empty)
    assert count(PollParticipation) == 0


def test_too_many_choices_are_refused(client, login_as, people, community, make_poll):
    single = make_poll(community, people["owner"])
    options = option_ids(single)
    login_as(people["member"])
    two = post_vote(client, single, options["Lundi"], options["Mardi"])
    assert two.status_code == 400
    assert "Une seule réponse est possible à la question" in said(two)
    # The choices made stay checked so the person can correct them.
    assert f'value="{options["Lundi"]}" checked' in text_of(two)

    capped = make_poll(
        community,
        people["owner"],
        title="Thèmes",
        options=("A", "B", "C", "D"),
        multiple=True,
        max_choices=2,
    )
    abc = option_ids(capped)
    three = post_vote(client, capped, abc["A"], abc["B"], abc["C"])
    assert three.status_code == 400
    assert "Au plus 2 réponses à la question « Thèmes »." in said(three)
    assert post_vote(client, capped, abc["A"], abc["C"]).status_code == 303
    assert counts(capped) == {"A": 1, "B": 0, "C": 1, "D": 0}
    assert count(PollParticipation) == 1


def test_every_question_of_a_survey_must_be_answered(people, community, make_poll):
    survey = make_poll(
        community,
        people["owner"],
        title="Bilan",
        questions=[
            QuestionSpec("Utile ?", ["Oui", "Non"]),
            QuestionSpec("Formats ?", ["En ligne", "Présentiel"], multiple=True),
        ],
    )
    options = option_ids(survey)
    with pytest.raises(OperationError, match=re.escape("Répondez à la question « Formats ? ».")):
        operations.vote(fresh(survey), people["member"], [options["Oui"]])
    db.session.rollback()
    operations.vote(
        fresh(survey),
        people["member"],
        [options["Oui"], options["En ligne"], options["Présentiel"]],
    )
    db.session.commit()
    assert counts(survey) == {"Oui": 1, "Non": 0, "En ligne": 1, "Présentiel": 1}


def test_guests_and_outsiders_do_not_vote(client, login_as, people, community, make_poll):
    poll = make_poll(community, people["owner"])
    options = option_ids(poll)
    for person in ("guest", "outsider"):
        login_as(people[person])
        refused = post_vote(client, poll, options["Lundi"])
        assert refused.status_code == 403
        assert "Seuls les membres de la communauté peuvent voter." in said(refused)
        with pytest.raises(NotAllowed):
            operations.vote(fresh(poll), people[person], [options["Lundi"]])
        db.session.rollback()
    login_as(None)
    anonymous = post_vote(client, poll, options["Lundi"])
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]
    assert count(PollParticipation) == 0


# -- results visibility ------------------------------------------------------------------------


def test_results_after_voting(client, login_as, people, community, make_poll):
    poll = make_poll(community, people["member"], results_visibility="after_vote")
    operations.vote(fresh(poll), people["owner"], [option_ids(poll)["Jeudi"]])
    db.session.commit()
    login_as(people["moderator"])  # a moderator may close it: sees the results
    assert "Jeudi (en tête) 1 100 %" in said(client.get(f"/c/achats/polls/{poll.id}"))
    login_as(people["other"])
    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "Les résultats seront visibles après votre vote, ou à la clôture du sondage." in page
    assert "Jeudi (en tête)" not in page
    assert "<svg" not in text_of(client.get(f"/c/achats/polls/{poll.id}"))
    post_vote(client, poll, option_ids(poll)["Lundi"])
    assert "Résultats provisoires" in said(client.get(f"/c/achats/polls/{poll.id}"))


def test_results_after_closing(client, login_as, people, community, make_poll):
    poll = make_poll(community, people["member"], results_visibility="after_close")
    operations.vote(fresh(poll), people["other"], [option_ids(poll)["Jeudi"]])
    db.session.commit()
    login_as(people["other"])
    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "Les résultats seront visibles à la clôture du sondage." in page
    operations.close_poll(fresh(poll), people["member"])
    db.session.commit()
    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "Jeudi (en tête) 1 100 % Nina Autre (votre choix)" not in page  # own choice marked
    assert "Jeudi (en tête) (votre choix) 1 100 % Nina Autre" in page
    assert "Résultats provisoires" not in page


def test_results_with_multiple_choices_count_voters_not_ballots(
    client, login_as, people, community, make_poll
):
    from maillage.communities.polls.queries import results

    poll = make_poll(
        community, people["owner"], options=("A", "B", "C"), multiple=True, title="Thèmes"
    )
    options = option_ids(poll)
    operations.vote(fresh(poll), people["member"], [options["A"], options["B"]])
    operations.vote(fresh(poll), people["other"], [options["A"]])
    db.session.commit()
    [result] = results(fresh(poll))
    rows = [
        (row.option.label, row.count, round(row.percent), row.leading) for row in result.options
    ]
    assert rows == [("A", 2, 100, True), ("B", 1, 50, False), ("C", 0, 0, False)]
    assert result.voters == 2
    assert [row.bar_width for row in result.options] == ["100.0%", "50.0%", "0.0%"]
    login_as(people["member"])
    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "A (en tête) (votre choix) 2 100 %" in page
    assert "B (votre choix) 1 50 %" in page
    assert "le total des parts peut dépasser 100 %." in page
