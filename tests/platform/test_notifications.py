"""Notifications in the app: who is told (permissions, preferences), the bell, the page, marking
read, following a notice, and the preferences form."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import g
from sqlalchemy import func, select

from maillage.communities import signals
from maillage.communities.community import operations as community_ops
from maillage.communities.permissions import RULES
from maillage.communities.posts import operations as post_ops
from maillage.platform.extensions import db
from maillage.platform.notifications.models import Notification, NotificationPreference
from maillage.platform.notifications.operations import notify

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = {"HX-Request": "true"}


def csrf(client, page="/") -> str:
    return CSRF_RE.search(client.get(page).get_data(as_text=True)).group(1)


def notices(user=None, **criteria) -> list[Notification]:
    statement = select(Notification).order_by(Notification.id)
    if user is not None:
        statement = statement.where(Notification.recipient_id == user.id)
    return list(db.session.scalars(statement.filter_by(**criteria)))


def recipients_of(obj) -> set[str]:
    rows = db.session.scalars(
        select(Notification).where(
            Notification.object_type == type(obj).__name__, Notification.object_id == obj.id
        )
    )
    return {row.recipient.username for row in rows}


@pytest.fixture
def people(create_user):
    return {
        "olga": create_user("olga", display_name="Olga Martin"),
        "marc": create_user("marc", display_name="Marc Durand"),
        "emma": create_user("emma", display_name="Emma Smith", locale="en"),
        "oscar": create_user("oscar", display_name="Oscar Dehors"),
    }


@pytest.fixture
def achats(create_community, people):
    return create_community(
        "Achats publics",
        slug="achats",
        owner=people["olga"],
        members=[people["marc"], people["emma"]],
    )


def post_through_the_form(client, login_as, author, slug="achats", title="Marché de nettoyage"):
    login_as(author)
    response = client.post(
        f"/c/{slug}/posts",
        data={"csrf_token": csrf(client), "title": title, "body": "Qui a déjà fait ?"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[-1])


# -- who is told -------------------------------------------------------------------------------


def test_new_post_notifies_the_members_but_not_the_author_nor_outsiders(
    client, login_as, people, achats
):
    post_id = post_through_the_form(client, login_as, people["olga"])
    rows = notices()
    assert {row.recipient.username for row in rows} == {"marc", "emma"}
    row = rows[0]
    assert (row.reason, row.object_type, row.object_id) == ("new_content", "Post", post_id)
    assert (row.title, row.url, row.actor_id) == (
        "Marché de nettoyage",
        f"/post/{post_id}",
        people["olga"].id,
    )
    assert row.community_id == achats.id
    assert row.read_at is None


def test_a_comment_tells_the_author_and_earlier_commenters_only(
    client, login_as, people, achats, create_user
):
    quiet = create_user("quiet")
    community_ops.add_membership(achats, quiet, "member")
    post = post_ops.create_post(achats, people["olga"], "Sourcing", "Texte")
    post_ops.add_comment(post, people["marc"], "Premier")
    db.session.commit()
    login_as(people["emma"])
    response = client.post(
        f"/post/{post.id}/comments", data={"csrf_token": csrf(client), "body": "Deuxième"}
    )
    assert response.status_code == 302
    comment_id = int(response.headers["Location"].rsplit("comment-", 1)[-1])
    replies = notices(reason="reply", object_id=comment_id)
    assert {row.recipient.username for row in replies} == {"olga", "marc"}
    assert replies[0].url == f"/post/{post.id}#comment-{comment_id}"
    assert replies[0].object_type == "Comment"  # no "view" rule: reading the community counts


def test_a_member_who_left_a_private_community_hears_nothing_more(people, create_community):
    olga, marc, emma = people["olga"], people["marc"], people["emma"]
    private = create_community("Cellule", owner=olga, visibility="private", members=[marc, emma])
    post = post_ops.create_post(private, olga, "Avant", "Texte")
    post_ops.add_comment(post, marc, "J'étais là")
    db.session.commit()
    assert notices(marc)  # told while a member

    community_ops.leave(private, marc)
    db.session.commit()
    assert notices(marc) == []  # what he can no longer read is gone from his list

    post_ops.add_comment(post, emma, "Après son départ")
    post_ops.create_post(private, olga, "Nouvelle", "Texte")
    db.session.commit()
    assert notices(marc) == []
    assert {row.reason for row in notices(olga)} == {"reply"}


def test_a_secret_community_outsider_and_the_actor_are_dropped_even_when_named(
    people, create_community
):
    olga, marc, oscar = people["olga"], people["marc"], people["oscar"]
    secret = create_community("Crise", owner=olga, visibility="secret", members=[marc])
    post = post_ops.create_post(secret, olga, "Astreinte", "Texte")
    signals.notification_requested.send(
        post,
        community=secret,
        actor=olga,
        reason="mention",
        url=f"/post/{post.id}",
        title="Astreinte",
        recipients=[oscar, olga, marc, marc],
    )
    db.session.commit()
    assert [row.recipient.username for row in notices(reason="mention")] == ["marc"]


class Confidential:
    """A content type whose own rule hides it from some members."""

    def __init__(self, id_):
        self.id = id_


def test_the_objects_own_view_rule_is_checked(monkeypatch, people, achats):
    monkeypatch.setitem(RULES, (Confidential, "view"), lambda user, _obj: user.username == "emma")
    sent = notify(
        Confidential(7),
        community=achats,
        actor=people["olga"],
        reason="new_content",
        url="/c/achats",
        title="Note",
    )
    db.session.commit()
    assert sent == [people["emma"].id]
    assert recipients_of(Confidential(7)) == {"emma"}


def test_the_same_notice_is_stored_once_and_refreshed_while_unread(people, achats):
    post = post_ops.create_post(achats, people["olga"], "Unique", "Texte")
    again = notify(
        post,
        community=achats,
        actor=people["olga"],
        reason="new_content",
        url=f"/post/{post.id}",
        title="Unique",
    )
    db.session.commit()
    assert again == []  # already written in this transaction
    assert len(notices(people["marc"])) == 1

    later = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    notify(
        post,
        community=achats,
        actor=people["olga"],
        reason="new_content",
        url=f"/post/{post.id}",
        title="Unique (modifiée)",
        now=later,
    )
    db.session.commit()
    (row,) = notices(people["marc"])
    assert (row.title, row.created_at) == ("Unique (modifiée)", later)

    row.read_at = later
    db.session.commit()
    notify(post, community=achats, actor=people["olga"], reason="new_content", url="/", title="3")
    db.session.commit()
    assert len(notices(people["marc"])) == 2  # once read, a new event is a new notice


def test_urls_that_leave_the_site_are_never_stored(people, achats):
    post = post_ops.create_post(achats, people["olga"], "Lien", "Texte")
    for reason, url in [("mention", "https://evil.example/x"), ("event", "//evil.example")]:
        notify(post, community=achats, actor=None, reason=reason, url=url, title="x")
    db.session.commit()
    assert {row.url for row in notices(people["marc"]) if row.reason != "new_content"} == {
        "/c/achats"
    }


def test_deleting_a_post_removes_its_notices(people, achats):
    post = post_ops.create_post(achats, people["olga"], "Éphémère", "Texte")
    post_ops.add_comment(post, people["marc"], "Vu")
    db.session.commit()
    assert notices()
    post_ops.delete_post(post, people["olga"])
    db.session.commit()
    assert notices() == []


def test_telling_a_whole_community_costs_the_same_queries_for_5_or_60_members(
    people, create_user, create_community, count_queries
):
    def community_of(size):
        members = [create_user() for _ in range(size)]
        for member in members[::3]:
            db.session.add(NotificationPreference(user_id=member.id, mode="weekly"))
        db.session.commit()
        return create_community(owner=people["olga"], members=members)

    def queries_to_post(community):
        g.pop("_maillage_roles", None)  # as in a new request
        with count_queries() as queries:
            post_ops.create_post(community, people["olga"], "Pour tous", "Texte")
        db.session.commit()
        return len(queries)

    small, large = community_of(5), community_of(60)
    assert queries_to_post(small) == queries_to_post(large)
    assert len(notices(reason="new_content")) == 65


# -- preferences decide who hears about new content --------------------------------------------


def test_off_silences_new_content_but_not_replies(client, login_as, people, achats):
    db.session.add(
        NotificationPreference(user_id=people["marc"].id, community_id=achats.id, mode="off")
    )
    db.session.commit()
    post = post_ops.create_post(achats, people["marc"], "De Marc", "Texte")
    db.session.commit()
    post_through_the_form(client, login_as, people["olga"], title="Pour tous")
    assert [row.reason for row in notices(people["marc"])] == []
    post_ops.add_comment(post, people["olga"], "Réponse")
    db.session.commit()
    assert [row.reason for row in notices(people["marc"])] == ["reply"]
    assert notices(people["marc"])[0].emailed_at is None  # off: no e-mail either


# -- the bell ----------------------------------------------------------------------------------


def bell(html: str) -> str:
    match = re.search(r'<a id="notification-bell".*?</a>', html, re.S)
    assert match, "no bell in the header"
    return " ".join(match.group(0).split())


def test_the_bell_shows_the_unread_count_with_one_query(
    client, login_as, people, achats, count_queries
):
    for title in ("Un", "Deux"):
        post_ops.create_post(achats, people["olga"], title, "Texte")
    db.session.commit()
    login_as(people["marc"])
    with count_queries() as queries:
        html = client.get("/").get_data(as_text=True)
    assert '<span class="badge" aria-hidden="true">2</span>' in bell(html)
    assert "(2 non lues)" in bell(html)
    assert len([q for q in queries if "FROM notifications" in q]) == 1

    login_as(people["olga"])
    assert "badge" not in bell(client.get("/").get_data(as_text=True))
    login_as(None)
    assert 'id="notification-bell"' not in client.get("/").get_data(as_text=True)


def test_the_bell_stops_counting_at_99(people, achats, client, login_as):
    for number in range(101):
        notify(
            _Thing(number + 1),
            community=achats,
            actor=people["olga"],
            reason="mention",
            url="/c/achats",
            title=f"n°{number}",
            recipients=[people["marc"]],
        )
    db.session.commit()
    login_as(people["marc"])
    html = bell(client.get("/").get_data(as_text=True))
    assert '<span class="badge" aria-hidden="true">99+</span>' in html
    assert "plus de 99 non lues" in html


class _Thing:
    """Any object with an id: no rule, so reading the community decides."""

    def __init__(self, id_):
        self.id = id_


# -- the page ----------------------------------------------------------------------------------


def test_the_page_lists_notices_and_marks_them_read(client, login_as, people, achats):
    first = post_ops.create_post(achats, people["olga"], "Premier marché", "Texte")
    second = post_ops.create_post(achats, people["olga"], "Second marché", "Texte")
    db.session.commit()
    login_as(people["marc"])
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("Second marché") < page.index("Premier marché")  # newest first
    assert "Achats publics" in page
    assert "par Olga Martin" in page
    assert page.count("Non lue") == 2

    one, two = notices(people["marc"])
    token = CSRF_RE.search(page).group(1)
    response = client.post(f"/notifications/{one.id}/read", data={"csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (302, "/notifications")
    assert notices(people["marc"])[0].read_at is not None
    assert notices(people["marc"])[1].read_at is None

    fragment = client.post(
        f"/notifications/{two.id}/read", data={"csrf_token": token}, headers=HTMX
    ).get_data(as_text=True)
    assert f'id="notification-{two.id}"' in fragment
    assert "Non lue" not in fragment.split('id="notification-bell"')[0]
    assert 'hx-swap-oob="true"' in bell(fragment)
    assert "badge" not in bell(fragment)
    assert all(row.read_at for row in notices(people["marc"]))
    assert first.id != second.id


def test_mark_all_read_with_and_without_htmx(client, login_as, people, achats):
    for title in ("A", "B", "C"):
        post_ops.create_post(achats, people["olga"], title, "Texte")
    db.session.commit()
    login_as(people["marc"])
    token = csrf(client, "/notifications")
    response = client.post("/notifications/read-all", data={"csrf_token": token})
    assert response.status_code == 302
    assert all(row.read_at for row in notices(people["marc"]))

    login_as(people["emma"])
    token = csrf(client, "/notifications")
    fragment = client.post(
        "/notifications/read-all", data={"csrf_token": token}, headers=HTMX
    ).get_data(as_text=True)
    # Emma reads English.
    assert "Unread" not in fragment
    assert "Mark all as read" not in fragment
    assert "All your notifications have been marked as read." in fragment
    assert all(row.read_at for row in notices(people["emma"]))


def test_following_a_notice_marks_it_read_and_goes_to_its_page(client, login_as, people, achats):
    post = post_ops.create_post(achats, people["olga"], "À lire", "Texte")
    db.session.commit()
    (row,) = notices(people["marc"])
    login_as(people["emma"])
    assert client.get(f"/notifications/{row.id}").status_code == 404  # someone else's
    login_as(people["marc"])
    response = client.get(f"/notifications/{row.id}")
    assert (response.status_code, response.headers["Location"]) == (302, f"/post/{post.id}")
    assert notices(people["marc"])[0].read_at is not None


def test_a_tampered_url_in_the_database_is_not_followed(client, login_as, people, achats):
    post_ops.create_post(achats, people["olga"], "Piège", "Texte")
    db.session.commit()
    (row,) = notices(people["marc"])
    row.url = "//evil.example/phish"
    db.session.commit()
    login_as(people["marc"])
    response = client.get(f"/notifications/{row.id}")
    assert response.headers["Location"] == "/notifications"


def test_the_page_is_paginated_newest_first(client, login_as, people, achats):
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    for number in range(35):
        notify(
            _Thing(number + 1),
            community=achats,
            actor=people["olga"],
            reason="mention",
            url="/c/achats",
            title=f"Avis numéro {number:02d}",
            recipients=[people["marc"]],
            now=start + dt.timedelta(minutes=number),
        )
    db.session.commit()
    login_as(people["marc"])
    first = client.get("/notifications").get_data(as_text=True)
    assert first.count('class="notification ') == 30
    assert "Avis numéro 34" in first
    assert "Avis numéro 04" not in first
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert second.count('class="notification ') == 5
    assert "Avis numéro 04" in second
    assert "Avis numéro 05" not in second
    assert client.get("/notifications?after=n'importe-quoi").status_code == 200


def test_the_page_costs_the_same_queries_for_3_or_25_notices(
    client, login_as, people, create_user, create_community, count_queries
):
    marc = people["marc"]

    def make(count):
        for number in range(count):
            actor = create_user()
            community = create_community(owner=actor, members=[marc])
            notify(
                _Thing(number + 1000 * count),
                community=community,
                actor=actor,
                reason="mention",
                url="/",
                title=f"N{number}",
                recipients=[marc],
            )
        db.session.commit()

    login_as(marc)
    client.get("/")  # today's visits are recorded once (analytics)
    make(3)
    with count_queries() as few:
        assert client.get("/notifications").status_code == 200
    make(22)
    with count_queries() as many:
        page = client.get("/notifications").get_data(as_text=True)
    assert page.count('class="notification ') == 25
    assert len(many) == len(few)


def test_the_pages_need_a_signed_in_person(client):
    assert client.get("/notifications").status_code == 302
    assert client.get("/notifications/preferences").status_code == 302


# -- the preferences page ----------------------------------------------------------------------


def test_preferences_page_saves_a_default_and_a_mode_per_community(
    client, login_as, people, achats, create_community
):
    other = create_community(
        "Numérique responsable", owner=people["olga"], members=[people["marc"]]
    )
    login_as(people["marc"])
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Achats publics" in page
    assert "Numérique responsable" in page
    assert f'id="community_{achats.id}"' in page
    assert '<option selected value="daily">' in page  # the instance's default

    response = client.post(
        "/notifications/preferences",
        data={
            "csrf_token": CSRF_RE.search(page).group(1),
            "default_mode": "weekly",
            f"community_{achats.id}": "immediate",
            f"community_{other.id}": "",
        },
    )
    assert response.status_code == 303
    rows = {
        row.community_id: row.mode
        for row in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id == people["marc"].id
            )
        )
    }
    assert rows == {None: "weekly", achats.id: "immediate"}
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "sont enregistrées" in page
    assert '<option selected value="weekly">' in page


def test_preferences_refuse_an_unknown_mode_in_french_and_store_nothing(
    client, login_as, people, achats
):
    login_as(people["marc"])
    token = csrf(client, "/notifications/preferences")
    response = client.post(
        "/notifications/preferences",
        data={"csrf_token": token, "default_mode": "hourly", f"community_{achats.id}": "off"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'role="alert"' in html
    assert "Choisissez l&#39;une des options proposées." in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 0


def test_names_and_titles_are_escaped_on_the_page(client, login_as, create_user, create_community):
    actor = create_user("mallory", display_name="<i>Mallory</i>")
    reader = create_user("reader")
    community = create_community("<b>Club</b>", owner=actor, members=[reader])
    post_ops.create_post(community, actor, "<script>alert(1)</script>", "Texte")
    db.session.commit()
    login_as(reader)
    page = client.get("/notifications").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Club&lt;/b&gt; · par &lt;i&gt;Mallory&lt;/i&gt;" in page
