"""A tombstone says no more than the live object did.

Security review: every deleted local object answered ``410 Gone`` with its former type and its
deletion time, whatever its community's visibility — a post of a secret community, 404 to
outsiders while it lived, became a 410 once deleted, and a deleted secret community's address
answered 410 too.  Now only what anyone could read answers 410; the id of anything else answers
the very 404 of an id that never existed, and a retired secret or private community's address is
refused with the words of an address in use (those a live secret community's address gets).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.communities.community import operations as communities
from maillage.communities.posts import operations as posts
from maillage.federation.actors.models import Tombstone
from maillage.federation.actors.tombstones import IdRetired
from maillage.federation.transport.operations import set_instance_policy
from maillage.platform.errors import Conflict
from maillage.platform.extensions import db

BASE = "https://maillage.test"
AP = {"Accept": "application/activity+json"}
UNKNOWN = {"post": "/post/987654321", "c": "/c/adresse-inconnue"}


def _signed_get(client, peer, path):
    headers = peer.sign("GET", f"{BASE}{path}", None, peer.key_id(peer.person_id("alice")))
    headers.pop("Host")  # the test client sends it from base_url
    return client.get(path, headers=headers, base_url=BASE)  # signed: Accept included


def _same_as_unknown(client, path: str, unknown: str, **kwargs) -> None:
    """``path`` answers exactly what an id that never existed answers (status, headers, body
    once the path itself is set aside)."""
    got = client.get(path, base_url=BASE, **kwargs)
    expected = client.get(unknown, base_url=BASE, **kwargs)
    assert got.status_code == expected.status_code == 404
    assert _headers(got) == _headers(expected)
    assert _body(got, path) == _body(expected, unknown)


def _headers(response) -> dict:
    """The headers, the session cookie's signed value set aside (it holds a timestamp)."""
    return {
        name: re.sub(r"^session=[^;]*", "session=…", value) if name == "Set-Cookie" else value
        for name, value in response.headers.items()
        if name not in ("Content-Length", "Date")
    }


def _body(response, path: str) -> str:
    text = response.get_data(as_text=True).replace(path, "<path>")
    text = re.sub(r'nonce="[^"]*"', 'nonce=""', text)
    # CSRF tokens carry a timestamp: two pages a second apart differ there and nowhere else
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', text)


@pytest.fixture
def allow_listed(test_peer, create_user):
    set_instance_policy(create_user(is_admin=True), test_peer.domain, "allowed")
    db.session.commit()
    return test_peer


@pytest.mark.parametrize("visibility", ["secret", "private"])
def test_deleted_members_only_post_is_404_like_an_unknown_id(
    client, create_user, create_community, create_post, visibility
):
    owner = create_user()
    post = create_post(create_community(owner=owner, visibility=visibility), owner)
    path = f"/post/{post.id}"
    assert client.get(path, base_url=BASE, headers=AP).status_code == 404  # while it lived
    posts.delete_post(post, owner)
    db.session.commit()

    _same_as_unknown(client, path, UNKNOWN["post"], headers=AP)  # ActivityPub fetch
    _same_as_unknown(client, path, UNKNOWN["post"])  # a browser
    assert db.session.scalar(select(Tombstone.public)) is False  # retired all the same


def test_allow_listed_peer_gets_404_for_a_deleted_private_post_too(
    client, allow_listed, create_user, create_community, create_post
):
    """It read the post while it lived; once deleted it gets 404 as well (see the module
    docstring of ``tombstones``: a 410 for signed fetches only would tell signers which ids
    were private tombstones)."""
    owner = create_user()
    post = create_post(create_community(owner=owner, visibility="private"), owner)
    path = f"/post/{post.id}"
    assert _signed_get(client, allow_listed, path).status_code == 200
    posts.delete_post(post, owner)
    db.session.commit()
    assert _signed_get(client, allow_listed, path).status_code == 404


def test_deleted_public_post_still_answers_410(client, create_user, create_community, create_post):
    owner = create_user()
    post = create_post(create_community(owner=owner), owner)
    comment = posts.add_comment(post, owner, "Un commentaire")
    db.session.commit()
    ap_ids = (post.ap_id, comment.ap_id)
    posts.delete_post(post, owner)
    db.session.commit()
    for ap_id in ap_ids:
        response = client.get(ap_id, base_url=BASE, headers=AP)
        assert response.status_code == 410
        assert response.get_json()["type"] == "Tombstone"


