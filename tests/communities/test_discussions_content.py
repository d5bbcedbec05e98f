"""What a message may contain: Markdown rendered and sanitised (no script, no ``javascript:``),
``@mentions`` linked only for people who may read the community, quotes; search over topics and
their replies; the demo discussions."""

from __future__ import annotations

import random
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from maillage.communities.discussions import operations
from maillage.communities.discussions.mentions import MAX_MENTIONS
from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
from maillage.communities.search.queries import search
from maillage.platform.extensions import db
from tests.communities.test_discussions_fixtures import *  # noqa: F403 - fixtures
from tests.communities.test_discussions_fixtures import (
    count,
    csrf,
    fresh,
    reasons,
    text_of,
)


class Elements(HTMLParser):
    """Tags and attributes of an HTML fragment, as a browser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def links(self) -> list[dict]:
        return [attrs for tag, attrs in self.tags if tag == "a"]


# -- Markdown ----------------------------------------------------------------------------------

HOSTILE = (
    "[clic](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) "
    "<javascript:alert(2)>\n\n"
    "<script>alert(3)</script>\n\n"
    '<img src="x" onerror="alert(4)">\n\n'
    '<a href="javascript:alert(5)">lien</a>\n\n'
    "[ok](https://www.economie.gouv.fr/daj) ![logo](https://example.org/logo.png)"
)


def test_raw_html_and_javascript_links_are_neutralised(client, login_as, people, community):
    login_as(people["member"])
    client.post(
        "/c/achats/discussions/new",
        data={"csrf_token": csrf(client), "title": "Essai", "body": HOSTILE},
    )
    topic = db.session.scalar(select(DiscussionTopic))
    assert topic.body_source == HOSTILE  # the raw source is kept as written
    elements = Elements(topic.body_html)
    assert {tag for tag, _attrs in elements.tags} <= {"p", "a", "img"}
    hrefs = [attrs.get("href", "") for attrs in elements.links()]
    assert hrefs == ["https://www.economie.gouv.fr/daj"]
    for _tag, attrs in elements.tags:
        assert not any(name.startswith("on") for name in attrs)
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in topic.body_html  # shown as text

    page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    body = page[page.index('<div class="post-body">') : page.index('id="reponses"')]
    assert "<script" not in body
    assert all("javascript" not in link.get("href", "") for link in Elements(body).links())
    assert '<img src="x"' not in body
    assert '&lt;img src="x" onerror="alert(4)"&gt;' in body  # harmless text


# -- mentions ----------------------------------------------------------------------------------


def mention_links(html: str) -> list[str]:
    return [attrs["href"] for attrs in Elements(html).links() if attrs.get("class") == "mention"]


def test_mentions_link_existing_active_readers_only(
    people, community, create_user, start_topic, notifications
):
    sleeper = create_user("dormeur")
    sleeper.is_active = False
    db.session.commit()
    topic = start_topic(
        community,
        people["member"],
        body=(
            "Merci @olga et @Mona ! @inconnu n'existe pas, @dormeur est parti.\n"
            "Écrire à contact@marc.fr ou @marc. `@nina` en code, et :\n\n"
            "    @gaston dans un bloc\n\n"
            "[@oscar](https://example.org) est déjà un lien; (@nina), @nina."
        ),
    )
    assert mention_links(topic.body_html) == ["/u/olga", "/u/mona", "/u/marc", "/u/nina", "/u/nina"]
    assert "<code>@nina</code>" in topic.body_html
    assert "contact@marc.fr" in topic.body_html
    assert "@inconnu" in topic.body_html
    assert "@dormeur" in topic.body_html
    # The author is never notified of their own mention.
    assert reasons(notifications, "mention") == [{"olga", "mona", "nina"}]


def test_mentions_in_a_private_community_skip_people_who_cannot_read_it(
    people, create_community, start_topic, notifications
):
    private = create_community(
        "Juristes",
        slug="juristes",
        visibility="private",
        owner=people["owner"],
        members=[people["member"]],
    )
    topic = start_topic(private, people["member"], body="Pour @olga, pas pour @oscar.")
    assert mention_links(topic.body_html) == ["/u/olga"]
    assert "@oscar" in topic.body_html
    assert reasons(notifications, "mention") == [{"olga"}]


def test_mentions_cannot_inject_markup(people, community, start_topic):
    topic = start_topic(
        community,
        people["member"],
        body=(
            '[lien](https://example.org "titre> @olga <b>") '
            "@olga<script>alert(1)</script> **@olga**"
        ),
    )
    elements = Elements(topic.body_html)
    first = elements.links()[0]
    assert first["href"] == "https://example.org"
    assert first["title"] == "titre> @olga <b>"
    assert mention_links(topic.body_html) == ["/u/olga", "/u/olga"]
    assert "<script" not in topic.body_html
    assert {tag for tag, _ in elements.tags} <= {"p", "a", "strong"}


def test_mentions_are_capped(people, community, create_user, start_topic, notifications):
    names = [create_user(f"agent{number:02d}").username for number in range(MAX_MENTIONS + 5)]
    topic = start_topic(community, people["member"], body=" ".join(f"@{n}" for n in names))
    assert len(mention_links(topic.body_html)) == MAX_MENTIONS
    assert len(reasons(notifications, "mention")[0]) == MAX_MENTIONS


# -- quotes ------------------------------------------------------------------------------------


def test_quote_keeps_the_quoted_text_without_nested_quotes(
    people, community, start_topic, add_reply
):
    topic = start_topic(community, people["member"])
    first = add_reply(topic, people["other"], "Premier point\n\nSecond point")
    second = add_reply(
        topic, people["moderator"], "> Premier point\n\nJe réponds au premier.", quoted=first
    )
    with_name = operations.quote_source(fresh(second))
    assert with_name == "> **Mona Modo** a écrit :\n>\n> Je réponds au premier.\n\n"
    assert "Premier point" not in with_name
    long_reply = add_reply(topic, people["other"], "a" * 5000)
    quoted = operations.quote_source(fresh(long_reply))
    assert len(quoted) < operations.QUOTE_MAX + 100
    assert quoted.rstrip().endswith("…")


def test_quoting_a_deleted_or_foreign_reply_is_refused(people, community, start_topic, add_reply):
    topic = start_topic(community, people["member"])
    other_topic = start_topic(community, people["member"], title="Ailleurs")
    foreign = add_reply(other_topic, people["other"])
    with pytest.raises(operations.OperationError, match="citée"):
        operations.add_reply(topic, people["other"], "Je cite", fresh(foreign))
    db.session.rollback()
    assert count(DiscussionReply, DiscussionReply.topic_id == topic.id) == 0


# -- search ------------------------------------------------------------------------------------


def hits(viewer, words: str) -> list[tuple[str, int]]:
    return [(item.kind, item.obj.id) for item in search(viewer, words).items]


def test_topics_are_found_by_title_body_and_replies(
    client, people, community, create_community, start_topic, add_reply
):
    topic = start_topic(
        community,
        people["member"],
        title="Photocopieuse en panne",
        body="Le contrat de maintenance expire.",
    )
    add_reply(topic, people["other"], "Voyez la clause de réversibilité.")
    assert hits(None, "photocopieuse") == [("topic", topic.id)]
    assert hits(None, "maintenance") == [("topic", topic.id)]
    assert hits(None, "réversibilité") == [("topic", topic.id)]

    page = text_of(client.get("/search?q=réversibilité"))
    assert f'href="/c/achats/discussions/{topic.id}"' in page

    private = create_community(
        "Juristes",
        slug="juristes",
        visibility="private",
        owner=people["owner"],
        members=[people["member"]],
    )
    hidden = start_topic(private, people["member"], title="Jurisprudence confidentielle")
    assert hits(people["outsider"], "jurisprudence") == []
    assert hits(people["member"], "jurisprudence") == [("topic", hidden.id)]

    operations.edit_topic(fresh(topic), people["member"], "Imprimante en panne", "Rien.")
    db.session.commit()
    assert hits(None, "photocopieuse") == []
    assert hits(None, "imprimante") == [("topic", topic.id)]

    operations.delete_topic(fresh(topic), people["moderator"])
    db.session.commit()
    assert hits(None, "imprimante") == []


def test_search_hides_topics_once_the_module_is_off(people, community, start_topic):
    topic = start_topic(community, people["member"], title="Photocopieuse en panne")
    assert hits(None, "photocopieuse") == [("topic", topic.id)]
    community = fresh(community)
    community.disabled_modules = ["discussions"]
    db.session.commit()
    assert hits(people["member"], "photocopieuse") == []


# -- demo --------------------------------------------------------------------------------------


def test_demo_discussions_are_realistic_and_go_through_the_operations(app):
    from maillage.communities import demo
    from maillage.communities.discussions import demo as discussions_demo
    from maillage.communities.organisations.operations import create_organisation

    organisations = {
        key: create_organisation(name, kind, siret)
        for key, (name, kind, siret) in demo.ORGANISATIONS.items()
    }
    people = demo._create_people(organisations)
    themes = demo._create_topics()
    communities = {
        spec[0]: demo._create_community(spec, people, themes) for spec in demo.COMMUNITIES
    }
    discussions_demo.load_demo(people, communities, random.Random(2026))
    db.session.commit()

    topics = db.session.scalars(select(DiscussionTopic)).all()
    assert len(topics) >= 8
    assert len({topic.community_id for topic in topics}) >= 5
    assert sum(topic.answered for topic in topics) >= 4
    assert any(topic.pinned for topic in topics)
    assert any(topic.locked for topic in topics)
    replies = db.session.scalars(select(DiscussionReply)).all()
    assert any(reply.quoted_reply_id for reply in replies)
    assert any('class="mention"' in reply.body_html for reply in replies)
    for topic in topics:
        times = sorted(reply.created_at for reply in replies if reply.topic_id == topic.id)
        assert topic.created_at <= (times[0] if times else topic.created_at)
        assert topic.last_activity_at == (times[-1] if times else topic.created_at)
        assert topic.reply_count == len(times)
