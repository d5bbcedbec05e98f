"""The home portal (feed, announcements, communities, suggestions, welcome for visitors) and the
announcement form."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from maillage.platform.extensions import db
from maillage.platform.portal.models import Announcement

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def feed_titles(page: str) -> list[str]:
    return re.findall(
        r'<h3 id="post-\d+-title" class="post-title">\s*<a href="/post/\d+">([^<]+)</a>', page
    )


def older_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">Plus anciens', page)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def world(create_user, create_community, create_post):
    """A member of one public and one secret community; a public and a private community they
    are not in; a post in each."""
    member, other = create_user("marc"), create_user("olga")
    mine = create_community("Acheteurs publics", slug="acheteurs", owner=other, members=[member])
    secret = create_community(
        "Cellule de crise", visibility="secret", join_policy="invite", owner=other, members=[member]
    )
    elsewhere = create_community("Urbanisme", slug="urbanisme", owner=other)
    private = create_community("Direction", visibility="private", owner=other)
    create_post(mine, other, title="Post des acheteurs")
    create_post(secret, other, title="Post de crise")
    create_post(elsewhere, other, title="Post urbanisme")
    create_post(private, other, title="Post de direction")
    return {"member": member, "mine": mine, "elsewhere": elsewhere}


# -- anonymous visitors ------------------------------------------------------------------------


def test_visitor_sees_a_welcome_public_posts_and_calls_to_action(client, world):
    page = client.get("/").get_data(as_text=True)
    assert page.count("<h1") == 1
    assert "Bienvenue sur Maillage" in page
    assert 'href="/login"' in page
    assert 'href="/signup"' in page
    assert "Les dernières publications des communautés publiques" in page
    assert sorted(feed_titles(page)) == ["Post des acheteurs", "Post urbanisme"]
    assert "Post de crise" not in page
    assert "Post de direction" not in page
    assert "Cellule de crise" not in page  # a secret community is never suggested
    assert "Communautés publiques à découvrir" in page
    assert 'href="/c/urbanisme"' in page


def test_sign_up_call_to_action_follows_configuration(app, client, world):
    app.config["SIGNUP_ENABLED"] = False
    page = client.get("/").get_data(as_text=True)
    assert 'href="/login"' in page
    assert 'class="button button-secondary" href="/signup"' not in page


def test_visitor_empty_state(client):
    page = client.get("/").get_data(as_text=True)
    assert "Aucune communauté publique n'a encore publié." in page
    assert 'class="empty-state"' in page


# -- signed-in members -------------------------------------------------------------------------


def test_member_sees_the_feed_of_their_communities(client, login_as, world):
    login_as(world["member"])
    page = client.get("/").get_data(as_text=True)
    assert page.count("<h1") == 1
    assert "Bonjour Marc" in page
    assert sorted(feed_titles(page)) == ["Post de crise", "Post des acheteurs"]
    assert "Post urbanisme" not in page
    assert "Post de direction" not in page
    mine = page[page.index('id="mine-title"') : page.index("Parcourir l'annuaire")]
    assert "Acheteurs publics" in mine
    assert "Cellule de crise" in mine
    suggestions = page[page.index('id="suggestions-title"') :]
    assert "Urbanisme" in suggestions
    assert "Acheteurs publics" not in suggestions
    assert 'name="emoji"' in page  # members react from the feed
    assert "Bienvenue sur" not in page


def test_member_without_community_is_guided_to_the_directory(client, login_as, create_user):
    login_as(create_user("nouvelle"))
    page = client.get("/").get_data(as_text=True)
    assert "Votre fil rassemblera les publications des communautés que vous rejoignez." in page
    assert re.search(r'<a class="button" href="/communities">Trouver une communauté</a>', page)
    assert "Vous n'avez encore rejoint aucune communauté." in page


def test_member_of_quiet_communities_is_invited_to_start(
    client, login_as, create_user, create_community
):
    member = create_user("calme")
    create_community(owner=member)
    login_as(member)
    page = client.get("/").get_data(as_text=True)
    assert "Personne n'a encore publié dans vos communautés." in page


def test_feed_pages_by_keyset_each_post_once(
    app, client, login_as, create_user, create_community, create_post
):
    size = app.config["FEED_PAGE_SIZE"]
    member = create_user("lectrice")
    communities = [create_community(owner=member) for _ in range(2)]
    total = 2 * size + 5
    for i in range(total):
        create_post(communities[i % 2], member, title=f"Publication {i:03d}")
    login_as(member)

    seen, url, sizes = [], "/", []
    while url:
        page = client.get(url).get_data(as_text=True)
        titles = feed_titles(page)
        sizes.append(len(titles))
        seen += titles
        url = older_link(page)
        if url:
            assert url.startswith("/?after=")
    assert sizes == [size, size, 5]
    assert len(seen) == len(set(seen)) == total
    assert seen == [f"Publication {i:03d}" for i in reversed(range(total))]  # newest first
    last = client.get(f"/?after={older_link(client.get('/').get_data(as_text=True)).split('=')[1]}")
    assert "Revenir aux publications les plus récentes" in last.get_data(as_text=True)


def test_posts_published_at_the_same_instant_are_not_lost_between_pages(
    app, client, create_user, create_community, create_post
):
    from maillage.communities.posts.models import Post

    size = app.config["FEED_PAGE_SIZE"]
    author = create_user("pile")
    community = create_community(owner=author)
    posts = [create_post(community, author, title=f"Simultanée {i:02d}") for i in range(size + 3)]
    instant = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)
    db.session.execute(
        Post.__table__.update().where(Post.id.in_([p.id for p in posts])).values(created_at=instant)
    )
    db.session.commit()
    first = client.get("/").get_data(as_text=True)
    second = client.get(older_link(first)).get_data(as_text=True)
    seen = feed_titles(first) + feed_titles(second)
    assert len(seen) == len(set(seen)) == size + 3
    assert older_link(second) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "nimportequoi",
        "%%%",
        base64.urlsafe_b64encode(b"2026-01-01T00:00:00|5").decode(),  # no time zone
        base64.urlsafe_b64encode(b"pas une date|5").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_bad_cursor_reads_from_the_start(client, world, cursor):
    answer = client.get(f"/?after={cursor}")
    assert answer.status_code == 200
    assert sorted(feed_titles(answer.get_data(as_text=True))) == [
        "Post des acheteurs",
        "Post urbanisme",
    ]


# -- announcements -----------------------------------------------------------------------------


def test_announcements_show_on_everyone_s_home(client, login_as, create_user, world):
    from maillage.platform.portal.operations import publish_announcement

    admin = create_user("root", is_admin=True)
    publish_announcement(admin, "Maintenance samedi", "Coupure de **2 h**.")
    publish_announcement(
        admin, "Ancienne", "Passée", expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    db.session.commit()
    for viewer in (None, world["member"]):
        if viewer:
            login_as(viewer)
        page = client.get("/").get_data(as_text=True)
        assert "Annonces de la plateforme" in page
        assert "Maintenance samedi" in page
        assert "Coupure de <strong>2 h</strong>." in page
        assert "Ancienne" not in page


def test_admin_publishes_an_announcement(client, login_as, create_user):
    login_as(create_user("root", is_admin=True))
    form = client.get("/announcements/new")
    html = form.get_data(as_text=True)
    assert form.status_code == 200
    assert html.count("<h1") == 1
    assert '<label for="title">Titre</label>' in html
    assert '<label for="expires_on">' in html
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).date().isoformat()
    answer = client.post(
        "/announcements/new",
        data={
            "csrf_token": CSRF_RE.search(html).group(1),
            "title": "Nouvelle version",
            "body": "Voir [les notes](https://example.org/notes) <script>alert(1)</script>",
            "expires_on": tomorrow,
        },
    )
    assert answer.status_code == 302
    announcement = db.session.scalar(select(Announcement))
    assert "<script>" not in announcement.body_html
    assert announcement.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    home = client.get("/").get_data(as_text=True)
    assert "annonce est publiée." in home
    assert "Nouvelle version" in home
    assert "Publier une annonce de la plateforme" in home  # the admin's shortcut


def test_announcement_form_refuses_invalid_input(client, login_as, create_user):
    login_as(create_user("root", is_admin=True))
    token = csrf(client)
    answer = client.post(
        "/announcements/new",
        data={"csrf_token": token, "title": "", "body": "x", "expires_on": "2020-01-01"},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Le titre est obligatoire." in html
    assert "Choisissez une date à venir." in html
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


def test_announcement_form_is_for_admins_only(client, login_as, create_user):
    member = create_user("simple")
    login_as(member)
    token = csrf(client)
    assert client.get("/announcements/new").status_code == 403
    assert (
        client.post(
            "/announcements/new", data={"csrf_token": token, "title": "Moi", "body": "Aussi"}
        ).status_code
        == 403
    )
    assert "Publier une annonce de la plateforme" not in client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0
