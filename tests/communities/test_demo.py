"""The demo data set loads through the real operations and covers what the README promises."""

from sqlalchemy import func, select

from maillage.communities.community.models import Community, JoinRequest, Membership
from maillage.communities.demo import DEMO_PASSWORD, database_is_empty, load_demo
from maillage.communities.posts.models import Post
from maillage.platform.extensions import db


def test_demo_loads_every_visibility_join_policy_and_role(app):
    assert database_is_empty()
    accounts = load_demo()
    assert not database_is_empty()
    assert {"alix", "camille", "karim"} <= {username for username, _ in accounts}
    communities = db.session.scalars(select(Community)).all()
    assert len(communities) >= 20
    assert {c.visibility for c in communities} == {"public", "private", "secret"}
    assert {c.join_policy for c in communities} == {"open", "request", "invite"}
    roles = set(db.session.scalars(select(Membership.role)))
    assert roles == {"owner", "facilitator", "moderator", "member", "guest"}
    assert db.session.scalar(select(func.count()).select_from(JoinRequest)) >= 3
    assert (
        db.session.scalar(
            select(func.count()).select_from(Post).where(Post.body_source.contains("réunion"))
        )
        >= 2
    )
    # member counts kept by operations match the rows
    for community in communities:
        rows = db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.community_id == community.id)
        )
        assert community.member_count == rows
    # the facilitators' promise: moderation history in several communities, learners at
    # different stages of the training path
    from maillage.communities.moderation.models import Report
    from maillage.communities.training.models import Certificate, QuizAttempt

    moderated = db.session.scalars(select(Report.community_id).distinct()).all()
    assert len(moderated) >= 2
    assert {r.status for r in db.session.scalars(select(Report))} >= {
        "open",
        "dismissed",
        "actioned",
    }
    assert db.session.scalar(select(func.count()).select_from(Certificate)) >= 1
    assert db.session.scalar(
        select(func.count()).select_from(QuizAttempt).where(QuizAttempt.passed.is_(False))
    )


def test_demo_accounts_sign_in_with_the_published_password(app):
    from maillage.auth.passwords import verify_password
    from maillage.communities.users.models import User

    load_demo()
    camille = db.session.scalar(select(User).where(User.username == "camille"))
    assert verify_password(camille.password_hash, DEMO_PASSWORD)


def test_demo_command_loads_only_on_an_empty_database(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["maillage", "demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "camille" in first.output
    second = runner.invoke(args=["maillage", "demo", "--if-empty"])
    assert second.exit_code == 0
    assert "déjà" in second.output
    assert "camille" in second.output  # the accounts are listed again for make run
