"""Discussions over HTTP: opening a topic, replying, quoting, editing, answering, pinning and
locking, deleting; validation in French with nothing half-stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from maillage.communities.discussions import operations
from maillage.communities.discussions.models import DiscussionReply, DiscussionTopic
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from tests.communities.test_discussions_fixtures import *  # noqa: F403 - fixtures
from tests.communities.test_discussions_fixtures import (
    count,
    csrf,
    fresh,
    reasons,
    said,
    text_of,
)

# -- the journey -------------------------------------------------------------------------------


def test_member_opens_a_topic_and_others_reply_quote_and_answer(
    client, login_as, people, community, notifications
):
    login_as(people["member"])
    token = csrf(client)
    form = client.get("/c/achats/discussions/new")
    assert form.status_code == 200
    assert 'action="/c/achats/discussions/new"' in text_of(form)

    created = client.post(
        "/c/achats/discussions/new",
        data={
            "csrf_token": token,
            "title": "  Clause  de révision ",
            "body": "Faut-il une **clause** ? Avis de @mona bienvenu.",
        },
    )
    topic = db.session.scalar(select(DiscussionTopic))
    assert created.status_code == 303
    assert created.headers["Location"] == f"/c/achats/discussions/{topic.id}"
    assert topic.title == "Clause de révision"
    assert topic.body_source == "Faut-il une **clause** ? Avis de @mona bienvenu."
    assert "<strong>clause</strong>" in topic.body_html
    assert topic.ap_id == f"https://maillage.test/topic/{topic.id}"
    assert topic.local is True
    assert reasons(notifications, "new_content") == [None]
    assert reasons(notifications, "mention") == [{"mona"}]

    page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    assert "<h1>Clause de révision</h1>" in page
    assert "Votre discussion est ouverte." in page
    assert '<a href="/u/mona" class="mention"' in page
    assert 'id="reply-form"' in page

    # Mona answers, Olga quotes her, Marc retains Mona's reply as the answer.
    notifications.clear()
    login_as(people["moderator"])
    answered = client.post(
        f"/c/achats/discussions/{topic.id}/replies",
        data={"csrf_token": csrf(client), "body": "Oui, au-delà de 3 mois."},
    )
    mona_reply = db.session.scalar(select(DiscussionReply))
    assert answered.status_code == 303
    assert answered.headers["Location"] == f"/c/achats/discussions/{topic.id}#reply-{mona_reply.id}"
    assert reasons(notifications, "reply") == [{"marc"}]
    assert fresh(topic).reply_count == 1

    login_as(people["owner"])
    quoting = text_of(client.get(f"/c/achats/discussions/{topic.id}?quote={mona_reply.id}"))
    assert "&gt; **Mona Modo** a écrit :\n&gt;\n&gt; Oui, au-delà de 3 mois." in quoting
    assert f'name="quoted_reply_id" type="hidden" value="{mona_reply.id}"' in quoting
    notifications.clear()
    client.post(
        f"/c/achats/discussions/{topic.id}/replies",
        data={
            "csrf_token": csrf(client),
            "body": "> Oui, au-delà de 3 mois.\n\nJe confirme.",
            "quoted_reply_id": str(mona_reply.id),
        },
    )
    olga_reply = db.session.scalar(
        select(DiscussionReply).where(DiscussionReply.id != mona_reply.id)
    )
    assert olga_reply.quoted_reply_id == mona_reply.id
    assert "<blockquote>" in olga_reply.body_html
    assert reasons(notifications, "reply") == [{"marc", "mona"}]

    page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    assert f'En réponse à <a href="#reply-{mona_reply.id}">la réponse de Mona Modo</a>' in page

    notifications.clear()
    login_as(people["member"])
    marked = client.post(
        f"/c/achats/discussions/{topic.id}/answer",
        data={"csrf_token": csrf(client), "reply_id": str(mona_reply.id)},
    )
    assert marked.status_code == 303
    assert fresh(topic).answered_reply_id == mona_reply.id
    assert reasons(notifications, "answered") == [{"mona"}]
    page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    answer_box = page.index('id="answer-title"')
    assert answer_box < page.index('id="replies-title"')  # the answer is shown first
    assert "Réponse retenue" in page
    assert "Ne plus retenir comme réponse" in page
    assert "Résolue" in page


def test_answered_by_a_moderator_notifies_the_topic_author_and_the_replier(
    client, login_as, people, community, start_topic, add_reply, notifications
):
    topic = start_topic(community, people["member"])
    reply = add_reply(topic, people["other"])
    notifications.clear()
    login_as(people["moderator"])
    client.post(
        f"/c/achats/discussions/{topic.id}/answer",
        data={"csrf_token": csrf(client), "reply_id": str(reply.id)},
    )
    assert reasons(notifications, "answered") == [{"marc", "nina"}]
    _sender, kwargs = notifications[-1]
    assert kwargs["sender_id"] == reply.id
    assert kwargs["url"] == f"/c/achats/discussions/{topic.id}/replies/{reply.id}"
    assert kwargs["title"] == topic.title
    assert kwargs["community_id"] == community.id

    # Unmarking
    client.post(
        f"/c/achats/discussions/{topic.id}/answer",
        data={"csrf_token": csrf(client), "reply_id": ""},
    )
    assert fresh(topic).answered_reply_id is None


def test_replies_notify_the_author_and_participants_but_never_the_actor(
    people, community, start_topic, add_reply, notifications
):
    topic = start_topic(community, people["member"])
    add_reply(topic, people["other"], "Premier avis")
    notifications.clear()
    add_reply(topic, people["moderator"], "Et moi, avec @nina et @oscar en copie.")
    # nina is mentioned (reason mention, not reply too); oscar cannot read? he can: public.
    assert reasons(notifications, "mention") == [{"nina", "oscar"}]
    assert reasons(notifications, "reply") == [{"marc"}]


def test_edit_own_topic_and_reply_shows_an_edited_marker(
    client, login_as, people, community, start_topic, add_reply, notifications
):
    topic = start_topic(community, people["member"])
    reply = add_reply(topic, people["member"], "Première version")
    login_as(people["member"])
    token = csrf(client)
    form = text_of(client.get(f"/c/achats/discussions/{topic.id}/edit"))
    assert "Qui a un modèle ?" in form
    notifications.clear()
    done = client.post(
        f"/c/achats/discussions/{topic.id}/edit",
        data={"csrf_token": token, "title": "Nouveau titre", "body": "Texte revu, merci @olga"},
    )
    assert done.status_code == 303
    assert fresh(topic).title == "Nouveau titre"
    assert fresh(topic).updated_at is not None
    assert reasons(notifications, "mention") == [{"olga"}]
    # Saving again does not notify the same person twice.
    notifications.clear()
    client.post(
        f"/c/achats/discussions/{topic.id}/edit",
        data={"csrf_token": token, "title": "Nouveau titre", "body": "Texte revu, merci @olga !"},
    )
    assert reasons(notifications, "mention") == []

    edited = client.post(
        f"/c/achats/discussions/{topic.id}/replies/{reply.id}/edit",
        data={"csrf_token": token, "body": "Seconde *version*"},
    )
    assert edited.status_code == 303
    assert edited.headers["Location"].endswith(f"#reply-{reply.id}")
    assert "<em>version</em>" in fresh(reply).body_html
    page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    assert page.count("modifiée le") == 2
    assert count(AuditEntry, AuditEntry.action == "discussion.reply.edit") == 1


def test_pin_and_lock_by_moderators_and_locked_topics_refuse_replies(
    client, login_as, people, community, start_topic
):
    topic = start_topic(community, people["member"])
    login_as(people["moderator"])
    token = csrf(client)
    client.post(f"/c/achats/discussions/{topic.id}/pin", data={"csrf_token": token, "pinned": "1"})
    client.post(f"/c/achats/discussions/{topic.id}/lock", data={"csrf_token": token, "locked": "1"})
    topic = fresh(topic)
    assert topic.pinned
    assert topic.locked

    login_as(people["member"])
    token = csrf(client)
    page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    assert "Cette discussion est verrouillée : on ne peut plus y répondre." in page
    assert 'id="reply-form"' not in page
    refused = client.post(
        f"/c/achats/discussions/{topic.id}/replies", data={"csrf_token": token, "body": "Et si ?"}
    )
    assert refused.status_code == 400
    assert "Cette discussion est verrouillée : on ne peut plus y répondre." in text_of(refused)
    assert 'role="alert"' in text_of(refused)
    assert count(DiscussionReply) == 0

    # Moderators still may.
    login_as(people["moderator"])
    page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    assert 'id="reply-form"' in page
    client.post(
        f"/c/achats/discussions/{topic.id}/replies",
        data={"csrf_token": csrf(client), "body": "Sujet clos, merci à tous."},
    )
    assert count(DiscussionReply) == 1

    # Members cannot pin or lock.
    login_as(people["member"])
    forbidden = client.post(
        f"/c/achats/discussions/{topic.id}/lock", data={"csrf_token": csrf(client), "locked": "0"}
    )
    assert forbidden.status_code == 403
    assert fresh(topic).locked is True


def test_delete_topic_by_author_only_without_replies_and_by_moderators(
    client, login_as, people, community, start_topic, add_reply
):
    lonely = start_topic(community, people["member"], title="Sans réponse")
    login_as(people["member"])
    token = csrf(client)
    confirm = text_of(client.get(f"/c/achats/discussions/{lonely.id}/delete"))
    assert "Supprimer la discussion « Sans réponse » ?" in confirm
    gone = client.post(
        f"/c/achats/discussions/{lonely.id}/delete", data={"confirmed": "1", "csrf_token": token}
    )
    assert gone.status_code == 303
    assert gone.headers["Location"] == "/c/achats/discussions"
    assert count(DiscussionTopic) == 0

    busy = start_topic(community, people["member"], title="Avec réponses")
    reply = add_reply(busy, people["other"])
    operations.set_answer(busy, people["member"], reply)
    db.session.commit()
    refused = client.post(
        f"/c/achats/discussions/{busy.id}/delete", data={"confirmed": "1", "csrf_token": token}
    )
    assert refused.status_code == 403

    login_as(people["moderator"])
    client.post(
        f"/c/achats/discussions/{busy.id}/delete",
        data={"confirmed": "1", "csrf_token": csrf(client)},
    )
    assert count(DiscussionTopic) == 0
    assert count(DiscussionReply) == 0
    assert count(AuditEntry, AuditEntry.action == "discussion.topic.delete") == 2


def test_deleted_reply_quoted_by_others_leaves_a_placeholder_otherwise_disappears(
    client, login_as, people, community, start_topic, add_reply
):
    topic = start_topic(community, people["member"])
    quoted = add_reply(topic, people["other"], "Un avis **tranché**")
    add_reply(topic, people["member"], "> Un avis\n\nJe ne suis pas d'accord", quoted=quoted)
    alone = add_reply(topic, people["other"], "Un message isolé")
    alone_id = alone.id
    operations.set_answer(topic, people["member"], quoted)
    db.session.commit()

    login_as(people["other"])
    token = csrf(client)
    client.post(
        f"/c/achats/discussions/{topic.id}/replies/{quoted.id}/delete",
        data={"confirmed": "1", "csrf_token": token},
    )
    client.post(
        f"/c/achats/discussions/{topic.id}/replies/{alone.id}/delete",
        data={"confirmed": "1", "csrf_token": token},
    )
    placeholder = fresh(quoted)
    assert placeholder.deleted_at is not None
    assert placeholder.body_source == placeholder.body_html == ""
    assert count(DiscussionReply, DiscussionReply.id == alone_id) == 0
    topic = fresh(topic)
    assert topic.reply_count == 1
    assert topic.answered_reply_id is None

    page = text_of(client.get(f"/c/achats/discussions/{topic.id}"))
    assert "Message supprimé" in page
    assert "tranché" not in page.split('id="reponses"')[1].split("Je ne suis pas")[0]
    assert f'En réponse à <a href="#reply-{quoted.id}">un message supprimé</a>' in page
    assert "Un message isolé" not in page
    # A placeholder cannot be deleted, edited or quoted again.
    again = client.post(
        f"/c/achats/discussions/{topic.id}/replies/{quoted.id}/delete",
        data={"confirmed": "1", "csrf_token": token},
    )
    assert again.status_code == 403


def test_moderator_deletes_someone_elses_reply_but_members_cannot(
    client, login_as, people, community, start_topic, add_reply
):
    topic = start_topic(community, people["member"])
    reply = add_reply(topic, people["other"])
    login_as(people["member"])
    refused = client.post(
        f"/c/achats/discussions/{topic.id}/replies/{reply.id}/delete",
        data={"confirmed": "1", "csrf_token": csrf(client)},
    )
    assert refused.status_code == 403
    assert fresh(reply) is not None
    login_as(people["moderator"])
    client.post(
        f"/c/achats/discussions/{topic.id}/replies/{reply.id}/delete",
        data={"confirmed": "1", "csrf_token": csrf(client)},
    )
    assert count(DiscussionReply) == 0
    assert fresh(topic).reply_count == 0


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("", "Un message", "Le titre est obligatoire."),
        ("   ", "Un message", "Le titre est obligatoire."),
        ("x" * 201, "Un message", "Le titre fait 200 caractères au plus."),
        ("Un titre", "   ", "Le message est vide."),
    ],
)
def test_bad_topics_are_refused_in_french_and_nothing_is_stored(
    client, login_as, people, community, title, body, message
):
    login_as(people["member"])
    refused = client.post(
        "/c/achats/discussions/new",
        data={"csrf_token": csrf(client), "title": title, "body": body},
    )
    assert refused.status_code == 400
    page = text_of(refused)
    assert message in page
    assert 'role="alert"' in page
    assert 'aria-invalid="true"' in page
    assert "<title>Erreur" in page
    assert count(DiscussionTopic) == 0


def test_markdown_over_the_configured_limit_is_refused(app, client, login_as, people, community):
    app.config["MAX_MARKDOWN_LENGTH"] = 100
    login_as(people["member"])
    refused = client.post(
        "/c/achats/discussions/new",
        data={"csrf_token": csrf(client), "title": "Long", "body": "a" * 101},
    )
    assert refused.status_code == 400
    assert "Le texte fait 101 caractères : 100 au plus." in text_of(refused)
    assert count(DiscussionTopic) == 0
    # The operation refuses too (other callers: API, federation, CLI).
    with pytest.raises(operations.OperationError, match="100"):
        operations.create_topic(community, people["member"], "Long", "b" * 101)
    db.session.rollback()
    assert count(DiscussionTopic) == 0


def test_bad_replies_are_refused_and_nothing_is_stored(
    client, login_as, people, community, start_topic, add_reply, create_community
):
    topic = start_topic(community, people["member"])
    elsewhere = start_topic(community, people["member"], title="Autre sujet")
    foreign = add_reply(elsewhere, people["other"], "Ailleurs")
    login_as(people["other"])
    token = csrf(client)
    empty = client.post(
        f"/c/achats/discussions/{topic.id}/replies", data={"csrf_token": token, "body": "  "}
    )
    assert empty.status_code == 400
    assert "La réponse est vide." in text_of(empty)
    wrong_quote = client.post(
        f"/c/achats/discussions/{topic.id}/replies",
        data={"csrf_token": token, "body": "Je cite", "quoted_reply_id": str(foreign.id)},
    )
    assert wrong_quote.status_code == 400
    assert "La réponse citée n'existe pas dans cette discussion." in said(wrong_quote)
    assert 'name="quoted_reply_id"' not in text_of(wrong_quote)
    assert count(DiscussionReply, DiscussionReply.topic_id == topic.id) == 0
    assert fresh(topic).reply_count == 0
    no_csrf = client.post(f"/c/achats/discussions/{topic.id}/replies", data={"body": "Sans jeton"})
    assert no_csrf.status_code == 400
    assert count(DiscussionReply, DiscussionReply.topic_id == topic.id) == 0


def test_unknown_ids_are_404(client, login_as, people, community, start_topic, add_reply):
    topic = start_topic(community, people["member"])
    reply = add_reply(topic, people["other"])
    other = start_topic(community, people["member"], title="Autre")
    login_as(people["member"])
    token = csrf(client)
    assert client.get("/c/achats/discussions/999999").status_code == 404
    assert client.get("/c/nulle-part/discussions").status_code == 404
    assert client.get(f"/c/achats/discussions/{topic.id}/replies/999999").status_code == 404
    # A reply reached through the wrong topic does not exist there.
    assert client.get(f"/c/achats/discussions/{other.id}/replies/{reply.id}").status_code == 404
    answer = client.post(
        f"/c/achats/discussions/{other.id}/answer",
        data={"csrf_token": token, "reply_id": str(reply.id)},
    )
    assert answer.status_code == 404
    assert fresh(other).answered_reply_id is None
    assert client.get("/topic/999999").status_code == 404
    assert client.get("/reply/999999").status_code == 404


def test_federation_ids_lead_to_the_pages(client, people, community, start_topic, add_reply):
    topic = start_topic(community, people["member"])
    reply = add_reply(topic, people["other"])
    assert fresh(reply).ap_id == f"https://maillage.test/reply/{reply.id}"
    found = client.get(f"/topic/{topic.id}")
    assert found.status_code == 302
    assert found.headers["Location"] == f"/c/achats/discussions/{topic.id}"
    to_reply = client.get(f"/reply/{reply.id}")
    assert to_reply.headers["Location"] == f"/c/achats/discussions/{topic.id}/replies/{reply.id}"
    on_page = client.get(to_reply.headers["Location"])
    assert on_page.headers["Location"] == f"/c/achats/discussions/{topic.id}#reply-{reply.id}"
