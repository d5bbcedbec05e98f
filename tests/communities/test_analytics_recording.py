"""The activity log is filled by the domain's signals and by page views and visits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from maillage.communities.analytics.models import ActivityEvent
from maillage.communities.analytics.visits import SESSION_KEY
from maillage.platform.extensions import db


def events(**criteria) -> list[ActivityEvent]:
    statement = select(ActivityEvent).order_by(ActivityEvent.id)
    for name, value in criteria.items():
        statement = statement.where(getattr(ActivityEvent, name) == value)
    return list(db.session.scalars(statement))


def test_contributions_joins_and_leaves_are_logged(app, create_user, create_community, create_post):
    from maillage.communities.community.operations import join, leave
    from maillage.communities.discussions.operations import add_reply, create_topic
    from maillage.communities.posts.models import ALLOWED_REACTIONS
    from maillage.communities.posts.operations import add_comment, toggle_reaction

    owner, newcomer = create_user(), create_user()
    community = create_community(owner=owner)
    post = create_post(community, owner)
    join(community, newcomer)
    add_comment(post, newcomer, "Merci !")
    toggle_reaction(post, newcomer, next(iter(ALLOWED_REACTIONS)))
    topic = create_topic(community, owner, "Une question", "Laquelle ?")
    add_reply(topic, newcomer, "Celle-ci.")
    leave(community, newcomer)
    db.session.commit()
    logged = [(e.kind, e.user_id, e.object_type) for e in events(community_id=community.id)]
    assert ("post", owner.id, "post") in logged
    assert ("join", newcomer.id, None) in logged
    assert ("comment", newcomer.id, "comment") in logged
    assert ("reaction", newcomer.id, "post") in logged
    assert ("topic", owner.id, "topic") in logged
    assert ("reply", newcomer.id, "reply") in logged
    assert ("leave", newcomer.id, None) in logged
    post_event = events(kind="post", community_id=community.id)[0]
    assert post_event.object_id == post.id


def test_a_rolled_back_contribution_leaves_no_event(app, create_user, create_community):
    from maillage.communities.posts.operations import create_post

    owner = create_user()
    community = create_community(owner=owner)
    create_post(community, owner, "Brouillon", "Texte")
    db.session.rollback()
    assert events(kind="post", community_id=community.id) == []


def test_page_views_are_logged(app, client, login_as, create_user, create_community, create_post):
    owner, reader = create_user(), create_user()
    community = create_community(owner=owner, members=[reader])
    post = create_post(community, owner)
    assert client.get(f"/post/{post.id}").status_code == 200  # anonymous reader
    login_as(reader)
    assert client.get(f"/post/{post.id}").status_code == 200
    views = events(kind="view", object_id=post.id)
    assert [(e.user_id, e.community_id, e.object_type) for e in views] == [
        (None, community.id, "post"),
        (reader.id, community.id, "post"),
    ]
    assert client.get("/post/999999").status_code == 404
    assert len(events(kind="view")) == 2


def test_topic_event_document_and_wiki_views_are_logged(
    app, client, login_as, create_user, create_community
):
    from maillage.communities.discussions.operations import create_topic
    from maillage.communities.events.operations import EventFields, create_event
    from maillage.communities.wiki.operations import create_page

    owner = create_user()
    community = create_community(owner=owner)
    topic = create_topic(community, owner, "Un sujet", "Texte")
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    event = create_event(
        community,
        owner,
        EventFields(title="Réunion", starts_at=starts, ends_at=starts + dt.timedelta(hours=1)),
    )
    page = create_page(community, owner, "Accueil du wiki", "Texte")
    db.session.commit()
    login_as(owner)
    for url in (
        f"/c/{community.slug}/discussions/{topic.id}",
        f"/c/{community.slug}/events/{event.id}",
        f"/c/{community.slug}/wiki/{page.slug}",
    ):
        assert client.get(url).status_code == 200, url
    kinds = {e.object_type for e in events(kind="view", community_id=community.id)}
    assert kinds == {"topic", "event", "wiki_page"}


def test_one_visit_per_day_without_a_write_per_request(
    app, client, login_as, create_user, create_community, count_queries
):
    member = create_user()
    community = create_community(members=[member])
    login_as(member)
    assert client.get("/").status_code == 200
    assert client.get(f"/c/{community.slug}").status_code == 200
    assert client.get(f"/c/{community.slug}").status_code == 200
    assert client.get("/").status_code == 200
    visits = events(kind="visit", user_id=member.id)
    assert sorted((e.community_id or 0) for e in visits) == sorted([0, community.id])
    db.session.refresh(member)
    assert member.last_seen_at is not None
    with count_queries() as statements:
        client.get(f"/c/{community.slug}")
    assert not [s for s in statements if "activity_events" in s.lower()]
    with client.session_transaction() as session:
        assert community.slug in session[SESSION_KEY]["keys"]


def test_a_new_session_the_same_day_does_not_duplicate_the_visit(
    app, client, login_as, create_user
):
    member = create_user()
    login_as(member)
    client.get("/")
    login_as(member)  # a fresh session: the cookie forgot, the log has it
    client.get("/")
    assert len(events(kind="visit", user_id=member.id)) == 1


def test_anonymous_and_failed_requests_are_not_visits(app, client, create_user):
    client.get("/")
    client.get("/c/does-not-exist")
    assert events(kind="visit") == []


def test_demo_backfills_a_rising_year_of_activity(app, create_user, create_community, create_post):
    import random

    from maillage.communities.analytics import demo
    from maillage.communities.analytics.periods import MONTH
    from maillage.communities.analytics.reports import trend

    owner = create_user()
    community = create_community(owner=owner, members=[create_user() for _ in range(12)])
    create_post(community, owner)
    demo.load_demo({}, {community.slug: community}, random.Random(1))
    db.session.commit()
    rows = events(community_id=community.id)
    assert 100 < len(rows) <= demo.MAX_ROWS
    assert {"visit", "view"} <= {row.kind for row in rows}
    months = trend(community, MONTH, 12)
    assert sum(p.active_members for p in months[-4:]) > sum(p.active_members for p in months[:4])


def test_recording_a_visit_commits_nothing_the_view_left_uncommitted(
    app, client, login_as, create_user
):
    """The visit is committed after the view: a change the view flushed but did not commit (a
    GET that changed something, then gave up) must not ride along with it."""
    from maillage.communities.organisations.models import Organisation
    from maillage.communities.organisations.operations import create_organisation

    @app.route("/flushes-only")
    def flushes_only():
        create_organisation("Jamais enregistrée", "state_service")
        db.session.flush()
        return "ok"

    login_as(create_user("sacha"))
    assert client.get("/flushes-only").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(ActivityEvent.id).where(ActivityEvent.kind == "visit"))
    names = db.session.scalars(select(Organisation.name))
    assert "Jamais enregistrée" not in list(names)
