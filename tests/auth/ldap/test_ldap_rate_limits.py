"""Directory sign-ins are rate-limited like local ones (RATELIMIT_LOGIN), per IP address and
per login submitted to the directory; only failures count."""

from __future__ import annotations

import pytest

WRONG = "not the password"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_LOGIN": "3 per minute"}


def test_failures_are_rate_limited_per_address_and_per_login(client, ldap_sign_in):
    for index in range(3):
        response = ldap_sign_in(f"inconnu{index}", WRONG, environ_base={"REMOTE_ADDR": "192.0.2.1"})
        assert response.status_code == 400

    blocked = ldap_sign_in("zoe.lefevre", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert blocked.status_code == 429

    for index in range(3):
        address = {"REMOTE_ADDR": f"198.51.100.{index}"}
        assert ldap_sign_in("benoit.cosic", WRONG, environ_base=address).status_code == 400
    other_address = {"REMOTE_ADDR": "203.0.113.9"}
    assert ldap_sign_in("benoit.cosic", environ_base=other_address).status_code == 429
    assert ldap_sign_in("zoe.lefevre", environ_base=other_address).status_code == 302


def test_successful_sign_ins_do_not_count(client, ldap_sign_in, new_client):
    for _ in range(4):
        assert ldap_sign_in("zoe.lefevre", on=new_client()).status_code == 302