def test_hidden_post_of_a_public_community_stays_404_once_deleted(
    client, create_user, create_community, create_post
):
    """Hidden by moderation, it was 404 to outsiders: its tombstone is not public either."""
    owner = create_user()
    post = create_post(create_community(owner=owner), owner)
    posts.add_comment(post, owner, "Un commentaire")
    post.hidden_at = db.func.now()
    db.session.commit()
    path = f"/post/{post.id}"
    assert client.get(path, base_url=BASE, headers=AP).status_code == 404
    posts.delete_post(post, owner)
    db.session.commit()
    _same_as_unknown(client, path, UNKNOWN["post"], headers=AP)
    assert set(db.session.scalars(select(Tombstone.public))) == {False}  # its comments too


def _delete_community(community) -> str:
    slug = community.slug
    db.session.delete(community)
    db.session.commit()
    return slug


@pytest.mark.parametrize("visibility", ["secret", "private"])
def test_deleted_members_only_community_address_is_404_and_refused_as_in_use(
    client, create_user, create_community, visibility
):
    owner = create_user()
    slug = _delete_community(create_community("Cercle", owner=owner, visibility=visibility))

    _same_as_unknown(client, f"/c/{slug}", UNKNOWN["c"], headers=AP)
    _same_as_unknown(client, f"/c/{slug}", UNKNOWN["c"])
    with pytest.raises(Conflict) as retired:
        communities.create_community(create_user(), "Autre", slug=slug)
    db.session.rollback()

    # The words an address taken by a live community the person cannot see get.
    hidden = create_community("Caché", owner=owner, visibility="secret")
    with pytest.raises(Conflict) as in_use:
        communities.create_community(create_user(), "Autre", slug=hidden.slug)
    db.session.rollback()
    assert retired.value.message == in_use.value.message
    assert retired.value.params == {"slug": slug}
    assert "supprim" not in str(retired.value)


def test_creation_form_says_only_in_use_for_a_retired_secret_address(
    client, login_as, create_user, create_community
):
    owner = create_user()
    slug = _delete_community(create_community("Cercle", owner=owner, visibility="secret"))
    hidden = create_community("Caché", owner=owner, visibility="secret")
    login_as(create_user())

    def refusal(address: str) -> str:
        page = client.get("/communities/new").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post(
            "/communities/new",
            data={
                "csrf_token": token,
                "name": "Autre",
                "slug": address,
                "visibility": "public",
                "join_policy": "open",
            },
        )
        assert response.status_code == 400
        return _body(response, address)

    assert refusal(slug) == refusal(hidden.slug)
    assert "supprim" not in refusal(slug)


def test_deleted_public_community_answers_410_and_says_its_address_was_retired(
    client, create_user, create_community
):
    owner = create_user()
    slug = _delete_community(create_community("Ouvert", owner=owner))
    response = client.get(f"/c/{slug}", base_url=BASE, headers=AP)
    assert response.status_code == 410
    assert response.get_json()["formerType"] == "Group"
    with pytest.raises(IdRetired):
        communities.create_community(create_user(), "Autre", slug=slug)
    db.session.rollback()


def test_retiring_comments_in_bulk_costs_the_same_for_one_or_many(
    create_user, create_community, create_post, count_queries
):
    """Whether each bulk-deleted comment was public is read from rows loaded in one query."""
    owner = create_user()
    community = create_community(owner=owner)
    costs = []
    for count in (1, 6):
        post = create_post(community, owner)
        for n in range(count):
            posts.add_comment(post, owner, f"Commentaire {n}")
        db.session.commit()
        with count_queries() as queries:
            posts.delete_post(post, owner)
            db.session.commit()
        # One row written per tombstone, of course; nothing else grows with the comments.
        costs.append([q for q in queries if "INSERT INTO federation_tombstones" not in q])
    assert len(costs[0]) == len(costs[1])
    assert set(db.session.scalars(select(Tombstone.public))) == {True}
