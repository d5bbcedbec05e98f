"""Facilitators hear about join requests (bell, and e-mail at their rhythm), the requester hears
the decision in the bell too, and the waiting requests are counted where facilitators look."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from maillage.communities.community.operations import decide_request, request_to_join
from maillage.platform.extensions import db
from maillage.platform.notifications.models import Notification, NotificationPreference
from maillage.platform.notifications.tasks import run_digests


def notices(reason: str) -> dict[int, Notification]:
    rows = db.session.scalars(select(Notification).where(Notification.reason == reason))
    return {row.recipient_id: row for row in rows}


def mails_to(outbox_mail, user) -> list:
    return [message for message in outbox_mail() if message["To"] == user.email]


def prefer(user, community, mode: str) -> None:
    db.session.add(NotificationPreference(user_id=user.id, community_id=community.id, mode=mode))
    db.session.commit()


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


@pytest.fixture
def team(create_user):
    return {
        "olga": create_user("olga", display_name="Olga Martin"),  # owner
        "fanny": create_user("fanny", display_name="Fanny Roux"),  # facilitator
        "momo": create_user("momo", display_name="Momo Diallo"),  # moderator
        "marc": create_user("marc", display_name="Marc Durand"),  # member
        "anne": create_user("anne", display_name="Anne Martin"),  # asks to join
    }


@pytest.fixture
def achats(create_community, team):
    return create_community(
        "Acheteurs publics",
        slug="achats",
        owner=team["olga"],
        visibility="private",
        join_policy="request",
        members=[(team["fanny"], "facilitator"), (team["momo"], "moderator"), team["marc"]],
    )


def test_a_request_notifies_the_owners_and_facilitators_only(team, achats, outbox_mail):
    prefer(team["olga"], achats, "immediate")

    request_to_join(achats, team["anne"], "Bonjour, je suis acheteuse.")
    db.session.commit()

    told = notices("join_request")
    assert set(told) == {team["olga"].id, team["fanny"].id}
    notice = told[team["fanny"].id]
    assert notice.title == "Anne Martin demande à rejoindre « Acheteurs publics »"
    assert notice.url == "/c/achats/requests"
    assert notice.community_id == achats.id
    assert notice.actor_id == team["anne"].id
    # Olga chose immediate e-mails: one now; Fanny (daily by default) waits for her digest.
    (message,) = mails_to(outbox_mail, team["olga"])
    assert "Anne Martin demande à rejoindre" in message["Subject"]
    assert mails_to(outbox_mail, team["fanny"]) == []
    assert told[team["fanny"].id].emailed_at is None
    assert run_digests("daily") >= 1
    (digest,) = mails_to(outbox_mail, team["fanny"])
    assert "Demande d'adhésion" in digest.get_content()


def test_the_bell_shows_the_request_with_its_label(client, team, achats, login_as):
    request_to_join(achats, team["anne"])
    db.session.commit()
    login_as(team["fanny"])

    page = text(client.get("/notifications"))

    assert "Demande d'adhésion · Acheteurs publics · par Anne Martin" in page
    assert "Anne Martin demande à rejoindre « Acheteurs publics »" in page


@pytest.mark.parametrize("approve", [True, False])
def test_the_requester_hears_the_decision_in_the_bell_and_by_one_mail(
    team, achats, outbox_mail, approve
):
    join_request = request_to_join(achats, team["anne"])
    db.session.commit()
    before = len(mails_to(outbox_mail, team["anne"]))

    decide_request(join_request, team["fanny"], approve)
    db.session.commit()

    (notice,) = notices("join_request_decided").values()
    assert notice.recipient_id == team["anne"].id
    assert notice.actor_id == team["fanny"].id
    assert notice.url == "/c/achats"
    expected = "est acceptée" if approve else "n'a pas été retenue"
    assert notice.title == f"Votre demande pour « Acheteurs publics » {expected}"
    # The decision e-mail is sent as before; the bell notice adds none, now or in a digest.
    assert len(mails_to(outbox_mail, team["anne"])) == before + 1
    assert notice.emailed_at is not None
    run_digests("daily")
    assert len(mails_to(outbox_mail, team["anne"])) == before + 1


def test_a_refused_requester_reads_the_notice_in_the_bell(client, team, achats, login_as):
    join_request = request_to_join(achats, team["anne"])
    db.session.commit()
    decide_request(join_request, team["olga"], approve=False)
    db.session.commit()
    login_as(team["anne"])

    page = text(client.get("/notifications"))

    assert "Réponse à votre demande d'adhésion" in page
    assert "Votre demande pour « Acheteurs publics » n'a pas été retenue" in page


def test_telling_the_deciders_costs_the_same_queries_for_2_or_12(
    create_user, create_community, count_queries
):
    def asking_costs(facilitators: int) -> int:
        community = create_community(
            join_policy="request",
            members=[(create_user(), "facilitator") for _ in range(facilitators)],
        )
        applicant = create_user()
        with count_queries() as queries:
            request_to_join(community, applicant)
            db.session.flush()
        db.session.commit()
        return len(queries)

    assert asking_costs(2) == asking_costs(12)


# -- the pending count -------------------------------------------------------------------------


def test_the_console_nav_and_the_header_show_the_count_with_words(
    client, team, achats, create_user, login_as
):
    for _ in range(3):
        request_to_join(achats, create_user())
    db.session.commit()
    login_as(team["fanny"])

    requests_page = client.get("/c/achats/requests").get_data(as_text=True)
    nav = re.search(r'<nav class="console-nav".*?</nav>', requests_page, re.S).group(0)
    assert '<span aria-hidden="true">3</span>' in nav
    assert '<span class="visually-hidden">3 demandes en attente</span>' in nav

    community_page = client.get("/c/achats").get_data(as_text=True)
    assert '<a href="/c/achats/requests">3 demandes d\'adhésion en attente</a>' in unescape(
        community_page
    )

    console = text(client.get("/c/achats/console"))
    assert "3 demandes en attente" in console


def test_members_and_moderators_see_no_count(client, team, achats, login_as):
    request_to_join(achats, team["anne"])
    db.session.commit()
    for person in ("marc", "momo"):
        login_as(team[person])
        page = unescape(client.get("/c/achats").get_data(as_text=True))
        assert "en attente" not in page
        assert "demande d'adhésion" not in page.lower()


def test_the_count_drops_when_a_request_is_decided(client, team, achats, login_as):
    join_request = request_to_join(achats, team["anne"])
    db.session.commit()
    decide_request(join_request, team["olga"], approve=True)
    db.session.commit()
    login_as(team["fanny"])

    page = unescape(client.get("/c/achats").get_data(as_text=True))

    assert "en attente" not in page
    assert "demandes d'adhésion en attente" not in text(client.get("/"))


def test_the_home_page_lists_the_requests_waiting_across_communities(
    client, create_user, create_community, login_as, count_queries
):
    fanny = create_user(display_name="Fanny Roux")

    def community_with_requests(name: str, waiting: int, role: str = "facilitator"):
        community = create_community(name, join_policy="request", members=[(fanny, role)])
        for _ in range(waiting):
            request_to_join(community, create_user())
        db.session.commit()
        return community

    rh = community_with_requests("Réseau RH", 2)
    achats = community_with_requests("Acheteurs publics", 1)
    community_with_requests("Juristes", 4, role="member")  # not hers to decide
    community_with_requests("Numérique", 0)
    login_as(fanny)

    page = client.get("/")

    body = unescape(page.get_data(as_text=True))
    assert '<h2 id="pending-requests-title">3 demandes d\'adhésion en attente</h2>' in body
    assert f'<a href="/c/{rh.slug}/requests">Réseau RH : 2 demandes</a>' in body
    assert f'<a href="/c/{achats.slug}/requests">Acheteurs publics : 1 demande</a>' in body
    assert "Juristes :" not in body
    assert "Numérique :" not in body

    with count_queries() as few:
        client.get("/")
    for number in range(4):
        community_with_requests(f"Encore une {number}", 1)
    with count_queries() as many:
        client.get("/")
    assert len(many) == len(few)


def test_the_home_page_says_nothing_without_waiting_requests(client, team, achats, login_as):
    login_as(team["olga"])
    assert "pending-requests" not in client.get("/").get_data(as_text=True)
