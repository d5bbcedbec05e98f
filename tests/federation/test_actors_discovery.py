"""WebFinger, NodeInfo and the collections of our actors, over HTTP."""

from __future__ import annotations

import pytest

from maillage.communities.users.models import User
from maillage.platform.extensions import db

BASE = "https://maillage.test"
AP = {"Accept": "application/activity+json"}


def webfinger(client, resource):
    return client.get("/.well-known/webfinger", query_string={"resource": resource}, base_url=BASE)


def self_links(document):
    return [link for link in document["links"] if link["rel"] == "self"]


def test_webfinger_of_a_person(client, create_user):
    create_user("camille")
    response = webfinger(client, "acct:camille@maillage.test")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jrd+json"
    document = response.get_json(force=True)
    assert document["subject"] == "acct:camille@maillage.test"
    assert self_links(document) == [
        {
            "rel": "self",
            "type": "application/activity+json",
            "href": f"{BASE}/u/camille",
            "properties": {"https://www.w3.org/ns/activitystreams#type": "Person"},
        }
    ]


def test_webfinger_of_a_community_like_lemmy(client, create_community):
    create_community(slug="urbanisme")
    document = webfinger(client, "acct:urbanisme@maillage.test").get_json(force=True)
    assert document["subject"] == "acct:urbanisme@maillage.test"
    [link] = self_links(document)
    assert link["href"] == f"{BASE}/c/urbanisme"
    assert link["type"] == "application/activity+json"
    assert link["properties"]["https://www.w3.org/ns/activitystreams#type"] == "Group"


def test_webfinger_subject_is_canonical_and_urls_are_accepted(client, create_user):
    create_user("jules")
    for resource in ("acct:Jules@maillage.test", "acct:jules@MAILLAGE.test", f"{BASE}/u/jules"):
        document = webfinger(client, resource).get_json(force=True)
        assert document["subject"] == "acct:jules@maillage.test", resource


def test_webfinger_person_and_community_of_the_same_name(client, create_user, create_community):
    create_user("sante")
    create_community(slug="sante")
    document = webfinger(client, "acct:sante@maillage.test").get_json(force=True)
    kinds = {
        link["properties"]["https://www.w3.org/ns/activitystreams#type"]
        for link in self_links(document)
    }
    assert kinds == {"Person", "Group"}


def test_webfinger_of_the_instance_actor(client):
    document = webfinger(client, "acct:maillage.test@maillage.test").get_json(force=True)
    assert self_links(document)[0]["href"] == f"{BASE}/actor"


@pytest.mark.parametrize(
    "resource",
    [
        "acct:personne@maillage.test",
        "acct:camille@ailleurs.example",
        "acct:camille",
        "https://ailleurs.example/u/camille",
        f"{BASE}/post/1",
        "mailto:camille@maillage.test",
    ],
)
def test_webfinger_404(client, create_user, resource):
    create_user("camille")
    assert webfinger(client, resource).status_code == 404


def test_webfinger_without_resource_is_400(client):
    assert client.get("/.well-known/webfinger", base_url=BASE).status_code == 400


def test_webfinger_hides_secret_communities(client, create_community):
    community = create_community(visibility="secret")
    assert webfinger(client, f"acct:{community.slug}@maillage.test").status_code == 404


def test_webfinger_does_not_serve_remote_shadows(client):
    db.session.add(
        User(
            username="bob@ailleurs.example",
            display_name="Bob",
            ap_id="https://ailleurs.example/u/bob",
            local=False,
        )
    )
    db.session.commit()
    assert webfinger(client, "acct:bob@ailleurs.example").status_code == 404
    assert webfinger(client, "acct:bob@ailleurs.example@maillage.test").status_code == 404


