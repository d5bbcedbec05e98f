"""Polls over HTTP: creating a poll or a survey, voting, changing one's vote, results as an
accessible chart and table, closing and deleting; validation in French with nothing stored."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from maillage.communities.polls.models import (
    Poll,
    PollChoice,
    PollOption,
    PollParticipation,
    PollQuestion,
)
from maillage.platform.audit.models import AuditEntry
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


def poll_form(token: str, **fields) -> dict:
    data = {
        "csrf_token": token,
        "title": "Quel jour pour la réunion ?",
        "description": "",
        "questions-0-text": "",
        "questions-0-options": "Lundi\nMardi\nJeudi",
        "anonymity": "named",
        "results_visibility": "always",
        "closes_on": "",
        "closes_time": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


# -- the journey -------------------------------------------------------------------------------


def test_member_opens_a_poll_others_vote_and_see_the_chart(
    client, login_as, people, community, notifications
):
    login_as(people["member"])
    token = csrf(client)
    assert 'action="/c/achats/polls/new"' in text_of(client.get("/c/achats/polls/new"))
    created = client.post(
        "/c/achats/polls/new",
        data=poll_form(
            token,
            title="  Quel  jour pour la réunion ? ",
            description="Pour la **plénière**. <script>alert(1)</script>",
        ),
    )
    poll = db.session.scalar(select(Poll))
    assert created.status_code == 303
    assert created.headers["Location"] == f"/c/achats/polls/{poll.id}"
    assert poll.title == "Quel jour pour la réunion ?"
    assert "<strong>plénière</strong>" in poll.description_html
    assert "<script>" not in poll.description_html
    assert poll.ap_id == f"https://maillage.test/poll/{poll.id}"
    assert [q.text for q in poll.questions] == ["Quel jour pour la réunion ?"]
    assert [o.label for o in poll.questions[0].options] == ["Lundi", "Mardi", "Jeudi"]
    assert reasons(notifications, "new_content") == [None]
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == poll.id))

    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "Votre sondage est ouvert." in page
    assert "Vote nominatif" in page
    assert "Personne n'a encore voté." in page

    options = option_ids(poll)
    for person, choice in (("member", "Mardi"), ("other", "Mardi"), ("moderator", "Jeudi")):
        login_as(people[person])
        voted = client.post(
            f"/c/achats/polls/{poll.id}/vote",
            data={"csrf_token": csrf(client), f"q-{poll.questions[0].id}": options[choice]},
        )
        assert voted.status_code == 303
        assert voted.headers["Location"] == f"/c/achats/polls/{poll.id}#resultats"
    assert fresh(poll).voter_count == 3

    login_as(people["owner"])
    html = text_of(client.get(f"/c/achats/polls/{poll.id}"))
    chart = re.search(r"<svg class=\"poll-chart\".*?</svg>", html, re.S).group(0)
    assert 'role="img"' in chart
    assert "<title>Résultats de « Quel jour pour la réunion ? »</title>" in chart
    assert 'aria-label="Résultats de « Quel jour pour la réunion ? » : Lundi : 0 vote' in chart
    assert 'width="66.7%"' in chart
    assert 'width="33.3%"' in chart
    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "3 personnes ont voté." in page
    assert "Mardi : 2 votes (67 %)" in page
    # The same figures in a table, the leader said in words, who voted what for members.
    assert "Mardi (en tête) 2 67 % Marc Membre, Nina Autre" in page
    assert "Jeudi 1 33 % Mona Modo" in page
    assert "Lundi 0 0 % —" in page


def test_a_named_vote_can_be_changed_until_closing(client, login_as, people, community, make_poll):
    poll = make_poll(community, people["owner"])
    options = option_ids(poll)
    field = f"q-{poll.questions[0].id}"
    login_as(people["member"])
    client.post(
        f"/c/achats/polls/{poll.id}/vote",
        data={"csrf_token": csrf(client), field: options["Lundi"]},
    )
    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "Modifier votre vote" in page
    assert f'id="option-{options["Lundi"]}" value="{options["Lundi"]}" checked' in text_of(
        client.get(f"/c/achats/polls/{poll.id}")
    )

    changed = client.post(
        f"/c/achats/polls/{poll.id}/vote",
        data={"csrf_token": csrf(client), field: options["Jeudi"]},
    )
    assert changed.status_code == 303
    assert "Votre vote est modifié." in said(client.get(changed.headers["Location"]))
    counts = {o.label: o.vote_count for o in db.session.scalars(select(PollOption))}
    assert counts == {"Lundi": 0, "Mardi": 0, "Jeudi": 1}
    assert fresh(poll).voter_count == 1
    assert count(PollParticipation) == 1
    assert [c.option_id for c in db.session.scalars(select(PollChoice))] == [options["Jeudi"]]


def test_results_hide_who_voted_from_visitors_outside_the_community(
    client, login_as, people, community, make_poll
):
    poll = make_poll(community, people["owner"])
    from maillage.communities.polls import operations

    operations.vote(fresh(poll), people["member"], [option_ids(poll)["Mardi"]])
    db.session.commit()
    login_as(None)
    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "Mardi (en tête) 1 100 %" in page
    assert "Marc Membre" not in page
    assert "Connectez-vous pour voter." in page
    login_as(people["guest"])
    page = said(client.get(f"/c/achats/polls/{poll.id}"))
    assert "Marc Membre" in page  # guests are members: they see names, but do not vote
    assert "Seuls les membres de la communauté peuvent voter." in page
    assert 'class="poll-vote"' not in text_of(client.get(f"/c/achats/polls/{poll.id}"))


def test_a_survey_with_several_questions_built_without_javascript(
    client, login_as, people, community
):
    login_as(people["member"])
    token = csrf(client)
    more = client.post(
        "/c/achats/polls/new",
        data=poll_form(
            token, title="Bilan de l'atelier", add_question="1", **{"questions-0-text": "Utile ?"}
        ),
    )
    assert more.status_code == 200
    html = text_of(more)
    assert 'name="questions-1-text"' in html
    assert "Question 2" in html
    assert 'value="Utile ?"' in html  # what was typed is kept
    assert count(Poll) == 0

    created = client.post(
        "/c/achats/polls/new",
        data=poll_form(
            token,
            title="Bilan de l'atelier",
            anonymity="anonymous",
            **{
                "questions-0-text": "Utile ?",
                "questions-0-options": "Oui\nNon\n\n",
                "questions-1-text": "Quels formats ?",
                "questions-1-options": "En ligne\nPrésentiel\nFiches",
                "questions-1-multiple": "y",
                "questions-1-max_choices": "2",
            },
        ),
    )
    assert created.status_code == 303
    poll = db.session.scalar(select(Poll))
    assert poll.anonymous
    assert poll.is_survey
    questions = [(q.text, q.multiple, q.max_choices, len(q.options)) for q in poll.questions]
    assert questions == [("Utile ?", False, None, 2), ("Quels formats ?", True, 2, 3)]
    page = said(client.get(created.headers["Location"]))
    assert "2 questions" in page
    assert "Plusieurs réponses possibles, 2 au plus." in page
    assert 'type="checkbox" name="q-' in text_of(client.get(created.headers["Location"]))


def test_closing_date_is_entered_and_shown_in_paris_time(client, login_as, people, community):
    login_as(people["member"])
    created = client.post(
        "/c/achats/polls/new",
        data=poll_form(csrf(client), closes_on="15/01/2099", closes_time="10:00"),
    )
    assert created.status_code == 303
    poll = db.session.scalar(select(Poll))
    assert poll.closes_at == dt.datetime(2099, 1, 15, 9, 0, tzinfo=dt.UTC)
    page = said(client.get(created.headers["Location"]))
    assert "Ouvert jusqu'au 15/01/2099 10:00 (heure de Paris)." in page

    client.post(
        "/c/achats/polls/new",
        data=poll_form(csrf(client), title="Sans heure", closes_on="2099-07-01"),
    )
    summer = db.session.scalar(select(Poll).where(Poll.title == "Sans heure"))
    assert summer.closes_at == dt.datetime(2099, 7, 1, 21, 59, tzinfo=dt.UTC)


# -- bad input ---------------------------------------------------------------------------------


def test_invalid_polls_are_refused_in_french_and_nothing_is_stored(
    client, login_as, people, community
):
    login_as(people["member"])
    token = csrf(client)
    cases = [
        ({"title": ""}, "La question (ou le titre) est obligatoire."),
        ({"questions-0-options": "Oui"}, "Proposez au moins 2 réponses, une par ligne."),
        ({"questions-0-options": ""}, "Indiquez les réponses possibles, une par ligne."),
        ({"questions-0-options": "Oui\n oui \nNon"}, "La réponse « oui » est en double."),
        ({"questions-0-options": "\n".join(f"R{n}" for n in range(31))}, "au plus 30 réponses"),
        ({"questions-0-options": "A\n" + "x" * 201}, "fait plus de 200 caractères"),
        (
            {"questions-0-multiple": "y", "questions-0-max_choices": "5"},
            "Le nombre maximum de réponses est compris entre 1 et 3.",
        ),
        ({"questions-0-max_choices": "deux"}, "Indiquez un nombre entier."),
        ({"closes_on": "01/01/2001"}, "La date de clôture doit être dans le futur."),
        ({"closes_on": "31/02/2099"}, "Date invalide : utilisez le format JJ/MM/AAAA"),
        ({"closes_time": "10:00"}, "Indiquez aussi la date de clôture."),
        (
            {"questions-1-options": "A\nB", "questions-1-text": ""},
            "Indiquez l'intitulé.",
        ),
        ({"description": "x" * 200_001}, "Le texte fait 200001 caractères"),
    ]
    for fields, message in cases:
        response = client.post("/c/achats/polls/new", data=poll_form(token, **fields))
        assert response.status_code == 400, fields
        page = said(response)
        assert message in page, (fields, page[page.find("error-summary") :][:400])
        assert 'role="alert"' in text_of(response), fields
        assert 'aria-invalid="true"' in text_of(response) or "questions-0" not in str(fields)
    assert count(Poll) == count(PollQuestion) == count(PollOption) == 0


def test_the_form_is_refused_without_its_security_token(client, login_as, people, community):
    login_as(people["member"])
    response = client.post("/c/achats/polls/new", data=poll_form("forged"))
    assert response.status_code == 400
    assert "jeton de sécurité" in said(response)
    assert count(Poll) == 0


# -- closing and deleting ----------------------------------------------------------------------


def test_author_closes_the_poll_and_voters_are_told(
    client, login_as, people, community, make_poll, notifications
):
    poll = make_poll(community, people["member"])
    from maillage.communities.polls import operations

    operations.vote(fresh(poll), people["other"], [option_ids(poll)["Lundi"]])
    operations.vote(fresh(poll), people["member"], [option_ids(poll)["Lundi"]])
    db.session.commit()
    login_as(people["member"])
    closed = client.post(f"/c/achats/polls/{poll.id}/close", data={"csrf_token": csrf(client)})
    assert closed.status_code == 303
    page = said(client.get(closed.headers["Location"]))
    assert "Le sondage est clos." in page
    assert "Ce sondage est clos : les votes ne sont plus acceptés. Vous y avez voté." in page
    assert "Clore le sondage maintenant" not in page
    assert fresh(poll).closed_by_id == people["member"].id
    assert reasons(notifications, "poll_closed") == [{"nina"}]  # the author is not told

    again = client.post(f"/c/achats/polls/{poll.id}/close", data={"csrf_token": csrf(client)})
    assert "Ce sondage est déjà clos." in said(client.get(again.headers["Location"]))


def test_author_or_moderators_delete_a_poll_with_its_votes(
    client, login_as, people, community, make_poll
):
    poll = make_poll(community, people["member"])
    poll_id = poll.id
    from maillage.communities.polls import operations

    operations.vote(fresh(poll), people["other"], [option_ids(poll)["Lundi"]])
    db.session.commit()
    login_as(people["other"])
    assert client.get(f"/c/achats/polls/{poll.id}/delete").status_code == 403
    assert (
        client.post(
            f"/c/achats/polls/{poll.id}/close", data={"csrf_token": csrf(client)}
        ).status_code
        == 403
    )
    login_as(people["moderator"])
    confirm = client.get(f"/c/achats/polls/{poll.id}/delete")
    assert "Le sondage et 1 vote seront supprimés." in said(confirm)
    deleted = client.post(
        f"/c/achats/polls/{poll.id}/delete", data={"confirmed": "1", "csrf_token": csrf(client)}
    )
    assert deleted.status_code == 303
    assert deleted.headers["Location"] == "/c/achats/polls"
    assert count(Poll) == count(PollOption) == count(PollParticipation) == count(PollChoice) == 0
    assert client.get(f"/c/achats/polls/{poll_id}").status_code == 404
