"""Regression tests of the known fediverse vulnerability classes, one section each.

Where a test elsewhere already proves a fix, it is named here (not moved):

Origin mismatch (Mastodon CVE-2024-23832: an actor of host A passing off an object of host B)
  - test_groups_inbox.py::test_activity_id_of_another_origin_is_refused
  - test_groups_behaviour.py::test_object_of_another_origin_is_rejected,
    ::test_object_attributed_to_someone_else_is_rejected
  - test_actors_resolve.py (actor documents whose id is on another host)
Signature bypass
  - test_transport_signatures.py::test_unsupported_algorithm_and_missing_host_coverage,
    ::test_tampered_body_is_refused, ::test_replaced_digest_is_refused,
    ::test_other_target_is_refused, ::test_date_outside_the_window_is_refused,
    ::test_signature_by_another_key_is_refused
  - test_groups_inbox.py::test_unsigned_activity_is_refused, ::test_bad_signature_is_refused,
    ::test_digest_mismatch_is_refused, ::test_stale_date_is_refused,
    ::test_key_of_another_actor_is_refused (keyId of another actor)
  - test_groups_flows.py::test_request_signed_for_another_host_is_refused (replay, Host)
SSRF (0.0.0.0, mapped IPv6, metadata, private ranges, names, redirects)
  - test_transport_fetch.py::test_private_destinations_are_refused_before_connecting,
    ::test_loopback_setting_allows_loopback_only, ::test_address_rules,
    ::test_redirect_to_a_private_address_is_refused, ::test_plain_http_is_refused_...
Fetch budget: test_transport_fetch.py::test_budget_limits_the_fetches_of_one_activity
Oversized bodies: test_groups_inbox.py::test_oversized_body_is_refused (declared length),
  test_transport_fetch.py::test_body_over_one_megabyte_is_refused (fetched documents)
Announce: test_groups_behaviour.py::test_unsigned_announce_is_refused,
  ::test_announce_signed_by_someone_else_than_the_group_is_refused,
  ::test_announce_of_another_groups_content_is_rejected
"""

from __future__ import annotations

import base64
import hmac
import io
import json
import socket

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from sqlalchemy import select

from maillage.communities.posts.models import Post
from maillage.federation.groups.models import InboxActivity
from maillage.federation.transport.fetch import FetchBudget, FetchError, fetch_object
from maillage.platform.extensions import db

BASE = "https://maillage.test"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def community(create_community):
    return create_community("Main", slug="main")


def _rows():
    db.session.expire_all()
    return list(db.session.scalars(select(InboxActivity)))


def _signing_string(headers: dict, covered: list[str], path: str = "/inbox") -> bytes:
    lines = []
    for name in covered:
        value = f"post {path}" if name == "(request-target)" else headers[name.title()]
        lines.append(f"{name}: {value}")
    return "\n".join(lines).encode()


def _resign(peer, headers: dict, covered: list[str], *, algorithm="rsa-sha256", sign=None):
    """Headers whose Signature covers ``covered`` only, made with the peer's RSA key (or
    ``sign(data) -> bytes``)."""
    key_id = json.loads('"' + headers["Signature"].split('keyId="', 1)[1].split('"', 1)[0] + '"')
    data = _signing_string(headers, covered)
    if sign is None:
        private = serialization.load_pem_private_key(peer.private_key_pem.encode(), None)
        signature = private.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = sign(data)
    value = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return {**headers, "Signature": value}


# -- origin mismatch (CVE-2024-23832) --------------------------------------------------------


def test_actor_of_host_a_cannot_create_an_object_of_host_b(
    client, test_peer, other_peer, community
):
    actor = test_peer.person_id("alice")
    page = {
        "type": "Page",
        "id": f"{other_peer.base_url}/post/1",  # on host B
        "attributedTo": actor,
        "to": [community.ap_id, PUBLIC],
        "audience": community.ap_id,
        "name": "Usurpé",
        "content": "<p>x</p>",
    }
    create = test_peer.activity("Create", page, actor=actor, audience=community.ap_id)
    assert test_peer.post(client, "/inbox", create).status_code == 202
    [row] = _rows()
    assert row.status == "rejected"
    assert db.session.scalar(select(Post)) is None


def test_actor_cannot_claim_another_hosts_actor(client, test_peer, other_peer, community):
    """The activity names an actor of host B, signed with host A's key: 403 at the door."""
    follow = test_peer.activity("Follow", community.ap_id, actor=other_peer.person_id("bob"))
    response = test_peer.post(
        client, "/inbox", follow, key_id=test_peer.key_id(test_peer.person_id("alice"))
    )
    assert response.status_code == 403
    assert _rows() == []