def test_nodeinfo_discovery_and_documents(client, create_user, create_community, create_post):
    user = create_user()
    create_post(create_community(owner=user), user)
    links = client.get("/.well-known/nodeinfo", base_url=BASE).get_json()["links"]
    assert {link["href"] for link in links} == {f"{BASE}/nodeinfo/2.0", f"{BASE}/nodeinfo/2.1"}
    assert {link["rel"] for link in links} == {
        "http://nodeinfo.diaspora.software/ns/schema/2.0",
        "http://nodeinfo.diaspora.software/ns/schema/2.1",
    }
    for version in ("2.0", "2.1"):
        response = client.get(f"/nodeinfo/{version}", base_url=BASE)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        document = response.get_json()
        assert document["version"] == version
        assert document["software"]["name"] == "maillage"
        assert document["protocols"] == ["activitypub"]
        assert document["usage"]["users"]["total"] == 1
        assert document["usage"]["localPosts"] == 1
    assert client.get("/nodeinfo/3.0", base_url=BASE).status_code == 404


def test_community_outbox_is_paged(client, create_user, create_community, create_post):
    from maillage.federation.actors.collections import PAGE_SIZE

    user = create_user()
    community = create_community(owner=user, slug="boite")
    posts = [create_post(community, user, f"Publication {n}") for n in range(PAGE_SIZE + 2)]
    response = client.get("/c/boite/outbox", headers=AP, base_url=BASE)
    assert response.headers["Content-Type"] == "application/activity+json"
    outbox = response.get_json(force=True)
    assert outbox["id"] == f"{BASE}/c/boite/outbox"
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == PAGE_SIZE + 2
    first = outbox["orderedItems"][0]
    assert first["type"] == "Announce"
    assert first["actor"] == community.ap_id
    assert first["object"]["type"] == "Create"
    assert first["object"]["object"]["id"] == posts[-1].ap_id
    next_url = outbox["next"]
    page = client.get(next_url.removeprefix(BASE), base_url=BASE).get_json(force=True)
    assert page["type"] == "OrderedCollectionPage"
    assert page["partOf"] == outbox["id"]
    assert [item["object"]["object"]["id"] for item in page["orderedItems"]] == [
        posts[1].ap_id,
        posts[0].ap_id,
    ]
    assert "next" not in page


def test_followers_collection_shows_only_its_size(client, create_community):
    create_community(slug="suivie")
    followers = client.get("/c/suivie/followers", base_url=BASE).get_json(force=True)
    assert followers["id"] == f"{BASE}/c/suivie/followers"
    assert followers["type"] == "OrderedCollection"
    assert isinstance(followers["totalItems"], int)
    assert "orderedItems" not in followers


def test_moderators_collection(client, create_user, create_community):
    owner, moderator, member = create_user("patronne"), create_user("modo"), create_user("membre")
    create_community(
        slug="moderee", owner=owner, members=[(moderator, "moderator"), (member, "member")]
    )
    document = client.get("/c/moderee/moderators", base_url=BASE).get_json(force=True)
    assert document["orderedItems"] == [f"{BASE}/u/patronne", f"{BASE}/u/modo"]


def test_featured_lists_pinned_topics(app, client, create_user, create_community):
    from maillage.communities.discussions import operations as discussions

    owner = create_user()
    community = create_community(owner=owner, slug="epingles")
    pinned = discussions.create_topic(community, owner, "Charte", "À lire.")
    discussions.create_topic(community, owner, "Autre", "Rien.")
    pinned.pinned = True
    db.session.commit()
    document = client.get("/c/epingles/featured", base_url=BASE).get_json(force=True)
    assert [item["id"] for item in document["orderedItems"]] == [pinned.ap_id]
    assert document["orderedItems"][0]["stickied"] is True


def test_user_outbox_leaves_private_communities_out(
    client, create_user, create_community, create_post
):
    user = create_user("auteur")
    public = create_community(owner=user)
    private = create_community(owner=user, visibility="private")
    shown = create_post(public, user)
    create_post(private, user)
    outbox = client.get("/u/auteur/outbox", base_url=BASE).get_json(force=True)
    assert outbox["totalItems"] == 1
    assert [item["object"]["id"] for item in outbox["orderedItems"]] == [shown.ap_id]
    assert client.get("/u/personne/outbox", base_url=BASE).status_code == 404
