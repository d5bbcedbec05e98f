"""Learners over HTTP: reading, marking lessons done, quizzes (score, retries, correct answers
after passing), progress bars, the certificate (profile, PDF, public verification), the
facilitators' community and its live sessions, the trainers' view of learners."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from maillage.communities.community.models import Membership
from maillage.communities.events.operations import EventFields
from maillage.communities.training import progress
from maillage.communities.training.models import Certificate, QuizAttempt
from maillage.communities.training.queries import has_facilitator_certificate, path_progress
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.communities.test_training_support import (
    right_answers,
    send,
    text,
    wrong_answers,
)

pytest_plugins = ("tests.communities.test_training_support",)


def _count(model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def test_anonymous_is_sent_to_login(client, built):
    for url in ("/formation", f"/formation/parcours/{built.path.id}", "/formation/ressources"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_learner_follows_the_path_to_the_certificate(client, login_as, roles, built):
    member = roles["member"]
    login_as(member)
    home = client.get("/formation")
    assert home.status_code == 200
    assert "Devenir animateur" in text(home)

    lesson = client.get(f"/formation/lecons/{built.lessons[0].id}")
    assert "<em>tous</em>" in text(lesson)
    for item in built.lessons:
        done = send(client, f"/formation/lecons/{item.id}/terminee", {"done": "1"})
        assert done.status_code == 302
    assert path_progress(built.path, member).done == 2
    assert not has_facilitator_certificate(member)

    page = client.get(f"/formation/parcours/{built.path.id}")
    assert 'max="3" value="2"' in text(page)  # 2 lessons + 1 quiz

    passed = send(client, f"/formation/quiz/{built.quiz.id}", right_answers(built))
    assert passed.status_code == 302
    assert has_facilitator_certificate(member)
    result = client.get(f"/formation/quiz/{built.quiz.id}")
    assert "Quiz réussi" in text(result)
    assert "bonne réponse" in text(result)  # correct answers shown once passed

    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == member.id))
    profile = client.get(f"/u/{member.username}")
    assert "Animateur certifié" in text(profile)
    assert certificate.code in text(profile)

    pdf = client.get(f"/formation/certificats/{certificate.code}/pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_pdf_contains_the_name(app, roles, built):
    from maillage.communities.training.pdf import certificate_pdf

    member = roles["member"]
    certificate = progress.issue_certificate(built.path, member)
    db.session.commit()
    with app.test_request_context():
        data = certificate_pdf(certificate, "Maillage", "https://maillage.test/x")
    assert data.startswith(b"%PDF")
    # fpdf2 compresses page streams by default; decompress them to find the text.
    import zlib

    # A decompressor stops at the end of the compressed data by itself: never strip the stream,
    # whose last compressed bytes may well look like white space.
    streams = [
        zlib.decompressobj().decompress(chunk.split(b"stream\n", 1)[1].split(b"endstream")[0])
        for chunk in data.split(b"/FlateDecode")[1:]
    ]
    assert any(b"Marc Membre" in stream for stream in streams)


def test_verification_page_is_public(client, login_as, roles, built):
    certificate = progress.issue_certificate(built.path, roles["member"])
    db.session.commit()
    page = client.get(f"/formation/certificats/{certificate.code}")
    assert page.status_code == 200
    assert "Certificat authentique" in text(page)
    assert "Marc Membre" in text(page)
    assert client.get("/formation/certificats/NOPE123").status_code == 404
    # the PDF is for its holder, trainers and admins
    login_as(roles["admin"])
    other = roles["trainer"]
    assert client.get(f"/formation/certificats/{certificate.code}/pdf").status_code == 200
    login_as(other)
    assert client.get(f"/formation/certificats/{certificate.code}/pdf").status_code == 200


def test_pdf_refused_to_someone_else(client, login_as, create_user, roles, built):
    certificate = progress.issue_certificate(built.path, roles["member"])
    db.session.commit()
    login_as(create_user())
    assert client.get(f"/formation/certificats/{certificate.code}/pdf").status_code == 403


def test_failed_quiz_then_retry_then_out_of_attempts(client, login_as, roles, built):
    login_as(roles["member"])
    url = f"/formation/quiz/{built.quiz.id}"
    first = send(client, url, wrong_answers(built))
    assert first.status_code == 302
    page = client.get(url)
    assert "Tentative 1 : 0 %" in text(page)
    assert "il vous reste 1 tentative" in text(page)
    assert "bonne réponse" not in text(page)  # not before passing
    send(client, url, wrong_answers(built))
    third = send(client, url, right_answers(built))
    assert third.status_code == 409
    assert "Vous avez utilisé vos 2 tentatives" in text(third)
    assert _count(QuizAttempt) == 2
    assert not has_facilitator_certificate(roles["member"])


def test_half_right_scores_fifty_and_passes_at_fifty(client, login_as, roles, built):
    login_as(roles["member"])
    answers = right_answers(built)
    answers[f"q{built.multiple.id}"] = answers[f"q{built.multiple.id}"][:1]  # incomplete
    send(client, f"/formation/quiz/{built.quiz.id}", answers)
    attempt = db.session.scalar(select(QuizAttempt))
    assert (attempt.score, attempt.passed) == (50, True)
    again = send(client, f"/formation/quiz/{built.quiz.id}", right_answers(built))
    assert again.status_code == 409
    assert "déjà réussi" in text(again)


def test_quiz_bad_answers_are_refused(client, login_as, roles, built):
    login_as(roles["member"])
    url = f"/formation/quiz/{built.quiz.id}"
    unanswered = send(client, url, {f"q{built.single.id}": [built.single.choices[0].id]})
    assert unanswered.status_code == 422
    assert "Répondez à toutes les questions" in text(unanswered)
    answers = right_answers(built)
    answers[f"q{built.single.id}"] = [c.id for c in built.single.choices]
    two_for_single = send(client, url, answers)
    assert two_for_single.status_code == 422
    assert "une seule réponse" in text(two_for_single)
    answers = right_answers(built)
    answers[f"q{built.single.id}"] = [built.multiple.choices[0].id]
    foreign = send(client, url, answers)
    assert foreign.status_code == 422
    assert _count(QuizAttempt) == 0


def test_drafts_are_hidden_from_learners(client, login_as, roles, built):
    from maillage.communities.training import operations as ops

    ops.set_published(built.path, roles["trainer"], False)
    db.session.commit()
    login_as(roles["member"])
    assert "Devenir animateur" not in text(client.get("/formation"))
    assert client.get(f"/formation/parcours/{built.path.id}").status_code == 404
    assert client.get(f"/formation/lecons/{built.lessons[0].id}").status_code == 404
    assert client.get(f"/formation/quiz/{built.quiz.id}").status_code == 404
    marked = send(client, f"/formation/lecons/{built.lessons[0].id}/terminee")
    assert marked.status_code == 404
    login_as(roles["trainer"])
    assert client.get(f"/formation/parcours/{built.path.id}").status_code == 200


def test_unmark_lesson(client, login_as, roles, built):
    login_as(roles["member"])
    url = f"/formation/lecons/{built.lessons[0].id}/terminee"
    send(client, url, {"done": "1"})
    send(client, url, {"done": "1"})  # idempotent
    assert path_progress(built.path, roles["member"]).done == 1
    send(client, url, {"done": "0"})
    assert path_progress(built.path, roles["member"]).done == 0


def test_learners_view_per_role(client, login_as, roles, built):
    progress.mark_lesson_done(built.lessons[0], roles["member"])
    db.session.commit()
    assert client.get("/formation/apprenants").status_code == 302
    login_as(roles["member"])
    assert client.get("/formation/apprenants").status_code == 403
    for role in ("trainer", "admin"):
        login_as(roles[role])
        page = client.get("/formation/apprenants")
        assert page.status_code == 200
        assert "Marc Membre" in text(page)
        assert "33 %" in text(page)


def test_certificate_brings_into_the_facilitators_community(app, roles, built):
    member = roles["member"]
    progress.issue_certificate(built.path, member)
    db.session.commit()
    community = progress.facilitators_community()
    assert community.name == "Communauté des animateurs"
    assert community.visibility == "private"
    members = dict(
        db.session.execute(
            select(Membership.user_id, Membership.role).where(
                Membership.community_id == community.id
            )
        ).all()
    )
    assert members[member.id] == "member"
    assert members[roles["trainer"].id] == "facilitator"
    # idempotent
    assert progress.ensure_facilitators_community().id == community.id
    assert _count(Membership, Membership.community_id == community.id) == len(members)


def test_live_sessions_listed_on_home(client, login_as, roles, built):
    start = utcnow() + dt.timedelta(days=3)
    progress.schedule_live_session(
        roles["trainer"],
        EventFields(
            "Session en direct : animer un webinaire", start, start + dt.timedelta(hours=1)
        ),
    )
    db.session.commit()
    login_as(roles["member"])
    assert "Session en direct : animer un webinaire" in text(client.get("/formation"))


def test_trainer_creates_community_from_home(client, login_as, roles):
    login_as(roles["member"])
    assert send(client, "/formation/communaute").status_code == 403
    login_as(roles["trainer"])
    response = send(client, "/formation/communaute")
    assert response.status_code == 302
    assert progress.facilitators_community() is not None


def test_setting_state_shown_to_admins(app, client, login_as, roles):
    login_as(roles["admin"])
    assert "n'est pas exigé" in text(client.get("/formation"))
    app.config["TRAINING_REQUIRED_FOR_FACILITATOR"] = True
    assert "est exigé pour être nommé" in text(client.get("/formation"))
    login_as(roles["member"])
    assert "training-setting" not in text(client.get("/formation"))
