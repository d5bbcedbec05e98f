"""Who may do what in the training space and with ambassadors, in the one permission policy.

- the training space is for signed-in people: they read published paths and courses, mark
  lessons done, take quizzes and browse the resources library;
- trainers (``user.is_trainer``) run it: they create, edit, reorder and publish paths, courses,
  modules, lessons and quizzes, see drafts, the learners' progress, and manage resources;
- a certificate's PDF is for its holder and trainers; its verification page is public;
- only admins name ambassadors (admins pass every rule, so ``manage_ambassadors`` is False here).
"""

from __future__ import annotations

from maillage.communities.permissions import rule
from maillage.communities.training.models import Certificate, Course, LearningPath


def _trainer(user) -> bool:
    return user is not None and bool(user.is_trainer)


@rule(None, "manage_training", "view_learners", "manage_resources")
def _manage(user, _obj):
    return _trainer(user)


@rule(None, "learn", "view_resources")
def _learn(user, _obj):
    return user is not None


@rule(None, "manage_ambassadors")
def _manage_ambassadors(_user, _obj):
    return False


@rule(LearningPath, "view")
def _view_path(user, path):
    return user is not None and (path.published or _trainer(user))


@rule(Course, "view")
def _view_course(user, course):
    if user is None:
        return False
    return (course.published and course.path.published) or _trainer(user)


@rule(Certificate, "download")
def _download_certificate(user, certificate):
    return user is not None and (certificate.user_id == user.id or _trainer(user))
