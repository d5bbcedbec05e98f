"""Key pairs of local actors: made on creation or on first use, never served."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import func, select

from maillage.federation.actors import operations
from maillage.federation.actors.models import ActorKey
from maillage.platform.extensions import db

AP = {"Accept": "application/activity+json"}


def _keys() -> int:
    return db.session.scalar(select(func.count(ActorKey.id)))


def test_keys_are_made_lazily_when_creation_time_generation_is_off(app, create_user):
    user = create_user("lea")
    assert _keys() == 0
    key = operations.ensure_key(user)
    assert key.key_id == "https://maillage.test/u/lea#main-key"
    assert operations.ensure_key(user) is key  # one key per actor
    public = serialization.load_pem_public_key(key.public_key_pem.encode())
    assert public.key_size == 2048


class TestCreationTime:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "FEDERATION_GENERATE_KEYS_ON_CREATE": True}

    def test_user_and_community_get_rsa_2048_keys_on_creation(
        self, app, create_user, create_community
    ):
        owner = create_user("anne")
        community = create_community("Acheteurs", owner=owner, slug="acheteurs")
        keys = {key.key_id: key for key in db.session.scalars(select(ActorKey))}
        assert set(keys) == {
            "https://maillage.test/u/anne#main-key",
            "https://maillage.test/c/acheteurs#main-key",
        }
        assert keys["https://maillage.test/c/acheteurs#main-key"].community_id == community.id
        for key in keys.values():
            private = serialization.load_pem_private_key(key.private_key_pem.encode(), None)
            assert private.key_size == 2048


def test_signing_key_signs_with_the_published_public_key(app, create_user, create_community):
    community = create_community(slug="signataires")
    key_id, private_pem = operations.signing_key(community.ap_id)
    assert key_id == f"{community.ap_id}#main-key"
    private = serialization.load_pem_private_key(private_pem.encode(), None)
    signature = private.sign(b"message", padding.PKCS1v15(), hashes.SHA256())
    db.session.rollback()  # the key was committed by signing_key: it survives
    public_pem = operations.public_key_for(key_id, False)
    public = serialization.load_pem_public_key(public_pem.encode())
    public.verify(signature, b"message", padding.PKCS1v15(), hashes.SHA256())


def test_signing_key_of_the_instance_actor(app):
    key_id, private_pem = operations.signing_key("https://maillage.test/actor")
    assert key_id == "https://maillage.test/actor#main-key"
    assert "PRIVATE KEY" in private_pem
    assert operations.instance_actor_key().key_id == key_id
    assert _keys() == 1


@pytest.mark.parametrize(
    "ap_id",
    [
        "https://maillage.test/u/nobody",
        "https://ailleurs.example/u/alice",
        "https://maillage.test/post/1",
    ],
)
def test_signing_key_refuses_what_is_not_a_local_actor(app, ap_id):
    with pytest.raises(LookupError):
        operations.signing_key(ap_id)


def test_unknown_local_key_is_none(app, create_user):
    create_user("paul")
    assert operations.public_key_for("https://maillage.test/u/paul#main-key", False) is None
    assert operations.public_key_for("pas une url", False) is None


def test_keys_only_for_local_actors(app, create_user):
    user = create_user()
    user.local = False
    with pytest.raises(ValueError, match="only local"):
        operations.ensure_key(user)


def test_private_keys_never_appear_in_any_response(app, client, create_user, create_community):
    user = create_user("marie")
    community = create_community(slug="cles", owner=user)
    operations.ensure_key(user)
    operations.ensure_key(community)
    db.session.commit()
    private_pems = [key.private_key_pem for key in db.session.scalars(select(ActorKey))]
    urls = [
        "/u/marie",
        "/c/cles",
        "/actor",
        "/c/cles/outbox",
        "/c/cles/followers",
        "/c/cles/moderators",
        "/.well-known/webfinger?resource=acct:marie@maillage.test",
        "/nodeinfo/2.1",
    ]
    for url in urls:
        for headers in (AP, {}):
            body = client.get(url, headers=headers, base_url="https://maillage.test").get_data(
                as_text=True
            )
            assert "PRIVATE KEY" not in body, url
            for pem in private_pems:
                assert pem.splitlines()[1] not in body, url
