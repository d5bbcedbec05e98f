"""When the directory is down, refuses TLS, or is misconfigured: a clear message, never a 500,
the error recorded for the status page (never the bind password)."""

from __future__ import annotations

import socket
import time
import uuid

import ldap
import pytest
from sqlalchemy import select

from maillage.auth.directory.errors import DirectoryError
from maillage.auth.directory.tasks import sync_directories
from maillage.auth.ldap import client as ldap_client
from maillage.auth.ldap import entries
from maillage.auth.providers.models import ProviderStatus
from maillage.auth.providers.registry import build_providers, providers
from maillage.communities.users.models import User
from maillage.platform.config import ConfigError
from maillage.platform.extensions import db
from tests.auth.ldap.conftest import (
    GROUPS,
    SERVICE_PASSWORD,
    group_search_settings,
    provider_settings,
)

UNAVAILABLE = "L&#39;annuaire « %s » ne répond pas pour le moment."


def status(name: str) -> ProviderStatus | None:
    db.session.expire_all()
    return db.session.get(ProviderStatus, name)


def test_check_is_a_service_bind(app, slapd):
    providers()["annuaire"].check()

    wrong = build_providers([provider_settings(slapd, bind_password="not-it")])["annuaire"]
    with pytest.raises(DirectoryError) as failed:
        wrong.check()
    assert "service bind as cn=maillage" in str(failed.value)
    assert "not-it" not in str(failed.value)


def test_group_searches_are_paged(app, slapd):
    provider = build_providers([group_search_settings(slapd)])["annuaire-groupes"]
    assert provider.ldap.page_size == 1
    with ldap_client.service_connection(provider.ldap) as connection:
        found = ldap_client.search(
            connection, provider.ldap, GROUPS, "(objectClass=groupOfNames)", ["cn"]
        )
    # slapd returns one entry per page: all six came through the paging loop.
    assert len(found) == 6


def test_active_directory_guids_are_keys_and_filters(app, slapd):
    settings = build_providers([provider_settings(slapd, attributes={"identifier": "objectGUID"})])[
        "annuaire"
    ].ldap
    guid = uuid.UUID("c0ffee00-1234-4321-8765-0123456789ab")

    key = entries.identifier_of(settings, "cn=x", {"objectGUID": [guid.bytes_le]})

    assert key == str(guid)
    # Microsoft's mixed-endian layout, every byte escaped.
    assert entries.identifier_filter(settings, key) == (
        r"(objectGUID=\00\ee\ff\c0\34\12\21\43\87\65\01\23\45\67\89\ab)"
    )


# -- a directory that stops --------------------------------------------------------------------


class TestStoppedDirectory:
    @pytest.fixture
    def stoppable(self, start_slapd):
        """A server of its own, that the test may stop (the others keep theirs)."""
        return start_slapd()

    @pytest.fixture
    def ldap_providers(self, stoppable):
        return [provider_settings(stoppable)]

    def test_a_stopped_directory_gets_a_clear_message(
        self, client, ldap_sign_in, stoppable, new_client
    ):
        assert ldap_sign_in("zoe.lefevre").status_code == 302

        stoppable.terminate()
        stoppable.wait()
        response = ldap_sign_in("benoit.cosic", on=new_client())

        assert response.status_code == 503
        assert UNAVAILABLE % "Annuaire de l&#39;Intérieur" in response.text
        assert 'role="alert"' in response.text
        assert db.session.scalar(select(User).where(User.display_name == "Benoît Ćosić")) is None
        recorded = status("annuaire")
        assert "Can't contact LDAP server" in recorded.last_error
        assert SERVICE_PASSWORD not in recorded.last_error
        with pytest.raises(DirectoryError):
            providers()["annuaire"].check()

        # The periodic sync meets the same error: recorded, nothing removed.
        sync_directories.delay()
        assert "directory sync" in status("annuaire").last_error
        zoe = db.session.scalar(select(User).where(User.display_name == "Zoé Lefèvre"))
        assert zoe.is_trainer


