"""NodeInfo counts only what anyone may read: public communities' posts and comments."""

from __future__ import annotations

import pytest

from maillage.communities.posts.operations import add_comment
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

BASE = "https://maillage.test"


@pytest.fixture
def contents(create_user, create_community, create_post):
    """Two visible posts (one comment on each) in a public community; more in a private and a
    secret one, and a hidden post (with its comment) in the public one."""
    author = create_user()
    public = create_community(owner=author)
    for visibility in ("private", "secret"):
        hidden_away = create_community(owner=author, visibility=visibility)
        for _ in range(3):
            add_comment(create_post(hidden_away, author), author, "Entre nous.")
    for _ in range(2):
        add_comment(create_post(public, author), author, "Bien vu.")
    moderated = create_post(public, author, "Masqué")
    add_comment(moderated, author, "Sous un contenu masqué.")
    moderated.hidden_at = utcnow()
    db.session.commit()


def _usage(client) -> dict:
    return client.get("/nodeinfo/2.1", base_url=BASE).get_json()["usage"]


def test_only_public_visible_content_is_counted(client, contents):
    usage = _usage(client)
    assert usage["localPosts"] == 2
    assert usage["localComments"] == 2


def test_counts_cost_two_queries_then_none(app, client, contents, count_queries):
    """Peers fetch NodeInfo often: two counting queries, then the numbers are kept a while."""
    from maillage.federation.actors.views import _public_content_counts

    with app.test_request_context():
        with count_queries() as first:
            assert _public_content_counts()["localPosts"] == 2
        with count_queries() as again:
            _public_content_counts()
    assert len([q for q in first if "count(" in q.lower()]) == 2
    assert again == []