# -- signature bypass variants -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("covered", "reason"),
    [
        (["(request-target)", "host", "date"], "digest"),  # the body is not covered
        (["(request-target)", "date", "digest"], "host"),
        (["host", "date", "digest"], "request-target"),
        (["(request-target)", "host", "digest"], "date"),
    ],
)
def test_signature_over_an_incomplete_header_set_is_refused(
    client, test_peer, community, covered, reason
):
    follow = test_peer.activity("Follow", community.ap_id)
    response = test_peer.post(
        client,
        "/inbox",
        follow,
        tamper=lambda headers, body: (_resign(test_peer, headers, covered), body),
    )
    assert response.status_code == 401
    assert reason in response.get_json()["error"]
    assert _rows() == []


def test_incomplete_header_set_is_refused_even_with_a_forged_body(client, test_peer, community):
    """Without the digest covered, the body could be swapped after signing."""
    follow = test_peer.activity("Follow", community.ap_id)
    forged = json.dumps({**follow, "object": "https://maillage.test/c/autre"}).encode()
    covered = ["(request-target)", "host", "date", "content-type"]
    response = test_peer.post(
        client,
        "/inbox",
        follow,
        tamper=lambda headers, _body: (
            _resign(test_peer, {k: v for k, v in headers.items() if k != "Digest"}, covered),
            forged,
        ),
    )
    assert response.status_code == 401


def _serve_actor_with_key(peer, name: str, public_pem: str) -> str:
    actor_id = peer.person_id(name)
    document = peer.actor_document(actor_id)
    document["publicKey"] = {
        "id": f"{actor_id}#main-key",
        "owner": actor_id,
        "publicKeyPem": public_pem,
    }
    peer.documents[f"/u/{name}"] = document
    return actor_id


def _public_pem(private) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


ALL = ["(request-target)", "host", "date", "digest", "content-type"]


def test_hs2019_with_an_ec_key_is_refused(client, test_peer, community):
    private = ec.generate_private_key(ec.SECP256R1())
    actor = _serve_actor_with_key(test_peer, "eve", _public_pem(private))
    follow = test_peer.activity("Follow", community.ap_id, actor=actor)

    def ecdsa(data: bytes) -> bytes:
        return private.sign(data, ec.ECDSA(hashes.SHA256()))

    response = test_peer.post(
        client,
        "/inbox",
        follow,
        tamper=lambda h, b: (_resign(test_peer, h, ALL, algorithm="hs2019", sign=ecdsa), b),
    )
    assert response.status_code == 401
    assert _rows() == []


def test_hmac_with_the_public_key_as_secret_is_refused(client, test_peer, community):
    """The JWT-style confusion: an HMAC keyed with the (public) PEM of the actor."""
    follow = test_peer.activity("Follow", community.ap_id)
    secret = test_peer.public_key_pem.encode()

    def mac(data: bytes) -> bytes:
        return hmac.new(secret, data, "sha256").digest()

    for algorithm in ("hs2019", "hmac-sha256", "rsa-sha256"):
        response = test_peer.post(
            client,
            "/inbox",
            follow,
            tamper=lambda h, b, a=algorithm: (_resign(test_peer, h, ALL, algorithm=a, sign=mac), b),
        )
        assert response.status_code == 401
    assert _rows() == []


def test_rsa_sha256_label_with_an_ed25519_key_is_refused(client, test_peer, community):
    private = ed25519.Ed25519PrivateKey.generate()
    actor = _serve_actor_with_key(test_peer, "mallory", _public_pem(private))
    follow = test_peer.activity("Follow", community.ap_id, actor=actor)
    response = test_peer.post(
        client,
        "/inbox",
        follow,
        tamper=lambda h, b: (_resign(test_peer, h, ALL, sign=private.sign), b),
    )
    assert response.status_code == 401


def test_duplicated_signature_headers_are_refused(client, test_peer, other_peer, community):
    follow = test_peer.activity("Follow", community.ap_id)
    body = json.dumps(follow).encode()
    good = test_peer.sign("POST", f"{BASE}/inbox", body, test_peer.key_id(follow["actor"]))
    other = other_peer.sign(
        "POST", f"{BASE}/inbox", body, other_peer.key_id(other_peer.person_id("bob"))
    )
    headers = [(name, value) for name, value in good.items()]
    headers.append(("Signature", other["Signature"]))
    response = client.post("/inbox", data=body, headers=headers, base_url=BASE)
    assert response.status_code == 401
    headers = [("Signature", other["Signature"])] + [(n, v) for n, v in good.items()]
    assert client.post("/inbox", data=body, headers=headers, base_url=BASE).status_code == 401
    assert _rows() == []