class TestHangingDirectory:
    """A server that accepts the connection and never answers (an overloaded directory, a
    firewall dropping packets): the timeouts end the attempt, the person gets the message."""

    @pytest.fixture
    def hanging(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # connections complete in the backlog; nothing ever reads them
        yield f"ldap://127.0.0.1:{listener.getsockname()[1]}"
        listener.close()

    @pytest.fixture
    def ldap_providers(self, slapd, hanging):
        return [provider_settings(slapd, uri=hanging, timeout=0.5)]

    def test_a_directory_that_never_answers_times_out(self, client, ldap_sign_in):
        started = time.monotonic()
        response = ldap_sign_in("zoe.lefevre")

        assert time.monotonic() - started < 5
        assert response.status_code == 503
        assert UNAVAILABLE % "Annuaire de l&#39;Intérieur" in response.text
        assert "service bind failed" in status("annuaire").last_error


class TestMissingIdentityKey:
    @pytest.fixture
    def ldap_providers(self, slapd):
        return [provider_settings(slapd, attributes={"identifier": "employeeNumber"})]

    def test_an_entry_without_its_key_cannot_sign_in(self, client, ldap_sign_in):
        wrong = ldap_sign_in("zoe.lefevre", "not the password")
        right = ldap_sign_in("zoe.lefevre")

        assert wrong.status_code == 400  # the same words as ever: nothing to learn
        assert right.status_code == 503
        assert db.session.scalar(select(User)) is None
        assert "has no employeeNumber" in status("annuaire").last_error


# -- TLS ---------------------------------------------------------------------------------------


class TestStartTLS:
    @pytest.fixture
    def ldap_providers(self, slapd, certificates):
        untrusted = provider_settings(slapd, name="non-verifie", start_tls=True)
        del untrusted["allow_cleartext"]
        trusted = {**untrusted, "name": "verifie", "ca_cert_file": certificates["ca"]}
        return [untrusted, trusted]

    def test_a_certificate_the_client_does_not_trust_is_refused(self, client, ldap_sign_in):
        response = ldap_sign_in("zoe.lefevre", provider="non-verifie")

        assert response.status_code == 503
        assert UNAVAILABLE % "Annuaire de l&#39;Intérieur" in response.text
        assert db.session.scalar(select(User)) is None
        assert "StartTLS" in status("non-verifie").last_error

    def test_a_trusted_certificate_signs_in(self, client, ldap_sign_in):
        response = ldap_sign_in("zoe.lefevre", provider="verifie")

        assert response.status_code == 302
        assert status("verifie").last_success_at is not None

    def test_no_certificate_check_is_possible_but_explicit(self, app, slapd):
        settings = provider_settings(slapd, start_tls=True, verify_cert=False)
        provider = build_providers([settings])["annuaire"]

        provider.check()
        connection = ldap_client.connect(provider.ldap)
        assert connection.get_option(ldap.OPT_X_TLS_REQUIRE_CERT) == ldap.OPT_X_TLS_NEVER
        connection.unbind_s()


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"user_filter": "(uid=someone)"}, "user_filter must be an LDAP filter containing"),
        ({"user_filter": "(uid={login}"}, "user_filter must be an LDAP filter containing"),
        ({"uri": "http://annuaire"}, "uri must be"),
        ({"allow_cleartext": False}, "passwords would travel in clear"),
        ({"uri": "ldaps://annuaire:636", "start_tls": True}, "start_tls goes with ldap://"),
        ({"ca_cert_file": "/nonexistent/ca.pem"}, "is not a readable file"),
        ({"bind_password": ""}, "bind_dn needs bind_password"),
        ({"attributes": {"uuid": "x"}}, "unknown attributes uuid"),
        ({"timeout": 0}, "timeout must be a number"),
        ({"page_size": "many"}, "page_size must be a number"),
        ({"organisation_kind": "ministry"}, "organisation_kind must be one of"),
        ({"group_filter": "(objectClass=groupOfNames)"}, "group_filter needs group_base"),
        ({"group_mappings": [{"group": "cn=x"}]}, "give exactly one of"),
        (
            {"group_mappings": [{"group": "cn=x", "community": "pcs", "role": "chief"}]},
            "unknown role 'chief'",
        ),
        (
            {"group_mappings": [{"group": "cn=x", "platform_role": "king"}]},
            "platform_role must be one of",
        ),
        (
            {"group_mappings": [{"group": "cn=x", "organisation_siret": "123"}]},
            "organisation_siret must have 14 digits",
        ),
        ({"managed_platform_roles": ["owner"]}, "managed_platform_roles must be a list"),
    ],
)
def test_configuration_mistakes_stop_the_start_up(slapd, overrides, message):
    with pytest.raises(ConfigError) as refused:
        build_providers([provider_settings(slapd, **overrides)])

    assert message in str(refused.value)
    assert "auth provider 'annuaire'" in str(refused.value)
    assert SERVICE_PASSWORD not in str(refused.value)


def test_an_ldaps_directory_needs_no_cleartext_permission(slapd):
    settings = provider_settings(slapd, uri="ldaps://annuaire.interieur.gouv.fr:636")
    del settings["allow_cleartext"]

    provider = build_providers([settings])["annuaire"]

    assert provider.ldap.uses_tls
    assert provider.ldap.verify_cert
