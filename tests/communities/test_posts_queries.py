"""Reads stay a bounded number of SQL queries whatever the amount of content, and comment pages
are walked by keyset."""

from __future__ import annotations

import re

import pytest

from maillage.communities.posts.models import ALLOWED_REACTIONS
from maillage.communities.posts.operations import add_comment, toggle_reaction
from maillage.communities.users.operations import create_user as create_account
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def make_people(create_organisation):
    """People from distinct organisations (no password: hashing is not what is measured)."""
    made = iter(range(1, 10_000))

    def factory(n: int) -> list:
        people = []
        for _ in range(n):
            i = next(made)
            people.append(
                create_account(
                    f"agent{i}",
                    f"Agent {i}",
                    f"agent{i}@example.gouv.fr",
                    organisation=create_organisation(f"Service {i}"),
                )
            )
        db.session.commit()
        return people

    return factory


def discussed_post(create_community, create_post, people: list, owner):
    """A post in its own community, commented and reacted to once by each of ``people``."""
    community = create_community(owner=owner, members=people)
    post = create_post(community, owner)
    for i, person in enumerate(people):
        add_comment(post, person, f"Avis n°{i} de {person.display_name}")
        toggle_reaction(post, person, ALLOWED_REACTIONS[i % len(ALLOWED_REACTIONS)])
    db.session.commit()
    return post


def queries_for(client, count_queries, url: str) -> int:
    db.session.expire_all()
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("signed_in", [True, False])
def test_post_page_queries_do_not_grow_with_comments_and_reactions(
    client,
    login_as,
    count_queries,
    create_user,
    create_community,
    create_post,
    make_people,
    signed_in,
):
    reader = create_user("lecteur")
    few = discussed_post(create_community, create_post, make_people(5), reader)
    many = discussed_post(create_community, create_post, make_people(30), reader)
    if signed_in:
        login_as(reader)
    client.get(f"/post/{few.id}")  # today's visits are recorded once (analytics)
    client.get(f"/post/{many.id}")

    small = queries_for(client, count_queries, f"/post/{few.id}")
    large = queries_for(client, count_queries, f"/post/{many.id}")
    assert small == large
    assert large <= 9  # with the reading recorded for analytics


@pytest.mark.parametrize("signed_in", [True, False])
def test_home_feed_queries_do_not_grow_with_posts(
    app,
    client,
    login_as,
    count_queries,
    create_user,
    create_community,
    create_post,
    make_people,
    signed_in,
):
    reader = create_user("lectrice")
    authors = make_people(app.config["FEED_PAGE_SIZE"])
    communities = [create_community(owner=reader, members=authors) for _ in range(3)]

    def publish(n: int) -> None:
        for i, author in enumerate(authors[:n]):
            post = create_post(communities[i % 3], author, title=f"Publication {i}")
            add_comment(post, reader, "Merci")
            toggle_reaction(post, reader, "👍")
            toggle_reaction(post, author, "🎉")
        db.session.commit()

    if signed_in:
        login_as(reader)
    client.get("/")  # today's visit is recorded once (analytics)
    publish(3)
    small = queries_for(client, count_queries, "/")
    publish(app.config["FEED_PAGE_SIZE"])  # a full page, all different authors and organisations
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="post post-card"') == app.config["FEED_PAGE_SIZE"]
    large = queries_for(client, count_queries, "/")
    assert small == large
    assert large <= 10


def test_comments_are_paged_by_keyset(
    client, monkeypatch, create_user, create_community, create_post
):
    from maillage.communities.posts import views

    monkeypatch.setattr(views, "COMMENTS_PAGE_SIZE", 3)
    author = create_user("bavarde")
    post = create_post(create_community(owner=author), author)
    for i in range(7):
        add_comment(post, author, f"Remarque numéro {i}.")
    db.session.commit()

    seen, url, pages = [], f"/post/{post.id}", 0
    while url:
        page = client.get(url).get_data(as_text=True)
        pages += 1
        seen += re.findall(r"Remarque numéro (\d+)\.", page)
        if pages > 1:
            assert "Premiers commentaires" in page
        found = re.search(r'<a href="([^"]+)" rel="next">Commentaires suivants', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert pages == 3
    assert seen == [str(i) for i in range(7)]  # each once, oldest first
