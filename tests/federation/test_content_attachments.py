"""Links and images of remote posts survive, as their software sends them; titles keep spaces.

Recorded payloads of Lemmy (``Image`` attachment and ``Link``), Mobilizon (``Document`` banner,
top-level ``url``) and PeerTube (``url`` as a list of Links) are posted by the test peer; the
images are served by a real HTTP server on loopback and must reach the page as our own
re-encoded copy (``/media/remote/<key>``), never as the remote URL.
"""

from __future__ import annotations

import io
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from maillage.communities.posts.models import Comment, Post
from maillage.federation.actors.models import RemoteMedia
from maillage.federation.groups.models import InboxActivity
from maillage.platform.extensions import db

BASE = "https://maillage.test"
LEMMY_GROUP = "https://enterprise.lemmy.ml/c/tenforward"
MEDIA = re.compile(r'<img src="https://maillage\.test/media/remote/([0-9a-f]{32})" alt="([^"]*)"')


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


class ImageServer:
    """Serves ``/image.png`` (a real PNG), ``/script.png`` (HTML pretending to be an image)
    and 404 for anything else; counts the requests of each path."""

    def __init__(self, address: str = "127.0.0.9"):
        self.hits: dict[str, int] = {}
        self.files = {"/image.png": _png(), "/script.png": b"<script>alert(1)</script>"}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body = server.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((address, 0), Handler)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def images():
    server = ImageServer()
    yield server
    server.close()


@pytest.fixture
def community(create_community):
    return create_community("Main", slug="main")


@pytest.fixture
def send(client, test_peer, community):
    """``send(document) -> row``: the peer's Create of ``document`` in our community."""

    def do(document: dict):
        document.setdefault("audience", community.ap_id)
        author = document.get("attributedTo")
        author = author[0] if isinstance(author, list) else author
        author = author.get("id") if isinstance(author, dict) else author
        document["attributedTo"] = author
        activity = test_peer.activity("Create", document, actor=author)
        assert test_peer.post(client, "/inbox", activity).status_code == 202
        status = db.session.scalar(
            select(InboxActivity.status).where(InboxActivity.activity_id == activity["id"])
        )
        assert status == "done"
        model = Comment if document.get("inReplyTo") else Post
        return db.session.scalar(select(model).where(model.ap_id == document["id"]))

    return do


def test_lemmy_image_attachment_and_link(client, send, rewrite, load_fixture, images, community):
    page = rewrite(
        load_fixture("lemmy/objects/page_image_and_link.json"), {LEMMY_GROUP: community.ap_id}
    )
    page["attachment"][0]["url"] = page["image"]["url"] = f"{images.base_url}/image.png"
    link = page["attachment"][1]["href"]
    post = send(page)
    assert post.title == "Post with image and link"
    assert "This is a post with both an image and a link attachment" in post.body_html
    assert f'href="{link}"' in post.body_html
    [(key, alt)] = MEDIA.findall(post.body_html)
    assert alt == "Image jointe"
    assert images.base_url not in post.body_html  # never the remote image itself
    assert images.hits["/image.png"] == 1  # ``image`` and the attachment: one fetch

    response = client.get(f"/media/remote/{key}", base_url=BASE)
    assert response.status_code == 200
    assert response.mimetype in ("image/png", "image/jpeg")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.data != images.files["/image.png"]  # decoded and encoded again
    response.close()
    assert client.get(f"/media/remote/{'0' * 32}", base_url=BASE).status_code == 404


def test_mobilizon_document_banner_and_url(send, rewrite, load_fixture, images):
    event = rewrite(load_fixture("mobilizon/objects/event.json"))
    event["attachment"][0]["url"] = f"{images.base_url}/image.png"
    post = send(event)
    assert post.title == "Caledonian scottish dance class"
    [(_key, alt)] = MEDIA.findall(post.body_html)
    assert alt == "Banner"
    assert f'href="{event["url"]}"' in post.body_html
    assert "£6 each." in post.body_html


def test_peertube_url_list_gives_the_watch_page(send, rewrite, load_fixture, images):
    video = rewrite(load_fixture("peertube/objects/video.json"))
    for icon in video["icon"]:
        icon["url"] = f"{images.base_url}/image.png"
    watch_page = video["url"][0]["href"]
    post = send(video)
    assert post.title.startswith("Mesa, Wayland & X.org in trouble")
    assert f'href="{watch_page}"' in post.body_html
    assert ".m3u8" not in post.body_html  # the stream is not the page
    assert len(MEDIA.findall(post.body_html)) == 1  # its thumbnail


def test_a_link_alone_is_not_an_empty_body(send, test_peer):
    """Lemmy before 0.17 and others: no content, the link is the top-level ``url``."""
    page = {
        "id": f"{test_peer.base_url}/post/77",
        "type": "Page",
        "attributedTo": test_peer.person_id("alice"),
        "name": "Un lien",
        "url": "https://example.org/article",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    post = send(page)
    assert "<https://example.org/article>" in post.body_source
    assert 'href="https://example.org/article"' in post.body_html


def test_an_image_that_cannot_be_had_stays_a_link(send, test_peer, images):
    page = {
        "id": f"{test_peer.base_url}/post/78",
        "type": "Page",
        "attributedTo": test_peer.person_id("alice"),
        "name": "Images",
        "content": "<p>Deux images</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "attachment": [
            {"type": "Image", "url": f"{images.base_url}/missing.png"},
            {"type": "Document", "mediaType": "image/png", "url": f"{images.base_url}/script.png"},
            {"type": "Image", "url": "https://10.1.2.3/private.png"},  # refused address
        ],
    }
    post = send(page)
    assert "<img" not in post.body_html
    for url in (f"{images.base_url}/missing.png", f"{images.base_url}/script.png"):
        assert f'href="{url}"' in post.body_html
    assert db.session.scalar(select(RemoteMedia.id)) is None


def test_images_of_a_mastodon_reply(send, rewrite, load_fixture, images, test_peer, community):
    """A comment keeps its image (Mastodon's ``Document``), without a link of its own."""
    page = send(
        {
            "id": f"{test_peer.base_url}/post/79",
            "type": "Page",
            "attributedTo": test_peer.person_id("alice"),
            "name": "Sujet",
            "content": "<p>Texte</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        }
    )
    note = rewrite(load_fixture("mastodon/objects/note_2.json"))
    note["inReplyTo"] = page.ap_id
    note["attachment"][0]["url"] = f"{images.base_url}/image.png"
    comment = send(note)
    assert comment.post_id == page.id
    [(_key, alt)] = MEDIA.findall(comment.body_html)
    assert alt  # Mastodon's description of the image
    assert f'href="{note["url"]}"' not in comment.body_html


def test_title_from_html_paragraphs_keeps_a_space(send, rewrite, load_fixture):
    """Mastodon: no ``name``, the title comes from the content's paragraphs."""
    note = rewrite(load_fixture("mastodon/objects/page.json"))
    post = send(note)
    assert post.title.startswith("@tenforward Variable never resetting at refresh Hi! I'm using")


def test_actor_summaries_and_titles_share_the_helper():
    from maillage.federation.actors.documents import plain_text
    from maillage.federation.text import one_line

    html = "<p>Test post</p><p>to community@ailleurs</p><ul><li>un</li><li>deux</li></ul>"
    assert one_line(html) == "Test post to community@ailleurs un deux"
    assert plain_text(html) == "Test post\n\nto community@ailleurs\n\nun\n\ndeux"