# -- SSRF ---------------------------------------------------------------------------------------


@pytest.fixture
def private_dns(monkeypatch):
    """Names that resolve to internal addresses (the DNS is the attacker's)."""
    real = socket.getaddrinfo
    names = {
        "intranet.example": "10.1.2.3",
        "metadata.example": "169.254.169.254",
        "zero.example": "0.0.0.0",
        "mapped.example": "::ffff:127.0.0.1",
    }

    def fake(host, port, *args, **kwargs):
        if host in names:
            address = names[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return names


@pytest.mark.parametrize(
    "url",
    [
        "https://0.0.0.0/actor",
        "https://[::ffff:127.0.0.1]/actor",
        "https://169.254.169.254/latest/meta-data/",
        "https://intranet.example/actor",
        "https://metadata.example/latest/meta-data/",
        "https://zero.example/actor",
        "https://mapped.example/actor",
    ],
)
def test_ssrf_targets_are_refused_before_connecting(app, private_dns, url):
    app.config["FEDERATION_ALLOW_LOOPBACK"] = False
    with pytest.raises(FetchError, match="refused address"):
        fetch_object(url)


def test_redirect_to_a_name_resolving_to_a_private_address_is_refused(app, make_peer, private_dns):
    """The first hop is allowed (loopback, tests only); the redirect's name is not."""
    import http.server

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", "http://intranet.example/actor")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.5", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        with pytest.raises(FetchError, match=r"refused address 10\.1\.2\.3"):
            fetch_object(f"http://127.0.0.5:{server.server_address[1]}/start")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_key_id_on_the_metadata_address_is_never_fetched(client, test_peer, community):
    """A signed POST whose keyId points at 169.254.169.254: refused, nothing fetched there."""
    follow = test_peer.activity("Follow", community.ap_id, actor="http://169.254.169.254/u/x")
    response = test_peer.post(client, "/inbox", follow)
    assert response.status_code == 401
    assert _rows() == []


# -- fetch budget -------------------------------------------------------------------------------


def test_an_activity_cannot_spend_more_than_its_fetch_budget(client, test_peer, community):
    """Every fetch an activity causes is charged to its one budget (20); when it is spent the
    activity is refused for good (not retried) and the origin is asked nothing more."""
    from maillage.federation.groups.registry import Incoming, Rejected, dispatch

    assert FetchBudget().limit == 20
    actor = test_peer.person_id("alice")
    follow = test_peer.activity("Follow", community.ap_id, actor=actor)
    assert test_peer.post(client, "/inbox", follow).status_code == 202  # actor now known
    test_peer.documents["/post/9"] = {
        "id": f"{test_peer.base_url}/post/9",
        "type": "Page",
        "attributedTo": actor,
        "audience": community.ap_id,
        "to": [community.ap_id, PUBLIC],
        "name": "Par référence",
        "content": "<p>x</p>",
    }
    create = test_peer.activity("Create", f"{test_peer.base_url}/post/9", actor=actor)
    spent = FetchBudget()
    spent.used = spent.limit
    test_peer.fetched.clear()
    with pytest.raises(Rejected, match="budget"):
        dispatch(Incoming(create, "/inbox", spent))
    db.session.rollback()
    assert "/post/9" not in test_peer.fetched
    assert db.session.scalar(select(Post)) is None


# -- oversized bodies ---------------------------------------------------------------------------


def test_oversized_body_without_content_length_is_cut_at_the_cap(client, test_peer, community):
    """A streamed (chunked) body announces no length: the inbox reads at most 1 MB + 1 byte
    and answers 413 without parsing it."""
    follow = test_peer.activity("Follow", community.ap_id, padding="x" * (1024 * 1024))
    body = json.dumps(follow).encode()
    headers = test_peer.sign("POST", f"{BASE}/inbox", body, test_peer.key_id(follow["actor"]))
    response = client.post(
        "/inbox",
        input_stream=io.BytesIO(body),
        headers={**headers, "Transfer-Encoding": "chunked"},
        base_url=BASE,
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert _rows() == []


def test_oversized_body_over_real_http_is_413(live_server, test_peer, community):
    """Against the served app: a chunked upload over the cap is answered 413."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(live_server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def chunks():
        for _ in range(1100):  # 1100 × 1 kB
            yield b"x" * 1024

    try:
        connection.request(
            "POST",
            "/inbox",
            body=chunks(),
            headers={"Content-Type": "application/activity+json", "Host": "maillage.test"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 413
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close the connection before all chunks were sent
    finally:
        connection.close()
    assert _rows() == []


# -- a remote Group speaking for others (Announce of a forged inner activity) -----------------


def _followed_group(peer):
    from maillage.federation.actors.operations import resolve_actor

    group = resolve_actor(peer.group_id("lemmy"))
    db.session.commit()
    return group


def _announce(client, peer, group, kind, obj, actor):
    """The group's signed Announce of an inner activity it made up (served nowhere)."""
    inner = peer.activity(kind, obj, actor=actor, audience=group.ap_id)
    announce = peer.activity("Announce", inner, actor=group.ap_id)
    assert peer.post(client, "/inbox", announce).status_code == 202
    return announce


def _status(announce) -> str:
    db.session.expire_all()
    return db.session.scalar(
        select(InboxActivity.status).where(InboxActivity.activity_id == announce["id"])
    )


@pytest.fixture
def local_post(create_user, create_community, create_post):
    bob = create_user("bob")
    return create_post(create_community("Locale", owner=bob), bob, "Original", "Texte de Bob.")


@pytest.mark.parametrize("kind", ["Update", "Delete"])
def test_group_cannot_announce_an_activity_of_our_own_user(client, test_peer, local_post, kind):
    from maillage.federation.transport.models import Delivery

    group = _followed_group(test_peer)
    bob = local_post.author
    page = {
        "id": local_post.ap_id,
        "type": "Page",
        "attributedTo": bob.ap_id,
        "name": "Piraté",
        "content": "<p>Piraté</p>",
        "audience": group.ap_id,
    }
    announce = _announce(
        client, test_peer, group, kind, page if kind == "Update" else page["id"], bob.ap_id
    )
    assert _status(announce) == "rejected"
    post = db.session.get(Post, local_post.id)
    assert post is not None
    assert post.title == "Original"
    assert not [row for row in db.session.scalars(select(Delivery)) if row.payload["type"] == kind]


def test_group_cannot_touch_content_of_another_community_by_forging_its_audience(
    client, test_peer, community
):
    group = _followed_group(test_peer)
    dave = test_peer.person_id("dave")
    page = {
        "type": "Page",
        "id": f"{test_peer.base_url}/post/dave-1",
        "attributedTo": dave,
        "to": [community.ap_id, PUBLIC],
        "audience": community.ap_id,
        "name": "Dans Main",
        "content": "<p>Chez nous</p>",
    }
    create = test_peer.activity("Create", page, actor=dave, audience=community.ap_id)
    assert test_peer.post(client, "/inbox", create).status_code == 202
    post = db.session.scalar(select(Post))
    assert post.community_id == community.id
    forged = {**page, "audience": group.ap_id, "to": [group.ap_id], "name": "Réécrit"}
    for kind, obj in (("Update", forged), ("Delete", page["id"])):
        announce = _announce(client, test_peer, group, kind, obj, dave)
        assert _status(announce) == "rejected", kind
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert post.title == "Dans Main"
    assert post.hidden_at is None


def test_group_cannot_post_under_the_name_of_a_third_instances_person(
    client, test_peer, other_peer
):
    group = _followed_group(test_peer)
    carol = other_peer.person_id("carol")
    page = {
        "type": "Page",
        "id": f"{other_peer.base_url}/post/carol-1",
        "attributedTo": carol,
        "to": [group.ap_id, PUBLIC],
        "audience": group.ap_id,
        "name": "Carol n'a jamais écrit ça",
        "content": "<p>Faux</p>",
    }
    announce = _announce(client, test_peer, group, "Create", page, carol)
    assert _status(announce) == "rejected"  # carol's server does not serve it
    assert db.session.scalar(select(Post)) is None

    # What carol's server serves is what is stored, not the group's embedded copy.
    other_peer.publish({**page, "name": "Vrai titre", "content": "<p>Vrai</p>"})
    announce = _announce(client, test_peer, group, "Create", page, carol)
    assert _status(announce) == "done"
    post = db.session.scalar(select(Post))
    assert post.title == "Vrai titre"
    assert post.community_id == group.community_id


@pytest.mark.parametrize("kind", ["Follow", "Accept"])
def test_group_cannot_announce_a_follow_or_its_answer(client, test_peer, community, kind):
    group = _followed_group(test_peer)
    announce = _announce(
        client, test_peer, group, kind, community.ap_id, test_peer.person_id("dave")
    )
    assert _status(announce) == "rejected"
