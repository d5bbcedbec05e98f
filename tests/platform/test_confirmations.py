"""Destructive actions ask first: a POST without ``confirmed`` changes nothing and answers a page
stating the question with a form that re-posts ``confirmed=1``; that second POST acts.

Each case builds its data, names the person who acts, the address, the question shown and a
check that says whether the action happened.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from html import unescape

import pytest
from sqlalchemy import select

from maillage.platform.db import utcnow
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Case:
    actor: object
    url: str
    question: str
    done: object  # () -> bool
    data: dict = field(default_factory=dict)


def _gone(obj):
    """A check that ``obj`` no longer exists (its id read now, before any deletion)."""
    model, obj_id = type(obj), obj.id

    def check() -> bool:
        db.session.expire_all()
        return db.session.get(model, obj_id) is None

    return check


def _member_gone(community, user) -> bool:
    from maillage.communities.community.operations import membership_of

    db.session.expire_all()
    return membership_of(community, user) is None


# -- the cases ---------------------------------------------------------------------------------


def remove_member(f):
    owner, anne = f.create_user(), f.create_user(display_name="Anne Martin")
    community = f.create_community("Acheteurs publics", owner=owner, members=[anne])
    return Case(
        owner,
        f"/c/{community.slug}/members/{anne.id}/remove",
        "Retirer Anne Martin de la communauté « Acheteurs publics » ?",
        lambda: _member_gone(community, anne),
    )


def leave(f):
    anne = f.create_user()
    community = f.create_community("Réseau RH", members=[anne])
    return Case(
        anne,
        f"/c/{community.slug}/leave",
        "Quitter la communauté « Réseau RH » ?",
        lambda: _member_gone(community, anne),
    )


def revoke_invitation(f):
    from maillage.communities.community.models import Invitation
    from maillage.communities.community.operations import invite

    owner = f.create_user()
    community = f.create_community(owner=owner)
    invitation, _token = invite(community, owner, "paul@example.gouv.fr")
    db.session.commit()

    def done():
        db.session.expire_all()
        return db.session.get(Invitation, invitation.id).revoked_at is not None

    return Case(
        owner,
        f"/c/{community.slug}/invitations/{invitation.id}/revoke",
        "Retirer l'invitation envoyée à paul@example.gouv.fr ?",
        done,
    )


def revoke_token(f):
    from maillage.auth.tokens.operations import create_token, tokens_of

    anne = f.create_user()
    token, _secret = create_token(anne, "Tableau de bord")
    db.session.commit()
    return Case(
        anne,
        f"/account/tokens/{token.id}/revoke",
        "Révoquer le jeton « Tableau de bord » ?",
        lambda: not tokens_of(anne),
    )


def end_other_sessions(f):
    from maillage.communities.users.models import User

    anne = f.create_user()
    version = anne.session_version

    def done():
        db.session.expire_all()
        return db.session.get(User, anne.id).session_version != version

    return Case(anne, "/account/sessions/end", "Fermer toutes vos autres sessions ?", done)


def _admin(f):
    return f.create_user(is_admin=True)


def remove_instance(f):
    from maillage.federation.transport.models import Instance
    from maillage.federation.transport.operations import set_instance_policy

    admin = _admin(f)
    instance = set_instance_policy(admin, "lemmy.example", "allowed", "Partenaire")
    db.session.commit()

    def done():
        db.session.expire_all()
        return db.session.get(Instance, instance.id).policy != "allowed"

    return Case(
        admin,
        f"/admin/federation/instances/{instance.id}/remove",
        "Retirer lemmy.example de la liste ?",
        done,
    )


def block_instance(f):
    from maillage.federation.transport.models import Instance

    def done():
        db.session.expire_all()
        found = db.session.scalar(select(Instance).where(Instance.domain == "spam.example"))
        return found is not None and found.policy == "denied"

    return Case(
        _admin(f),
        "/admin/federation/instances",
        "Bloquer l'instance spam.example ?",
        done,
        {"domain": "spam.example", "policy": "denied", "reason": "Indésirables"},
    )


def delete_post(f):

    anne = f.create_user()
    post = f.create_post(f.create_community(members=[anne]), anne, "Compte rendu")
    return Case(
        anne,
        f"/post/{post.id}/delete",
        "Supprimer la publication « Compte rendu » ?",
        _gone(post),
    )


def delete_comment(f):
    from maillage.communities.posts.operations import add_comment

    anne = f.create_user(display_name="Anne Martin")
    post = f.create_post(f.create_community(members=[anne]), anne)
    comment = add_comment(post, anne, "Merci")
    db.session.commit()
    return Case(
        anne,
        f"/comment/{comment.id}/delete",
        "Supprimer ce commentaire de Anne Martin ?",
        _gone(comment),
    )


def delete_topic(f):
    from maillage.communities.discussions.operations import create_topic

    anne = f.create_user()
    community = f.create_community(members=[anne])
    topic = create_topic(community, anne, "Marchés publics", "Qui a un modèle ?")
    db.session.commit()
    return Case(
        anne,
        f"/c/{community.slug}/discussions/{topic.id}/delete",
        "Supprimer la discussion « Marchés publics » ?",
        _gone(topic),
    )


def delete_reply(f):
    from maillage.communities.discussions.operations import add_reply, create_topic

    anne = f.create_user(display_name="Anne Martin")
    community = f.create_community(members=[anne])
    topic = create_topic(community, anne, "Marchés publics", "Qui a un modèle ?")
    reply = add_reply(topic, anne, "Moi")
    db.session.commit()
    return Case(
        anne,
        f"/c/{community.slug}/discussions/{topic.id}/replies/{reply.id}/delete",
        "Supprimer cette réponse de Anne Martin ?",
        _gone(reply),
    )


def delete_event(f):
    from maillage.communities.events.operations import EventFields, create_event

    anne = f.create_user()
    community = f.create_community(owner=anne)
    start = utcnow() + dt.timedelta(days=3)
    event = create_event(
        community, anne, EventFields("Atelier", start, start + dt.timedelta(hours=2))
    )
    db.session.commit()
    return Case(
        anne,
        f"/c/{community.slug}/events/{event.id}/delete",
        "Supprimer l'événement « Atelier » ?",
        _gone(event),
    )


def delete_task(f):
    from maillage.communities.kanban.operations import TaskFields, create_task

    anne = f.create_user()
    community = f.create_community(owner=anne)
    task = create_task(community, anne, TaskFields("Relire la charte"))
    db.session.commit()
    return Case(
        anne,
        f"/c/{community.slug}/tasks/{task.id}/delete",
        "Supprimer la tâche « Relire la charte » ?",
        _gone(task),
    )


def delete_wiki_page(f):
    from maillage.communities.wiki.operations import create_page

    anne = f.create_user()
    community = f.create_community(owner=anne)
    page = create_page(community, anne, "Foire aux questions", "Texte")
    db.session.commit()
    return Case(
        anne,
        f"/c/{community.slug}/wiki/{page.slug}/delete",
        "Supprimer la page « Foire aux questions » ?",
        _gone(page),
    )


def delete_folder(f):
    from maillage.communities.documents.operations import create_folder

    anne = f.create_user()
    community = f.create_community(owner=anne)
    folder = create_folder(community, anne, "Modèles")
    db.session.commit()
    return Case(
        anne,
        f"/c/{community.slug}/documents/dossiers/{folder.id}/supprimer",
        "Supprimer le dossier « Modèles » ?",
        _gone(folder),
    )


def delete_training_path(f):
    from maillage.communities.training.operations import create_path

    trainer = f.create_user()
    trainer.is_trainer = True
    path = create_path(trainer, "Animer une communauté")
    db.session.commit()
    return Case(
        trainer,
        f"/formation/parcours/{path.id}/supprimer",
        "Supprimer « Animer une communauté » ?",
        _gone(path),
    )


def cancel_event(f):
    from maillage.communities.events.models import Event
    from maillage.communities.events.operations import EventFields, create_event

    anne = f.create_user()
    community = f.create_community(owner=anne)
    start = utcnow() + dt.timedelta(days=3)
    event = create_event(
        community, anne, EventFields("Webinaire", start, start + dt.timedelta(hours=1))
    )
    db.session.commit()

    def done():
        db.session.expire_all()
        return db.session.get(Event, event.id).cancelled

    return Case(
        anne,
        f"/c/{community.slug}/events/{event.id}/cancel",
        "Annuler l'événement « Webinaire » ?",
        done,
    )


def delete_poll(f):
    from maillage.communities.polls.operations import PollSpec, QuestionSpec, create_poll

    anne = f.create_user()
    community = f.create_community(owner=anne)
    spec = PollSpec("Date de la réunion", [QuestionSpec("Quel jour ?", ["Lundi", "Mardi"])])
    poll = create_poll(community, anne, spec)
    db.session.commit()
    return Case(
        anne,
        f"/c/{community.slug}/polls/{poll.id}/delete",
        "Supprimer le sondage « Date de la réunion » ?",
        _gone(poll),
    )


def delete_training_resource(f):
    from maillage.communities.training.operations import create_resource

    trainer = f.create_user()
    trainer.is_trainer = True
    resource = create_resource(
        trainer, "Guide de l'animateur", "guide", url="https://example.org/guide"
    )
    db.session.commit()
    return Case(
        trainer,
        f"/formation/ressources/{resource.id}/supprimer",
        "Supprimer la ressource « Guide de l'animateur » ?",
        _gone(resource),
    )


def cancel_scheduled(f):
    from maillage.communities.animation.models import ScheduledPost
    from maillage.communities.animation.operations import schedule_post

    anne = f.create_user()
    community = f.create_community(owner=anne)
    scheduled = schedule_post(
        community, anne, "Lettre de janvier", "Texte", utcnow() + dt.timedelta(days=2)
    )
    db.session.commit()

    def done():
        db.session.expire_all()
        return db.session.get(ScheduledPost, scheduled.id).status != "scheduled"

    return Case(
        anne,
        f"/c/{community.slug}/scheduled/{scheduled.id}/cancel",
        "Annuler la publication programmée « Lettre de janvier » ?",
        done,
    )


def disable_feed(f):
    from maillage.communities.events.feeds import feed_key, rotate_feed_token

    anne = f.create_user()
    rotate_feed_token(anne)
    db.session.commit()

    def done():
        db.session.expire_all()
        return feed_key(anne) is None

    return Case(anne, "/agenda/feed/disable", "Désactiver l'abonnement à votre agenda ?", done)


CASES = [
    remove_member,
    leave,
    revoke_invitation,
    revoke_token,
    end_other_sessions,
    remove_instance,
    block_instance,
    delete_post,
    delete_comment,
    delete_topic,
    delete_reply,
    delete_event,
    delete_task,
    delete_wiki_page,
    delete_folder,
    delete_training_path,
    delete_training_resource,
    cancel_event,
    delete_poll,
    cancel_scheduled,
    disable_feed,
]


@dataclass
class Factories:
    create_user: object
    create_community: object
    create_post: object


def _token(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


@pytest.mark.parametrize("build", CASES, ids=[case.__name__ for case in CASES])
def test_a_destructive_action_asks_first_then_acts(
    build, csrf_client, create_user, create_community, create_post, login_as
):
    case = build(Factories(create_user, create_community, create_post))
    login_as(case.actor)
    data = {"csrf_token": _token(csrf_client), **case.data}

    asked = csrf_client.post(case.url, data=data)

    page = unescape(asked.get_data(as_text=True))
    assert asked.status_code == 200
    assert f'<h1 id="confirmation-title" tabindex="-1" autofocus>{case.question}</h1>' in page
    assert f'<form method="post" action="{case.url}">' in page
    assert '<input type="hidden" name="confirmed" value="1">' in page
    for name, value in case.data.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in page
    assert not case.done()

    token = CSRF_RE.search(page).group(1)
    acted = csrf_client.post(case.url, data={**case.data, "csrf_token": token, "confirmed": "1"})

    assert acted.status_code in (302, 303), acted.status_code
    assert case.done()


def test_under_htmx_the_question_replaces_the_main_content(
    csrf_client, create_user, create_community, login_as
):
    anne = create_user()
    community = create_community("Réseau RH", members=[anne])
    login_as(anne)

    asked = csrf_client.post(
        f"/c/{community.slug}/leave",
        data={"csrf_token": _token(csrf_client)},
        headers={"HX-Request": "true"},
    )

    assert asked.status_code == 200
    assert asked.headers["HX-Retarget"] == "#contenu"
    body = unescape(asked.get_data(as_text=True))
    assert "Quitter la communauté « Réseau RH » ?" in body
    assert "<html" not in body
    assert not _member_gone(community, anne)


def test_the_existing_confirmation_pages_post_the_confirmation(
    client, create_user, create_community, create_post, login_as
):
    """The pages that already asked (GET) re-post with ``confirmed=1``: one question, not two."""
    anne = create_user()
    post = create_post(create_community(members=[anne]), anne, "Compte rendu")
    login_as(anne)

    page = client.get(f"/post/{post.id}/delete").get_data(as_text=True)

    assert '<input type="hidden" name="confirmed" value="1">' in page
