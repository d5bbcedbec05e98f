"""Who reaches polls: secret communities are a 404 everywhere, private ones ask to sign in, a
switched-off module is a 404; unknown ids are a 404; search; bounded queries; the demo."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from maillage.communities.community.models import Community
from maillage.communities.polls import operations
from maillage.communities.polls.models import Poll, PollParticipation
from maillage.communities.search.queries import search
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from tests.communities.test_polls_fixtures import *  # noqa: F403 - fixtures
from tests.communities.test_polls_fixtures import count, csrf, fresh, option_ids, said, text_of


def poll_urls(slug: str, poll_id: int) -> list[tuple[str, str]]:
    base = f"/c/{slug}/polls"
    return [
        ("GET", base),
        ("GET", f"{base}/new"),
        ("POST", f"{base}/new"),
        ("GET", f"{base}/{poll_id}"),
        ("POST", f"{base}/{poll_id}/vote"),
        ("POST", f"{base}/{poll_id}/close"),
        ("GET", f"{base}/{poll_id}/delete"),
        ("POST", f"{base}/{poll_id}/delete"),
        ("GET", f"/poll/{poll_id}"),
    ]


def request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf(client)})


def test_a_secret_community_s_polls_are_a_404_to_outsiders(
    client, login_as, people, create_community, make_poll
):
    secret = create_community(
        "Cellule de crise", slug="crise", visibility="secret", owner=people["owner"]
    )
    poll = make_poll(secret, people["owner"])
    secret = fresh(secret)
    for viewer in (None, people["outsider"]):
        login_as(viewer)
        for method, url in poll_urls(secret.slug, poll.id):
            assert request(client, method, url).status_code == 404, (viewer, method, url)
    login_as(people["owner"])
    assert "Quel jour pour la réunion ?" in said(client.get(f"/c/{secret.slug}/polls"))
    location = client.get(f"/poll/{poll.id}").headers["Location"]
    assert location == f"/c/{secret.slug}/polls/{poll.id}"
    assert count(PollParticipation) == 0
    assert count(Poll) == 1


def test_a_private_community_s_polls_ask_to_sign_in_or_refuse(
    client, login_as, people, create_community, make_poll
):
    private = create_community(
        "Juristes", slug="juristes", visibility="private", owner=people["owner"]
    )
    poll = make_poll(private, people["owner"])
    login_as(None)
    for url in ("/c/juristes/polls", f"/c/juristes/polls/{poll.id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    login_as(people["outsider"])
    refused = client.get(f"/c/juristes/polls/{poll.id}")
    assert refused.status_code == 403
    assert "Les sondages de cette communauté sont réservés à ses membres." in said(refused)
    assert client.get("/c/juristes/polls").status_code == 403


def test_a_switched_off_module_is_a_404_everywhere(client, login_as, people, community, make_poll):
    poll = make_poll(community, people["owner"])
    community = fresh(community)
    community.disabled_modules = ["polls"]
    db.session.commit()
    login_as(people["owner"])
    for method, url in poll_urls("achats", poll.id):
        assert request(client, method, url).status_code == 404, (method, url)
    assert 'href="/c/achats/polls"' not in text_of(client.get("/c/achats"))
    with pytest.raises(OperationError, match="Les sondages sont désactivés"):
        operations.vote(fresh(poll), people["member"], [option_ids(poll)["Lundi"]])
    db.session.rollback()
    with pytest.raises(OperationError, match="Les sondages sont désactivés"):
        make_poll(fresh(community), people["owner"])
    db.session.rollback()
    assert count(PollParticipation) == 0
    assert count(Poll) == 1


def test_unknown_and_foreign_polls_are_a_404(
    client, login_as, people, community, create_community, make_poll
):
    elsewhere = create_community("Ailleurs", slug="ailleurs", owner=people["owner"])
    poll = make_poll(elsewhere, people["owner"])
    login_as(people["owner"])
    assert client.get(f"/c/achats/polls/{poll.id}").status_code == 404
    assert client.get("/c/achats/polls/999999").status_code == 404
    assert client.get("/c/inconnue/polls").status_code == 404
    assert client.get("/poll/999999").status_code == 404
    voted = client.post(
        f"/c/achats/polls/{poll.id}/vote", data={"csrf_token": csrf(client), "q-1": "1"}
    )
    assert voted.status_code == 404


def test_guests_read_polls_but_cannot_create_them(client, login_as, people, community, make_poll):
    make_poll(community, people["owner"])
    login_as(people["guest"])
    listing = client.get("/c/achats/polls")
    assert listing.status_code == 200
    assert "Nouveau sondage" not in said(listing)
    refused = client.get("/c/achats/polls/new")
    assert refused.status_code == 403
    assert "Seuls les membres de la communauté peuvent créer un sondage." in said(refused)
    login_as(people["member"])
    assert "Nouveau sondage" in said(client.get("/c/achats/polls"))


def test_the_list_shows_state_and_the_viewer_s_votes(
    client, login_as, people, community, make_poll
):
    open_poll = make_poll(community, people["owner"], title="Sondage ouvert")
    closed_poll = make_poll(community, people["owner"], title="Sondage fermé", anonymous=True)
    operations.vote(fresh(open_poll), people["member"], [option_ids(open_poll)["Lundi"]])
    operations.close_poll(fresh(closed_poll), people["owner"])
    db.session.commit()
    login_as(people["member"])
    page = said(client.get("/c/achats/polls"))
    assert "2 sondages" in page
    assert "Sondage fermé Clos Anonyme" in page
    assert "Sondage ouvert Ouvert Nominatif Vous avez voté" in page
    assert "Sondage fermé" not in said(client.get("/c/achats/polls?etat=ouverts"))
    assert "Sondage ouvert" not in said(client.get("/c/achats/polls?etat=clos"))
    assert "2 sondages" in said(client.get("/c/achats/polls?etat=nimportequoi&page=x"))


def test_the_list_and_a_poll_cost_a_bounded_number_of_queries(
    client, login_as, people, community, make_poll, create_user, count_queries
):
    def measure(url: str) -> int:
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = make_poll(community, people["owner"], title="Premier")
    login_as(people["member"])
    client.get("/c/achats/polls")  # today's visits are recorded once (analytics)
    few_list, few_poll = measure("/c/achats/polls"), measure(f"/c/achats/polls/{first.id}")
    for number in range(12):
        poll = make_poll(community, people["other"], title=f"Sondage {number}")
        operations.vote(fresh(poll), people["member"], [option_ids(poll)["Mardi"]])
    for _number in range(8):
        voter = create_user()
        from maillage.communities.community.operations import add_membership

        add_membership(fresh(community), voter, "member")
        operations.vote(fresh(first), voter, [option_ids(first)["Jeudi"]])
    db.session.commit()
    assert measure("/c/achats/polls") == few_list
    assert measure(f"/c/achats/polls/{first.id}") == few_poll


# -- search ------------------------------------------------------------------------------------


def hits(viewer, words: str) -> list[tuple[str, int]]:
    return [(item.kind, item.obj.id) for item in search(viewer, words).items]


def test_polls_are_found_by_question_and_options(
    client, people, community, create_community, make_poll
):
    poll = make_poll(
        community,
        people["owner"],
        title="Choix du prestataire de restauration",
        options=("Traiteur solidaire", "Cantine administrative"),
    )
    assert hits(None, "restauration") == [("poll", poll.id)]
    assert hits(None, "traiteur") == [("poll", poll.id)]
    page = text_of(client.get("/search?q=traiteur"))
    assert f'href="/c/achats/polls/{poll.id}"' in page

    private = create_community(
        "Juristes", slug="juristes", visibility="private", owner=people["owner"]
    )
    hidden = make_poll(private, people["owner"], title="Jurisprudence confidentielle")
    assert hits(people["outsider"], "jurisprudence") == []
    assert hits(people["owner"], "jurisprudence") == [("poll", hidden.id)]

    community = fresh(community)
    community.disabled_modules = ["polls"]
    db.session.commit()
    assert hits(people["owner"], "traiteur") == []
    community.disabled_modules = []
    db.session.commit()

    operations.delete_poll(fresh(poll), people["owner"])
    db.session.commit()
    assert hits(None, "traiteur") == []


def test_search_kind_lists_a_community_s_polls(app, people, community, make_poll):
    from maillage.communities.search.kinds import SEARCH_KINDS

    poll = make_poll(community, people["owner"])
    kind = SEARCH_KINDS["poll"]
    assert str(kind.singular) == "Sondage"
    assert list(kind.ids_in_community(db.session, community.id)) == [poll.id]


# -- demo --------------------------------------------------------------------------------------


def test_demo_polls_are_realistic_and_go_through_the_operations(app, client):
    from maillage.communities import demo
    from maillage.communities.organisations.operations import create_organisation
    from maillage.communities.polls import demo as polls_demo

    organisations = {
        key: create_organisation(name, kind, siret)
        for key, (name, kind, siret) in demo.ORGANISATIONS.items()
    }
    people = demo._create_people(organisations)
    themes = demo._create_topics()
    communities = {
        spec[0]: demo._create_community(spec, people, themes) for spec in demo.COMMUNITIES
    }
    polls_demo.load_demo(people, communities, random.Random(2026))
    db.session.commit()

    polls = db.session.scalars(select(Poll)).all()
    assert len(polls) >= 3
    assert any(poll.anonymous for poll in polls)
    assert any(not poll.anonymous and poll.questions[0].multiple for poll in polls)
    closed = [poll for poll in polls if poll.is_closed()]
    assert closed
    assert all(poll.voter_count > 0 for poll in closed)
    per_community = dict(
        db.session.execute(
            select(Community.slug, func.count(Poll.id))
            .join(Poll, Poll.community_id == Community.id)
            .group_by(Community.slug)
        ).all()
    )
    assert len(per_community) >= 2
    page = said(client.get(f"/c/club-animateurs/polls/{closed[0].id}"))
    assert "Sondage clos le" in page
    assert "(en tête)" in page
