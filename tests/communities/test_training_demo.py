"""The demo has a training path with learners at different stages, resources, a live session
and ambassadors in several organisations."""

from __future__ import annotations

from sqlalchemy import func, select

from maillage.communities.demo import load_demo
from maillage.communities.training import progress, queries
from maillage.communities.training.models import Certificate, LearningPath, QuizAttempt, Resource
from maillage.communities.users.models import User
from maillage.platform.extensions import db


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def test_demo_training_space(app):
    load_demo()
    path = db.session.scalar(select(LearningPath))
    assert path.published
    assert path.grants_certificate
    assert len(path.courses) == 2
    stages = {
        name: queries.path_progress(path, _user(name)) for name in ("thomas", "julien", "claire")
    }
    assert stages["thomas"].done == 0
    assert 0 < stages["julien"].done < stages["julien"].total
    assert stages["claire"].complete
    assert queries.has_facilitator_certificate(_user("claire"))
    assert not queries.has_facilitator_certificate(_user("julien"))
    nadia = _user("nadia")
    failed = (
        select(func.count())
        .select_from(QuizAttempt)
        .where(QuizAttempt.user_id == nadia.id, ~QuizAttempt.passed)
    )
    assert db.session.scalar(failed) == 1
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    assert db.session.scalar(select(func.count()).select_from(Resource)) >= 3
    assert _user("emma").is_trainer
    assert len(queries.upcoming_sessions(progress.facilitators_community())) == 1
    groups = queries.ambassadors_by_organisation()
    assert len(groups) >= 3
