"""The list of discussions and the thread: order, filters, pages, what each member has not read
yet ("n nouvelles réponses", "tout marquer comme lu"), with a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import re

from maillage.communities.discussions import operations, views
from maillage.communities.discussions.models import DiscussionReadMark, TopicRead
from maillage.platform.extensions import db
from tests.communities.test_discussions_fixtures import *  # noqa: F403 - fixtures
from tests.communities.test_discussions_fixtures import (
    count,
    csrf,
    text_of,
)


def titles(page: str) -> list[str]:
    return re.findall(r'<h2 class="topic-title">\s*<a href="[^"]+">([^<]+)</a>', page)


def item_of(page: str, title: str) -> str:
    """The list item of the topic called ``title``."""
    start = page.index(f">{title}</a>")
    following = page.find('<li class="topic-item', start)
    end = following if following != -1 else page.index("</main>", start)
    return page[page.rindex('<li class="topic-item', 0, start) : end]


def backdate(topic, hours: int) -> None:
    moment = topic.created_at - dt.timedelta(hours=hours)
    topic.created_at = topic.last_activity_at = moment
    db.session.commit()


def test_pinned_first_then_by_last_activity(
    client, login_as, people, community, start_topic, add_reply
):
    old = start_topic(community, people["member"], title="Ancien sujet")
    backdate(old, 48)
    quiet = start_topic(community, people["member"], title="Sujet calme")
    backdate(quiet, 24)
    pinned = start_topic(community, people["member"], title="Charte")
    backdate(pinned, 72)
    operations.set_pinned(pinned, people["moderator"], True)
    db.session.commit()
    add_reply(old, people["other"], "Une relance")  # the old topic becomes the most active

    page = text_of(client.get("/c/achats/discussions"))
    assert titles(page) == ["Charte", "Ancien sujet", "Sujet calme"]
    assert "Épinglée" in item_of(page, "Charte")
    assert "1 réponse" in item_of(page, "Ancien sujet")
    assert "3 discussions" in page


def test_filters_unanswered_and_unread(client, login_as, people, community, start_topic, add_reply):
    answered = start_topic(community, people["member"], title="Résolu")
    reply = add_reply(answered, people["other"])
    operations.set_answer(answered, people["member"], reply)
    db.session.commit()
    start_topic(community, people["other"], title="Ouvert")

    login_as(people["member"])
    everything = text_of(client.get("/c/achats/discussions"))
    assert set(titles(everything)) == {"Résolu", "Ouvert"}
    assert "Résolue" in item_of(everything, "Résolu")
    unanswered = text_of(client.get("/c/achats/discussions?show=unanswered"))
    assert titles(unanswered) == ["Ouvert"]
    assert 'aria-current="page">Sans réponse retenue' in unanswered
    # Marc read his own topic when he opened it and saw Nina's reply? No: it came after.
    unread = text_of(client.get("/c/achats/discussions?show=unread"))
    assert set(titles(unread)) == {"Résolu", "Ouvert"}

    # Anonymous visitors have no unread filter: it reads as "all".
    login_as(None)
    page = text_of(client.get("/c/achats/discussions?show=unread"))
    assert "Non lues" not in page
    assert "Tout marquer comme lu" not in page
    assert set(titles(page)) == {"Résolu", "Ouvert"}
    assert set(titles(text_of(client.get("/c/achats/discussions?show=nimporte")))) == {
        "Résolu",
        "Ouvert",
    }


def test_unread_state_new_replies_count_and_first_unread_link(
    client, login_as, people, community, start_topic, add_reply
):
    topic = start_topic(community, people["other"], title="Marché de nettoyage")
    login_as(people["member"])
    listing = text_of(client.get("/c/achats/discussions"))
    assert "Non lue" in item_of(listing, "Marché de nettoyage")
    assert "topic-unread" in item_of(listing, "Marché de nettoyage")

    client.get(f"/c/achats/discussions/{topic.id}")  # Marc reads it
    listing = text_of(client.get("/c/achats/discussions"))
    assert "Non lue" not in item_of(listing, "Marché de nettoyage")
    assert "topic-unread" not in item_of(listing, "Marché de nettoyage")
    assert titles(text_of(client.get("/c/achats/discussions?show=unread"))) == []
    assert "Vous avez tout lu." in text_of(client.get("/c/achats/discussions?show=unread"))

    first = add_reply(topic, people["other"], "Réponse A")
    add_reply(topic, people["moderator"], "Réponse B")
    listing = text_of(client.get("/c/achats/discussions"))
    item = item_of(listing, "Marché de nettoyage")
    assert "2 nouvelles réponses" in item
    assert "Nouveaux messages" in item
    link = f"/c/achats/discussions/{topic.id}/unread"
    assert f'href="{link}"' in item
    jump = client.get(link)
    assert jump.status_code == 302
    assert jump.headers["Location"] == f"/c/achats/discussions/{topic.id}#reply-{first.id}"

    # Replying reads the topic for the replier.
    client.post(
        f"/c/achats/discussions/{topic.id}/replies",
        data={"csrf_token": csrf(client), "body": "Merci à vous deux"},
    )
    item = item_of(text_of(client.get("/c/achats/discussions")), "Marché de nettoyage")
    assert "nouvelle" not in item


def test_mark_everything_read(client, login_as, people, community, start_topic, add_reply):
    for number in range(3):
        start_topic(community, people["other"], title=f"Sujet {number}")
    login_as(people["member"])
    topic = start_topic(community, people["other"], title="Sujet lu")
    client.get(f"/c/achats/discussions/{topic.id}")
    assert count(TopicRead, TopicRead.user_id == people["member"].id) == 1

    done = client.post("/c/achats/discussions/read-all", data={"csrf_token": csrf(client)})
    assert done.status_code == 303
    page = text_of(client.get(done.headers["Location"]))
    assert "Toutes les discussions sont marquées comme lues." in page
    assert "badge-unread" not in page
    # One mark for the community replaces the per-topic rows.
    assert count(DiscussionReadMark) == 1
    assert count(TopicRead, TopicRead.user_id == people["member"].id) == 0

    # What happens afterwards is new again.
    add_reply(topic, people["other"], "Du nouveau")
    item = item_of(text_of(client.get("/c/achats/discussions")), "Sujet lu")
    assert "1 nouvelle réponse" in item
    assert titles(text_of(client.get("/c/achats/discussions?show=unread"))) == ["Sujet lu"]
    # Marking twice keeps one mark.
    client.post("/c/achats/discussions/read-all", data={"csrf_token": csrf(client)})
    assert count(DiscussionReadMark) == 1


def test_non_members_are_not_tracked(client, login_as, people, community, start_topic):
    topic = start_topic(community, people["member"], title="Public")
    login_as(people["outsider"])
    client.get(f"/c/achats/discussions/{topic.id}")
    assert count(TopicRead, TopicRead.user_id == people["outsider"].id) == 0
    refused = client.post("/c/achats/discussions/read-all", data={"csrf_token": csrf(client)})
    assert refused.status_code == 403


def test_topic_list_pages_and_query_count_do_not_grow_with_topics(
    monkeypatch, client, login_as, people, community, start_topic, add_reply, count_queries
):
    monkeypatch.setattr(views, "TOPICS_PAGE_SIZE", 5)
    login_as(people["member"])
    client.get("/c/achats/discussions")  # warm up (first request loads templates)

    def queries_for_list() -> int:
        with count_queries() as queries:
            assert client.get("/c/achats/discussions").status_code == 200
        return len(queries)

    topic = start_topic(community, people["other"], title="Sujet 0")
    add_reply(topic, people["moderator"])
    few = queries_for_list()
    for number in range(1, 12):
        topic = start_topic(
            community, people[("other", "moderator")[number % 2]], title=f"Sujet {number}"
        )
        add_reply(topic, people["owner"])
        operations.mark_read(topic, people["member"])
        db.session.commit()
        add_reply(topic, people["other"])
    many = queries_for_list()
    assert many == few
    assert many <= 9

    first = text_of(client.get("/c/achats/discussions"))
    assert len(titles(first)) == 5
    assert "Page 1 sur 3" in first
    third = text_of(client.get("/c/achats/discussions?page=3"))
    assert titles(third) == ["Sujet 1", "Sujet 0"]
    assert 'href="/c/achats/discussions?page=2"' in third
    past_the_end = client.get("/c/achats/discussions?page=99")
    assert past_the_end.headers["Location"] == "/c/achats/discussions?page=3"
    unread_pages = text_of(client.get("/c/achats/discussions?show=unread&page=2"))
    assert 'href="/c/achats/discussions?page=1&amp;show=unread"' in unread_pages


def test_thread_pages_and_reading_up_to_the_page_shown(
    monkeypatch, client, login_as, people, community, start_topic, add_reply, count_queries
):
    monkeypatch.setattr(views, "REPLIES_PAGE_SIZE", 3)
    topic = start_topic(community, people["other"], title="Long fil")
    replies = [add_reply(topic, people["other"], f"Réponse numéro {n}") for n in range(7)]
    quoting = add_reply(topic, people["moderator"], "Je cite le début", quoted=replies[0])
    login_as(people["member"])
    client.get(f"/c/achats/discussions/{topic.id}")

    page_one = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    assert "Réponse numéro 2" in page_one
    assert "Réponse numéro 3" not in page_one
    assert "Page 1 sur 3" in page_one
    # Only the first page was read: five replies are still new.
    item = item_of(text_of(client.get("/c/achats/discussions")), "Long fil")
    assert "5 nouvelles réponses" in item
    jump = client.get(f"/c/achats/discussions/{topic.id}/unread")
    assert jump.headers["Location"] == (
        f"/c/achats/discussions/{topic.id}?page=2#reply-{replies[3].id}"
    )

    with count_queries() as queries:
        last = text_of(client.get(f"/c/achats/discussions/{topic.id}?page=3"))
    assert len(queries) <= 14
    assert "Je cite le début" in last
    # The quoted reply is on another page: the link goes through its stable address.
    assert (
        f'href="/c/achats/discussions/{topic.id}/replies/{replies[0].id}">la réponse de Nina Autre'
        in last
    )
    assert (
        client.get(f"/c/achats/discussions/{topic.id}/replies/{quoting.id}").headers["Location"]
        == f"/c/achats/discussions/{topic.id}?page=3#reply-{quoting.id}"
    )
    item = item_of(text_of(client.get("/c/achats/discussions")), "Long fil")
    assert "nouvelle" not in item
    # A page past the end shows the last one.
    assert "Je cite le début" in text_of(client.get(f"/c/achats/discussions/{topic.id}?page=99"))


def test_topic_page_query_count_does_not_grow_with_replies(
    monkeypatch, client, login_as, people, community, start_topic, add_reply, count_queries
):
    monkeypatch.setattr(views, "REPLIES_PAGE_SIZE", 20)
    topic = start_topic(community, people["member"])
    first = add_reply(topic, people["other"], "R0")
    add_reply(topic, people["owner"], "Je cite", quoted=first)
    operations.set_answer(topic, people["member"], first)
    db.session.commit()
    login_as(people["member"])
    client.get(f"/c/achats/discussions/{topic.id}")

    def queries_for_topic() -> int:
        with count_queries() as queries:
            page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
        assert "Réponse retenue" in page
        return len(queries)

    add_reply(topic, people["other"], "Du nouveau")  # each measure also records the reading
    few = queries_for_topic()
    for number in range(12):
        add_reply(
            topic, people[("other", "moderator", "guest")[number % 2]], f"R{number}", quoted=first
        )
    many = queries_for_topic()
    assert many == few
    assert many <= 13  # with the reading recorded for analytics
