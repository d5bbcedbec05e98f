"""Attempts are limited: sign-in per IP address and per account (RATELIMIT_LOGIN), sign-up per
address (RATELIMIT_SIGNUP), reset requests per IP and per e-mail address."""

from __future__ import annotations

import pytest

PASSWORD = "correct horse battery"
WRONG = "definitely not it"


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "RATELIMIT_LOGIN": "3 per minute",
        "RATELIMIT_SIGNUP": "2 per hour",
        "RATELIMIT_PASSWORD_RESET_PER_ADDRESS": "2 per hour",
    }


def attempt(submit, login, password=WRONG, ip="192.0.2.1"):
    return submit(
        "/login",
        {"login": login, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_too_many_failures_from_one_address_get_429(client, submit, create_user):
    create_user("dominique")
    for index in range(3):
        assert attempt(submit, f"someone{index}").status_code == 400

    blocked = attempt(submit, "dominique", PASSWORD)

    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text
    assert "Retry-After" in blocked.headers
    assert attempt(submit, "dominique", PASSWORD, ip="192.0.2.2").status_code == 302


def test_too_many_failures_on_one_account_get_429_from_any_address(client, submit, create_user):
    create_user("dominique", email="dominique@numerique.gouv.fr")
    create_user("camille")
    for index in range(2):
        assert attempt(submit, "dominique", ip=f"198.51.100.{index}").status_code == 400
    # The address names the same account: it shares the budget.
    assert attempt(submit, "dominique@numerique.gouv.fr", ip="198.51.100.9").status_code == 400

    assert attempt(submit, "dominique", PASSWORD, ip="203.0.113.7").status_code == 429
    assert attempt(submit, "camille", PASSWORD, ip="203.0.113.8").status_code == 302


def test_unknown_accounts_are_limited_like_known_ones(client, submit):
    for index in range(3):
        assert attempt(submit, "ghost", ip=f"198.51.100.{index}").status_code == 400
    assert attempt(submit, "ghost", ip="198.51.100.50").status_code == 429


def test_successful_sign_ins_do_not_count(client, submit, sign_in, create_user):
    create_user("dominique")
    for _ in range(5):
        assert sign_in("dominique").status_code == 302
        assert submit("/account/profile", {}, action="/logout").status_code == 302
    assert sign_in("dominique", WRONG).status_code == 400


def test_sign_ups_are_limited_per_address(client, submit, create_organisation):
    organisation = create_organisation()

    def sign_up(index, ip="192.0.2.1"):
        data = {
            "username": f"agent{index}",
            "display_name": f"Agent {index}",
            "email": f"agent{index}@example.gouv.fr",
            "organisation": str(organisation.id),
            "password": PASSWORD,
            "confirm": PASSWORD,
            "accept_platform_charter": "y",
        }
        return submit("/signup", data, environ_base={"REMOTE_ADDR": ip})

    assert submit("/signup", {"username": "x"}).status_code == 400  # refused forms do not count
    assert sign_up(1).status_code == 302
    assert sign_up(2).status_code == 302
    assert sign_up(3).status_code == 429
    assert sign_up(4, ip="192.0.2.2").status_code == 302


def test_reset_requests_are_limited_per_e_mail_address(client, submit, mails, create_user):
    create_user("dominique", email="dominique@numerique.gouv.fr")

    def ask(email, ip):
        return submit("/password/forgot", {"email": email}, environ_base={"REMOTE_ADDR": ip})

    assert ask("dominique@numerique.gouv.fr", "198.51.100.1").status_code == 200
    assert ask("Dominique@numerique.gouv.fr", "198.51.100.2").status_code == 200
    assert ask("dominique@numerique.gouv.fr", "198.51.100.3").status_code == 429
    assert ask("personne@numerique.gouv.fr", "198.51.100.4").status_code == 200
    assert len(mails("dominique@numerique.gouv.fr")) == 2
