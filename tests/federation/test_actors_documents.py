"""Actor and object documents served by content negotiation at their id, and who may read them."""

from __future__ import annotations

import pytest

from maillage.federation.actors.serialize import PUBLIC
from maillage.platform.extensions import db

BASE = "https://maillage.test"
AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def get(client, path, headers=AP):
    return client.get(path, headers=headers, base_url=BASE)


def assert_activity_json(response, path):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == "application/activity+json"
    assert "Accept" in response.headers["Vary"]
    document = response.get_json(force=True)
    assert document["id"] == f"{BASE}{path}"
    return document


def test_person_document(client, create_user):
    create_user("claire", display_name="Claire Martin")
    person = assert_activity_json(get(client, "/u/claire"), "/u/claire")
    assert person["type"] == "Person"
    assert person["preferredUsername"] == "claire"
    assert person["name"] == "Claire Martin"
    assert person["inbox"] == f"{BASE}/u/claire/inbox"
    assert person["outbox"] == f"{BASE}/u/claire/outbox"
    assert person["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert person["publicKey"]["id"] == f"{BASE}/u/claire#main-key"
    assert person["publicKey"]["owner"] == f"{BASE}/u/claire"
    assert person["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "https://www.w3.org/ns/activitystreams" in person["@context"]


def test_group_document_has_the_fep_1b12_fields(client, create_community):
    create_community("Achats publics", slug="achats", description="Entre **acheteurs**.")
    group = assert_activity_json(get(client, "/c/achats", LD), "/c/achats")
    ap_id = f"{BASE}/c/achats"
    assert group["type"] == "Group"
    assert group["preferredUsername"] == "achats"
    assert group["name"] == "Achats publics"
    assert group["inbox"] == f"{ap_id}/inbox"
    assert group["outbox"] == f"{ap_id}/outbox"
    assert group["followers"] == f"{ap_id}/followers"
    assert group["featured"] == f"{ap_id}/featured"
    assert group["attributedTo"] == f"{ap_id}/moderators"
    assert group["endpoints"]["sharedInbox"] == f"{BASE}/inbox"
    assert group["publicKey"] == {
        "id": f"{ap_id}#main-key",
        "owner": ap_id,
        "publicKeyPem": group["publicKey"]["publicKeyPem"],
    }
    assert group["postingRestrictedToMods"] is False
    assert group["sensitive"] is False
    assert group["manuallyApprovesFollowers"] is False
    assert "<strong>acheteurs</strong>" in group["summary"]
    assert group["source"] == {"content": "Entre **acheteurs**.", "mediaType": "text/markdown"}


def test_group_asking_to_join_approves_followers_manually(client, create_community):
    create_community(slug="sur-demande", join_policy="request")
    group = assert_activity_json(get(client, "/c/sur-demande"), "/c/sur-demande")
    assert group["manuallyApprovesFollowers"] is True


def test_instance_actor(client):
    actor = assert_activity_json(get(client, "/actor", {}), "/actor")
    assert actor["type"] == "Application"
    assert actor["preferredUsername"] == "maillage.test"
    assert actor["publicKey"]["id"] == f"{BASE}/actor#main-key"
    assert actor["inbox"] == f"{BASE}/actor/inbox"


def test_post_as_page_and_comment_as_note(app, client, create_user, create_community, create_post):
    from maillage.communities.posts.operations import add_comment

    author = create_user("ines")
    community = create_community(slug="pages", owner=author)
    post = create_post(community, author, "Titre", "Du **gras**.")
    page = assert_activity_json(get(client, f"/post/{post.id}"), f"/post/{post.id}")
    assert page["type"] == "Page"
    assert page["name"] == "Titre"
    assert page["attributedTo"] == author.ap_id
    assert page["audience"] == community.ap_id
    assert page["to"] == [community.ap_id, PUBLIC]
    assert page["mediaType"] == "text/html"
    assert "<strong>gras</strong>" in page["content"]
    assert page["source"] == {"content": "Du **gras**.", "mediaType": "text/markdown"}
    assert page["published"].endswith("Z")

    comment = add_comment(post, author, "Bien **vu**")
    db.session.commit()
    note = assert_activity_json(get(client, f"/comment/{comment.id}"), f"/comment/{comment.id}")
    assert note["type"] == "Note"
    assert note["inReplyTo"] == post.ap_id
    assert note["audience"] == community.ap_id
    assert PUBLIC in note["to"]
    html = get(client, f"/comment/{comment.id}", BROWSER)
    assert html.status_code == 302
    assert html.headers["Location"].endswith(f"/post/{post.id}#comment-{comment.id}")


def test_topic_and_reply(app, client, create_user, create_community):
    from maillage.communities.discussions import operations as discussions

    author = create_user("yves")
    community = create_community(slug="forum", owner=author)
    topic = discussions.create_topic(community, author, "Une question", "Qui sait ?")
    reply = discussions.add_reply(topic, author, "Moi.")
    db.session.commit()
    page = assert_activity_json(get(client, f"/topic/{topic.id}"), f"/topic/{topic.id}")
    assert (page["type"], page["name"], page["audience"]) == (
        "Page",
        "Une question",
        community.ap_id,
    )
    note = assert_activity_json(get(client, f"/reply/{reply.id}"), f"/reply/{reply.id}")
    assert (note["type"], note["inReplyTo"]) == ("Note", topic.ap_id)


def test_browsers_still_get_html(client, create_user, create_community, create_post):
    user = create_user("hugo")
    community = create_community(slug="html", owner=user)
    post = create_post(community, user)
    for path in ("/u/hugo", "/c/html", f"/post/{post.id}"):
        response = get(client, path, BROWSER)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html"
        assert "Accept" in response.headers["Vary"]
    assert get(client, "/c/html", {"Accept": "*/*"}).mimetype == "text/html"


def test_secret_community_and_its_content_are_404(client, create_user, create_community):
    from maillage.communities.posts.operations import create_post

    owner = create_user()
    community = create_community(owner=owner, visibility="secret")
    post = create_post(community, owner, "Secret", "chut")
    db.session.commit()
    assert get(client, f"/c/{community.slug}").status_code == 404
    assert get(client, f"/post/{post.id}").status_code == 404
    for collection in ("outbox", "followers", "moderators", "featured"):
        assert get(client, f"/c/{community.slug}/{collection}").status_code == 404


def test_private_community_needs_a_signed_get(client, create_user, create_community, create_post):
    owner = create_user()
    community = create_community(owner=owner, visibility="private", slug="privee")
    post = create_post(community, owner)
    assert get(client, "/c/privee").status_code == 404
    assert get(client, f"/post/{post.id}").status_code == 404
    assert get(client, "/c/privee/outbox").status_code == 404
    assert get(client, "/c/privee", BROWSER).status_code == 200  # its HTML page is listed


def test_unknown_and_remote_actors_are_not_served(app, client, create_user):
    from maillage.communities.users.models import User

    remote = User(
        username="bob@ailleurs.example",
        display_name="Bob",
        ap_id="https://ailleurs.example/u/bob",
        local=False,
    )
    db.session.add(remote)
    db.session.commit()
    assert get(client, "/u/bob@ailleurs.example").status_code == 404
    assert get(client, "/u/personne").status_code == 404
    assert get(client, "/post/999999").status_code == 404
    assert get(client, "/comment/abc").status_code == 404


def test_inactive_person_is_404(app, client, create_user):
    user = create_user("parti")
    user.is_active = False
    db.session.commit()
    assert get(client, "/u/parti").status_code == 404


def test_uppercase_address_redirects_to_the_id(client, create_user):
    create_user("zoe")
    response = get(client, "/u/Zoe")
    assert response.status_code == 308
    assert response.headers["Location"] == f"{BASE}/u/zoe"


@pytest.mark.parametrize("method", ["post", "put"])
def test_only_reads_are_negotiated(client, create_user, method):
    create_user("lou")
    response = getattr(client, method)("/u/lou", headers=AP, base_url=BASE)
    assert response.headers.get("Content-Type") != "application/activity+json"
