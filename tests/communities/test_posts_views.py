"""Posts, comments and reactions over HTTP: the member's journey, who may do what, 404 versus 403,
validation in French, edit and delete."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from maillage.communities.community.models import Community
from maillage.communities.posts.models import Comment, Post, Reaction
from maillage.platform.extensions import db
from tests.conftest import login

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def count(model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def people(create_user):
    return {
        "owner": create_user("olga"),
        "member": create_user("marc"),
        "moderator": create_user("mona"),
        "outsider": create_user("oscar"),
    }


@pytest.fixture
def public(create_community, people):
    return create_community(
        "Achats publics",
        slug="achats",
        owner=people["owner"],
        members=[people["member"], (people["moderator"], "moderator")],
    )


# -- the journey -------------------------------------------------------------------------------


def test_member_posts_comments_and_reacts(client, login_as, people, public):
    login_as(people["member"])
    token = csrf(client)

    page = client.get("/c/achats/posts/new")
    assert page.status_code == 200
    assert 'action="/c/achats/posts"' in page.get_data(as_text=True)

    created = client.post(
        "/c/achats/posts",
        data={
            "csrf_token": token,
            "title": "  Marché  de  nettoyage ",
            "body": "Qui a **déjà** fait ?",
        },
    )
    assert created.status_code == 302
    post = db.session.scalar(select(Post))
    assert created.headers["Location"] == f"/post/{post.id}"
    assert post.title == "Marché de nettoyage"
    assert post.author_id == people["member"].id
    assert "<strong>déjà</strong>" in post.body_html
    assert fresh(public).post_count == 1

    shown = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert "<h1>Marché de nettoyage</h1>" in shown
    assert "<strong>déjà</strong>" in shown
    assert "Votre publication est en ligne." in shown
    assert 'id="comment-form"' in shown

    commented = client.post(
        f"/post/{post.id}/comments", data={"csrf_token": token, "body": "Oui, en *2023*."}
    )
    comment = db.session.scalar(select(Comment))
    assert commented.status_code == 302
    assert commented.headers["Location"] == f"/post/{post.id}#comment-{comment.id}"
    assert fresh(post).comment_count == 1

    reacted = client.post(
        f"/post/{post.id}/react",
        data={"csrf_token": token, "emoji": "👍", "next": f"/post/{post.id}"},
    )
    assert reacted.status_code == 302
    assert reacted.headers["Location"] == f"/post/{post.id}#post-{post.id}"
    assert count(Reaction, Reaction.post_id == post.id, Reaction.emoji == "👍") == 1

    shown = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert "<em>2023</em>" in shown
    assert f'id="comment-{comment.id}"' in shown
    assert 'Commentaires <span id="comment-count">(1)</span>' in shown
    button = re.search(r'<button[^>]*value="👍"[^>]*>', shown).group(0)
    assert 'aria-pressed="true"' in button
    assert 'aria-label="Réagir avec 👍 (1)"' in button

    client.post(f"/post/{post.id}/react", data={"csrf_token": token, "emoji": "👍"})
    assert count(Reaction) == 0
    shown = client.get(f"/post/{post.id}").get_data(as_text=True)
    button = re.search(r'<button[^>]*value="👍"[^>]*>', shown).group(0)
    assert 'aria-pressed="false"' in button
    assert 'aria-label="Réagir avec 👍 (0)"' in button


def test_reacting_from_the_feed_comes_back_to_it_but_never_elsewhere(
    client, login_as, people, public, create_post
):
    post = create_post(public, people["member"])
    login_as(people["member"])
    token = csrf(client)
    back = client.post(
        f"/post/{post.id}/react", data={"csrf_token": token, "emoji": "🎉", "next": "/?after=x"}
    )
    assert back.headers["Location"] == f"/?after=x#post-{post.id}"
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        answer = client.post(
            f"/post/{post.id}/react", data={"csrf_token": token, "emoji": "🎉", "next": hostile}
        )
        assert answer.headers["Location"] == f"/post/{post.id}#post-{post.id}"


def test_every_allowed_reaction_is_a_labelled_toggle_button(
    client, login_as, people, public, create_post
):
    from maillage.communities.posts.models import ALLOWED_REACTIONS

    post = create_post(public, people["member"])
    login_as(people["member"])
    html = client.get(f"/post/{post.id}").get_data(as_text=True)
    for emoji in ALLOWED_REACTIONS:
        assert re.search(
            rf'<button type="submit" name="emoji" value="{emoji}"[^>]*aria-pressed="false"'
            rf'[^>]*aria-label="Réagir avec {emoji} \(0\)"',
            html,
        ), emoji


def test_unknown_reaction_is_refused(client, login_as, people, public, create_post):
    post = create_post(public, people["member"])
    login_as(people["member"])
    answer = client.post(f"/post/{post.id}/react", data={"csrf_token": csrf(client), "emoji": "💩"})
    assert answer.status_code == 400
    assert "Réaction inconnue." in answer.get_data(as_text=True)
    assert count(Reaction) == 0


# -- who may do what ---------------------------------------------------------------------------


def test_non_member_cannot_post_comment_or_react_in_a_public_community(
    client, login_as, people, public, create_post
):
    post = create_post(public, people["member"])
    login_as(people["outsider"])
    token = csrf(client)

    assert client.get("/c/achats/posts/new").status_code == 403
    refused = client.post("/c/achats/posts", data={"csrf_token": token, "title": "Intrus"})
    assert refused.status_code == 403
    assert "Accès refusé" in refused.get_data(as_text=True)
    assert "Seuls les membres de la communauté peuvent y publier." in refused.get_data(as_text=True)
    assert (
        client.post(
            f"/post/{post.id}/comments", data={"csrf_token": token, "body": "Intrus"}
        ).status_code
        == 403
    )
    assert (
        client.post(f"/post/{post.id}/react", data={"csrf_token": token, "emoji": "👍"}).status_code
        == 403
    )
    assert count(Post) == 1
    assert count(Comment) == 0
    assert count(Reaction) == 0

    page = client.get(f"/post/{post.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="comment-form"' not in html
    assert "Seuls les membres de la communauté peuvent commenter." in html
    assert 'name="emoji"' not in html


def test_anonymous_visitor_is_sent_to_sign_in_before_acting(client, people, public, create_post):
    post = create_post(public, people["member"])
    token = csrf(client)
    for url, data in (
        ("/c/achats/posts", {"title": "Anonyme"}),
        (f"/post/{post.id}/comments", {"body": "Anonyme"}),
        (f"/post/{post.id}/react", {"emoji": "👍"}),
    ):
        answer = client.post(url, data={"csrf_token": token, **data})
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/login?next=")
    html = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert "Connectez-vous</a> pour commenter et réagir." in html
    assert count(Post) == 1
    assert count(Comment) == 0
    assert count(Reaction) == 0


def test_anonymous_reads_public_posts_but_not_private_ones(
    client, people, public, create_community, create_post
):
    private = create_community(
        "Cellule privée", slug="privee", visibility="private", owner=people["owner"]
    )
    public_post = create_post(public, people["owner"], title="Annonce ouverte")
    private_post = create_post(private, people["owner"], title="Compte rendu interne")

    shown = client.get(f"/post/{public_post.id}")
    assert shown.status_code == 200
    assert "Annonce ouverte" in shown.get_data(as_text=True)
    hidden = client.get(f"/post/{private_post.id}")
    assert hidden.status_code == 404
    assert "Compte rendu interne" not in hidden.get_data(as_text=True)

    home = client.get("/").get_data(as_text=True)
    assert "Annonce ouverte" in home
    assert "Compte rendu interne" not in home


def test_private_community_post_is_readable_by_members_only(
    client, login_as, people, create_community, create_post
):
    private = create_community(
        "Cellule privée", visibility="private", owner=people["owner"], members=[people["member"]]
    )
    post = create_post(private, people["owner"])
    login_as(people["outsider"])
    assert client.get(f"/post/{post.id}").status_code == 404
    login_as(people["member"])
    assert client.get(f"/post/{post.id}").status_code == 200


def test_secret_community_post_is_404_to_outsiders_and_anonymous(
    client, login_as, people, create_community, create_post
):
    secret = create_community(
        "Cellule secrète",
        slug="secrete",
        visibility="secret",
        join_policy="invite",
        owner=people["owner"],
        members=[people["member"]],
    )
    post = create_post(secret, people["member"], title="Ordre du jour confidentiel")

    anonymous = client.get(f"/post/{post.id}")
    assert anonymous.status_code == 404
    assert "Ordre du jour confidentiel" not in anonymous.get_data(as_text=True)

    login_as(people["outsider"])
    token = csrf(client)
    for method, url, data in (
        ("get", f"/post/{post.id}", None),
        ("get", "/c/secrete/posts/new", None),
        ("post", "/c/secrete/posts", {"title": "Intrus"}),
        ("post", f"/post/{post.id}/comments", {"body": "Intrus"}),
        ("post", f"/post/{post.id}/react", {"emoji": "👍"}),
        ("get", f"/post/{post.id}/edit", None),
        ("get", f"/post/{post.id}/delete", None),
        ("post", f"/post/{post.id}/delete", {}),
    ):
        call = getattr(client, method)
        answer = call(url, data={"csrf_token": token, **data}) if data is not None else call(url)
        assert answer.status_code == 404, (method, url)
        assert "Ordre du jour confidentiel" not in answer.get_data(as_text=True)
    assert count(Post) == 1

    login_as(people["member"])
    assert client.get(f"/post/{post.id}").status_code == 200


def test_unknown_post_or_comment_is_404(client, login_as, people, public):
    assert client.get("/post/999999").status_code == 404
    assert "Page introuvable" in client.get("/post/999999").get_data(as_text=True)
    assert client.get("/c/inconnue/posts/new").status_code == 302  # sign in first
    login_as(people["member"])
    token = csrf(client)
    assert client.get("/post/999999/edit").status_code == 404
    assert (
        client.post("/post/999999/comments", data={"csrf_token": token, "body": "x"}).status_code
        == 404
    )
    assert (
        client.post("/post/999999/react", data={"csrf_token": token, "emoji": "👍"}).status_code
        == 404
    )
    assert (
        client.post(
            "/comment/999999/delete", data={"confirmed": "1", "csrf_token": token}
        ).status_code
        == 404
    )
    assert client.get("/c/inconnue/posts/new").status_code == 404
    assert (
        client.post("/c/inconnue/posts", data={"csrf_token": token, "title": "x"}).status_code
        == 404
    )


# -- validation --------------------------------------------------------------------------------


def test_missing_title_rerenders_the_composer_with_the_message(client, login_as, people, public):
    login_as(people["member"])
    answer = client.post(
        "/c/achats/posts", data={"csrf_token": csrf(client), "title": "   ", "body": "Mon texte"}
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Le titre est obligatoire." in html
    assert 'aria-invalid="true"' in html
    assert "Mon texte" in html  # what was typed is kept
    assert "<title>Erreur" in html
    assert count(Post) == 0


def test_very_long_body_is_refused_in_french_and_nothing_is_stored(
    app, client, login_as, people, public
):
    limit = app.config["MAX_MARKDOWN_LENGTH"]
    login_as(people["member"])
    token = csrf(client)
    answer = client.post(
        "/c/achats/posts",
        data={"csrf_token": token, "title": "Trop long", "body": "a" * (limit + 1)},
    )
    assert answer.status_code == 400
    assert f"Le texte fait {limit + 1} caractères : {limit} au plus." in answer.get_data(
        as_text=True
    )
    assert count(Post) == 0
    assert fresh(public).post_count == 0

    exactly = client.post(
        "/c/achats/posts", data={"csrf_token": token, "title": "Juste", "body": "a" * limit}
    )
    assert exactly.status_code == 302
    assert count(Post) == 1


def test_operation_refusal_is_shown_on_the_form(
    client, login_as, monkeypatch, people, public, create_post
):
    """What the form lets through, the operation may still refuse (it guards every caller): its
    message is shown on the form, the session is rolled back, nothing is stored."""
    from maillage.communities.posts import operations, views
    from maillage.platform.errors import NotAllowed, OperationError

    def refuse_after_writing(community, author, title, body):
        operations.create_post(community, author, title, body)  # written, then refused
        raise OperationError("Le titre « %(title)s » est refusé.", title=title)

    monkeypatch.setattr(views, "create_post", refuse_after_writing)
    login_as(people["member"])
    token = csrf(client)
    answer = client.post("/c/achats/posts", data={"csrf_token": token, "title": "Doublon"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert '<div class="error-summary" role="alert">' in html
    assert "Le titre « Doublon » est refusé." in html
    assert count(Post) == 0
    assert fresh(public).post_count == 0

    post = create_post(public, people["member"])

    def not_allowed(*args):
        raise NotAllowed("Publication verrouillée par la modération.")

    monkeypatch.setattr(views, "edit_post", not_allowed)
    answer = client.post(
        f"/post/{post.id}/edit", data={"csrf_token": token, "title": "Nouveau", "body": ""}
    )
    assert answer.status_code == 403
    assert "Publication verrouillée par la modération." in answer.get_data(as_text=True)


def test_title_too_long_and_empty_comment_are_refused(
    client, login_as, people, public, create_post
):
    post = create_post(public, people["member"])
    login_as(people["member"])
    token = csrf(client)
    answer = client.post("/c/achats/posts", data={"csrf_token": token, "title": "t" * 201})
    assert answer.status_code == 400
    assert "Le titre fait 200 caractères au plus." in answer.get_data(as_text=True)

    empty = client.post(f"/post/{post.id}/comments", data={"csrf_token": token, "body": "  "})
    assert empty.status_code == 400
    assert "Le commentaire est vide." in empty.get_data(as_text=True)
    assert count(Post) == 1
    assert count(Comment) == 0


def test_posting_without_csrf_token_is_refused(csrf_client, create_user, create_community):
    member = create_user("camille")
    create_community("Réseau RH", slug="rh", members=[member])
    login(csrf_client, member)
    answer = csrf_client.post("/c/rh/posts", data={"title": "Sans jeton"})
    assert answer.status_code == 400
    assert "jeton de sécurité" in answer.get_data(as_text=True)
    assert count(Post) == 0


# -- edit and delete ---------------------------------------------------------------------------


def test_author_edits_their_post(client, login_as, people, public, create_post):
    post = create_post(public, people["member"], title="Brouillon", body="Version 1")
    login_as(people["member"])
    form = client.get(f"/post/{post.id}/edit").get_data(as_text=True)
    assert 'value="Brouillon"' in form
    assert "Version 1</textarea>" in form

    saved = client.post(
        f"/post/{post.id}/edit",
        data={"csrf_token": csrf(client), "title": "Version finale", "body": "Version *2*"},
    )
    assert saved.status_code == 302
    assert saved.headers["Location"] == f"/post/{post.id}"
    post = fresh(post)
    assert (post.title, post.body_source) == ("Version finale", "Version *2*")
    assert "<em>2</em>" in post.body_html
    assert post.updated_at is not None
    html = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert "modifiée le" in html
    assert "La publication a été modifiée." in html


def test_edit_with_invalid_data_keeps_the_post(client, login_as, people, public, create_post):
    post = create_post(public, people["member"], title="Intact")
    login_as(people["member"])
    answer = client.post(
        f"/post/{post.id}/edit", data={"csrf_token": csrf(client), "title": "", "body": "Neuf"}
    )
    assert answer.status_code == 400
    assert "Le titre est obligatoire." in answer.get_data(as_text=True)
    assert fresh(post).title == "Intact"


def test_edit_by_someone_else_is_403(client, login_as, people, public, create_post):
    post = create_post(public, people["member"], title="À moi")
    for intruder in (people["moderator"], people["outsider"]):
        login_as(intruder)
        token = csrf(client)
        assert client.get(f"/post/{post.id}/edit").status_code == 403
        answer = client.post(
            f"/post/{post.id}/edit", data={"csrf_token": token, "title": "Piraté", "body": ""}
        )
        assert answer.status_code == 403
    assert fresh(post).title == "À moi"


def test_edit_and_delete_buttons_follow_the_policy(client, login_as, people, public, create_post):
    post = create_post(public, people["member"])
    edit_link, delete_link = f'href="/post/{post.id}/edit"', f'href="/post/{post.id}/delete"'

    login_as(people["member"])
    html = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert edit_link in html
    assert delete_link in html

    login_as(people["moderator"])
    html = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert edit_link not in html
    assert delete_link in html

    login_as(people["outsider"])
    html = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert edit_link not in html
    assert delete_link not in html


def test_moderator_deletes_a_post_after_confirmation(client, login_as, people, public, create_post):
    from maillage.communities.posts.operations import add_comment, toggle_reaction

    post = create_post(public, people["member"], title="Hors sujet")
    kept = create_post(public, people["member"], title="Utile")
    for target in (post, kept):
        add_comment(target, people["owner"], "Un avis")
        toggle_reaction(target, people["owner"], "🤔")
    db.session.commit()
    post_id, kept_id = post.id, kept.id
    assert fresh(public).post_count == 2
    login_as(people["moderator"])

    confirm = client.get(f"/post/{post_id}/delete")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Supprimer la publication « Hors sujet » ?" in html
    assert "Supprimer définitivement" in html
    assert count(Post) == 2  # asking is not deleting

    deleted = client.post(
        f"/post/{post_id}/delete", data={"confirmed": "1", "csrf_token": csrf(client)}
    )
    assert deleted.status_code == 302
    assert deleted.headers["Location"] == "/c/achats"
    assert db.session.get(Post, post_id) is None
    assert db.session.get(Post, kept_id) is not None
    assert fresh(public).post_count == 1
    assert count(Comment, Comment.post_id == post_id) == 0  # on SQLite too (no FK cascade there)
    assert count(Reaction, Reaction.post_id == post_id) == 0
    assert count(Comment) == count(Reaction) == 1  # the other post keeps its own
    assert client.get(f"/post/{post_id}").status_code == 404


def test_author_deletes_own_post_but_a_member_cannot_delete_others(
    client, login_as, people, public, create_user, create_post
):
    post = create_post(public, people["member"])
    other = create_user("nina")
    from maillage.communities.community.operations import add_membership

    add_membership(public, other, "member")
    db.session.commit()

    login_as(other)
    token = csrf(client)
    assert client.get(f"/post/{post.id}/delete").status_code == 403
    assert (
        client.post(
            f"/post/{post.id}/delete", data={"confirmed": "1", "csrf_token": token}
        ).status_code
        == 403
    )
    assert count(Post) == 1

    login_as(people["member"])
    assert (
        client.post(
            f"/post/{post.id}/delete", data={"confirmed": "1", "csrf_token": csrf(client)}
        ).status_code
        == 302
    )
    assert count(Post) == 0
    assert db.session.scalar(select(Community.post_count).where(Community.id == public.id)) == 0


def test_comment_deletion_by_author_and_moderator(client, login_as, people, public, create_post):
    from maillage.communities.posts.operations import add_comment

    post = create_post(public, people["owner"])
    mine = add_comment(post, people["member"], "Le mien")
    theirs = add_comment(post, people["owner"], "Celui de la propriétaire")
    db.session.commit()
    mine_id, theirs_id = mine.id, theirs.id

    login_as(people["outsider"])
    token = csrf(client)
    assert (
        client.post(
            f"/comment/{mine_id}/delete", data={"confirmed": "1", "csrf_token": token}
        ).status_code
        == 403
    )

    login_as(people["member"])
    token = csrf(client)
    html = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert f'href="/comment/{mine_id}/delete"' in html
    assert f'href="/comment/{theirs_id}/delete"' not in html
    assert (
        client.post(
            f"/comment/{theirs_id}/delete", data={"confirmed": "1", "csrf_token": token}
        ).status_code
        == 403
    )
    confirm = client.get(f"/comment/{mine_id}/delete")
    assert confirm.status_code == 200
    assert "Supprimer ce commentaire ?" in confirm.get_data(as_text=True)
    done = client.post(f"/comment/{mine_id}/delete", data={"confirmed": "1", "csrf_token": token})
    assert done.status_code == 302
    assert done.headers["Location"] == f"/post/{post.id}#commentaires"

    login_as(people["moderator"])
    assert (
        client.post(
            f"/comment/{theirs_id}/delete", data={"confirmed": "1", "csrf_token": csrf(client)}
        ).status_code
        == 302
    )
    assert count(Comment) == 0
    assert fresh(post).comment_count == 0
