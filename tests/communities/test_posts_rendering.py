"""What posts look like: Markdown rendered and sanitised (XSS attempts neutralised), the HTMX
partials for comments and reactions, and the accessibility hooks they rely on."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from maillage.communities.posts.models import Comment, Post, Reaction
from maillage.platform.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client) -> str:
    return CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1)


def count(model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def main_of(page: str) -> str:
    """The page's <main>: the header legitimately loads htmx with a <script> tag."""
    return page[page.index("<main") : page.index("</main>")]


class Elements(HTMLParser):
    """The real elements and attributes of a fragment (text that merely looks like markup is
    not an element)."""

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_harmless(fragment: str) -> None:
    for tag, attrs in Elements(fragment).found:
        assert tag not in {"script", "iframe", "svg", "object", "embed", "style"}, tag
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src"):
            value = "".join((attrs.get(name) or "").split()).lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (tag, attrs)


@pytest.fixture
def member(create_user):
    return create_user("marc")


@pytest.fixture
def community(create_community, member):
    return create_community("Numérique responsable", slug="numerique", members=[member])


def publish(client, body: str, title: str = "Essai") -> Post:
    answer = client.post(
        "/c/numerique/posts", data={"csrf_token": csrf(client), "title": title, "body": body}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return db.session.scalar(select(Post).order_by(Post.id.desc()))


HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/post/1"}


# -- Markdown and XSS --------------------------------------------------------------------------


def test_markdown_is_rendered_headings_start_at_h2(client, login_as, member, community):
    login_as(member)
    post = publish(
        client,
        "# Titre\n\nDu **gras**, de l'*italique* et `code`.\n\n"
        "- un\n- deux\n\n[Le site](https://www.numerique.gouv.fr)",
    )
    page = client.get(f"/post/{post.id}").get_data(as_text=True)
    body = main_of(page)
    assert "<h2>Titre</h2>" in body
    assert page.count("<h1") == 1
    for fragment in (
        "<strong>gras</strong>",
        "<em>italique</em>",
        "<code>code</code>",
        "<li>un</li>",
    ):
        assert fragment in body
    assert re.search(
        r'<a href="https://www.numerique.gouv.fr" rel="noopener noreferrer nofollow">Le site</a>',
        body,
    )
    assert post.body_source.startswith("# Titre")  # the source is kept for editing


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert('xss')</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">clic</a>',
        "[clic](javascript:alert(1))",
        "[clic](JaVaScRiPt:alert(1))",
        "[clic](&#106;avascript:alert(1))",
        "[clic](java\tscript:alert(1))",
        "<javascript:alert(1)>",
        "[clic][ref]\n\n[ref]: javascript:alert(1)",
        "![x](javascript:alert(1))",
        '![x](https://example.org/a.png "t\\" onerror=\\"alert(1))',
        "<svg onload=alert(1)>",
        "<iframe src=https://evil.example></iframe>",
        "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_xss_attempts_are_neutralised_in_posts(client, login_as, member, community, attack):
    login_as(member)
    post = publish(client, f"Avant\n\n{attack}\n\nAprès")
    page = main_of(client.get(f"/post/{post.id}").get_data(as_text=True))
    assert_harmless(post.body_html)
    assert_harmless(page)
    assert "Après" in post.body_html


def test_raw_html_is_shown_as_text(client, login_as, member, community):
    login_as(member)
    post = publish(client, "Utilisez <b>gras</b> et <script>alert(1)</script>")
    assert "&lt;b&gt;gras&lt;/b&gt;" in post.body_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in post.body_html


def test_title_is_escaped(client, login_as, member, community):
    login_as(member)
    post = publish(client, "Corps", title="<img src=x onerror=alert(1)> Titre")
    for page in (client.get(f"/post/{post.id}"), client.get("/")):
        body = main_of(page.get_data(as_text=True))
        assert "&lt;img src=x onerror=alert(1)&gt; Titre" in body
        assert "<img src=x" not in body


def test_xss_attempts_are_neutralised_in_comments(client, login_as, member, community, create_post):
    post = create_post(community, member)
    login_as(member)
    answer = client.post(
        f"/post/{post.id}/comments",
        data={
            "csrf_token": csrf(client),
            "body": "<img src=x onerror=alert(1)> [a](javascript:alert(1))",
        },
        headers=HTMX,
    )
    fragment = answer.get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in fragment
    assert_harmless(fragment)
    assert "img" not in {tag for tag, _ in Elements(fragment).found}


# -- HTMX partials -----------------------------------------------------------------------------


def test_comment_with_htmx_returns_the_new_comment_and_a_fresh_form(
    client, login_as, member, community, create_post
):
    post = create_post(community, member)
    login_as(member)
    token = csrf(client)
    page = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert re.search(r'<ol id="comment-list" class="comments" aria-live="polite"', page)
    assert f'hx-post="/post/{post.id}/comments"' in page
    assert 'hx-target="#comment-list" hx-swap="beforeend"' in page
    assert 'id="no-comments"' in page

    first = client.post(
        f"/post/{post.id}/comments",
        data={"csrf_token": token, "body": "Premier *avis*"},
        headers=HTMX,
    )
    fragment = first.get_data(as_text=True)
    comment = db.session.scalar(select(Comment))
    assert first.status_code == 200
    assert "<html" not in fragment
    assert fragment.lstrip().startswith(f'<li class="comment" id="comment-{comment.id}">')
    assert "Premier <em>avis</em>" in fragment
    assert re.search(r'<form id="comment-form"[^>]*hx-swap-oob="true"', fragment)
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*</textarea>', fragment)  # emptied
    assert '<span id="comment-count" hx-swap-oob="true">(1)</span>' in fragment
    assert '<p id="no-comments" hx-swap-oob="delete">' in fragment

    second = client.post(
        f"/post/{post.id}/comments", data={"csrf_token": token, "body": "Second"}, headers=HTMX
    ).get_data(as_text=True)
    assert '<span id="comment-count" hx-swap-oob="true">(2)</span>' in second
    assert "no-comments" not in second
    assert count(Comment) == 2


def test_invalid_comment_with_htmx_swaps_the_form_with_its_message(
    client, login_as, member, community, create_post
):
    post = create_post(community, member)
    login_as(member)
    answer = client.post(
        f"/post/{post.id}/comments", data={"csrf_token": csrf(client), "body": " "}, headers=HTMX
    )
    fragment = answer.get_data(as_text=True)
    assert answer.status_code == 200  # htmx swaps 2xx answers only
    assert answer.headers["HX-Retarget"] == "#comment-form"
    assert answer.headers["HX-Reswap"] == "outerHTML"
    assert fragment.lstrip().startswith('<form id="comment-form"')
    assert 'role="alert">Le commentaire est vide.' in fragment
    assert 'aria-invalid="true"' in fragment
    assert count(Comment) == 0


def test_reaction_with_htmx_returns_the_updated_bar(
    client, login_as, member, community, create_post
):
    post = create_post(community, member)
    login_as(member)
    token = csrf(client)
    answer = client.post(
        f"/post/{post.id}/react",
        data={"csrf_token": token, "emoji": "💡", "next": "/"},
        headers=HTMX,
    )
    fragment = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<html" not in fragment
    assert fragment.lstrip().startswith(f'<div class="reaction-bar" id="reactions-{post.id}">')
    assert f'hx-target="#reactions-{post.id}" hx-swap="outerHTML"' in fragment
    assert '<input type="hidden" name="next" value="/">' in fragment
    button = re.search(r'<button[^>]*value="💡"[^>]*>', fragment).group(0)
    assert 'aria-pressed="true"' in button
    assert 'aria-label="Réagir avec 💡 (1)"' in button
    assert count(Reaction, Reaction.emoji == "💡") == 1

    again = client.post(
        f"/post/{post.id}/react", data={"csrf_token": token, "emoji": "💡"}, headers=HTMX
    ).get_data(as_text=True)
    button = re.search(r'<button[^>]*value="💡"[^>]*>', again).group(0)
    assert 'aria-pressed="false"' in button
    assert 'aria-label="Réagir avec 💡 (0)"' in button
    assert count(Reaction) == 0


def test_htmx_request_of_a_signed_out_visitor_redirects_the_whole_page(
    client, member, community, create_post
):
    post = create_post(community, member)
    answer = client.post(
        f"/post/{post.id}/react",
        data={"csrf_token": csrf(client), "emoji": "👍"},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost/post/{post.id}?x=1"},
    )
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == f"/login?next=/post/{post.id}?x%3D1"
    assert count(Reaction) == 0


def test_htmx_cannot_bypass_permissions(
    client, login_as, create_user, member, community, create_post
):
    post = create_post(community, member)
    login_as(create_user("oscar"))
    token = csrf(client)
    assert (
        client.post(
            f"/post/{post.id}/comments", data={"csrf_token": token, "body": "x"}, headers=HTMX
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/post/{post.id}/react", data={"csrf_token": token, "emoji": "👍"}, headers=HTMX
        ).status_code
        == 403
    )
    assert count(Comment) == 0
    assert count(Reaction) == 0


def test_reactions_of_a_reader_who_cannot_react_are_text_not_buttons(
    client, member, community, create_post
):
    from maillage.communities.posts.operations import toggle_reaction

    post = create_post(community, member)
    toggle_reaction(post, member, "🎉")
    db.session.commit()
    page = main_of(client.get(f"/post/{post.id}").get_data(as_text=True))
    assert 'name="emoji"' not in page
    assert "🎉 : 1 réaction" in page


def test_post_page_is_in_english_when_asked(client, login_as, member, community, create_post):
    post = create_post(community, member)
    client.set_cookie("lang", "en")
    page = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert 'lang="en"' in page


def test_every_page_has_one_h1_labelled_fields_and_text_buttons(
    client, login_as, member, community, create_post
):
    from maillage.communities.posts.operations import add_comment

    post = create_post(community, member)
    comment = add_comment(post, member, "Un avis")
    db.session.commit()
    login_as(member)
    token = csrf(client)
    pages = {
        "post": client.get(f"/post/{post.id}"),
        "composer": client.get("/c/numerique/posts/new"),
        "composer with error": client.post(
            "/c/numerique/posts", data={"csrf_token": token, "title": ""}
        ),
        "edit": client.get(f"/post/{post.id}/edit"),
        "delete post": client.get(f"/post/{post.id}/delete"),
        "delete comment": client.get(f"/comment/{comment.id}/delete"),
    }
    for name, response in pages.items():
        page = response.get_data(as_text=True)
        assert page.count("<h1") == 1, name
        for field_id in re.findall(r'<(?:input|textarea)[^>]*\sid="([^"]+)"', page):
            assert f'<label for="{field_id}"' in page, (name, field_id)
        for button in re.findall(r"<button[^>]*>(.*?)</button>", main_of(page), re.DOTALL):
            assert re.sub(r"<[^>]+>", "", button).strip(), (name, button)
