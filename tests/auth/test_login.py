"""Sign-in and sign-out: by username or address, one message for every failure, a new session at
sign-in, Argon2 parameters upgraded on the way, CSRF on the forms."""

from __future__ import annotations

import re

from argon2 import PasswordHasher

from maillage.auth.passwords import needs_rehash
from maillage.platform.extensions import db

PASSWORD = "correct horse battery"
GENERIC_ERROR = "Identifiant ou mot de passe incorrect."


def error_summary(response) -> str:
    match = re.search(r'<div class="error-summary" role="alert".*?</div>', response.text, re.S)
    assert match, "no error summary"
    return match.group(0)


def test_login_page_is_an_accessible_form(client):
    html = client.get("/login").text
    assert html.count("<h1") == 1
    assert '<label for="login">Identifiant ou adresse e-mail</label>' in html
    assert '<label for="password">Mot de passe</label>' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert 'href="/password/forgot"' in html


def test_login_by_username_or_address(client, create_user, sign_in, submit):
    create_user("dominique", email="dominique@numerique.gouv.fr")
    for login in ("dominique", "Dominique", "DOMINIQUE@numerique.gouv.fr"):
        response = sign_in(login)
        assert response.status_code == 302, login
        assert client.get("/account/profile").status_code == 200
        submit("/account/profile", {}, action="/logout")
        assert client.get("/account/profile").status_code == 302


def test_wrong_password_and_unknown_account_read_the_same(client, create_user, sign_in):
    create_user("dominique")
    wrong_password = sign_in("dominique", "not the password at all")
    unknown = sign_in("nobody-here", "not the password at all")
    unknown_address = sign_in("nobody@nowhere.gouv.fr", "not the password at all")
    assert wrong_password.status_code == unknown.status_code == unknown_address.status_code == 400
    assert GENERIC_ERROR in error_summary(wrong_password)
    assert error_summary(wrong_password) == error_summary(unknown) == error_summary(unknown_address)
    assert client.get("/account/profile").status_code == 302


def test_deactivated_account_gets_the_same_message(client, create_user, sign_in):
    user = create_user("dominique")
    user.is_active = False
    db.session.commit()
    response = sign_in("dominique")
    assert response.status_code == 400
    assert GENERIC_ERROR in error_summary(response)


def test_missing_fields_are_explained(client, submit):
    response = submit("/login", {"login": "", "password": ""})
    assert response.status_code == 400
    assert "Indiquez votre identifiant ou votre adresse e-mail." in response.text
    assert "Indiquez votre mot de passe." in response.text


def test_login_follows_a_safe_next_only(client, create_user, sign_in, submit):
    create_user("dominique")
    response = submit(
        "/login?next=/members", {"login": "dominique", "password": PASSWORD, "next": "/members"}
    )
    assert response.headers["Location"] == "/members"
    submit("/account/profile", {}, action="/logout")
    evil = "//evil.example/x"
    response = submit(
        f"/login?next={evil}", {"login": "dominique", "password": PASSWORD, "next": evil}
    )
    assert response.headers["Location"] == "/"


def test_login_required_pages_send_to_login_with_next(client):
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Faccount")


def test_session_is_renewed_at_login(client, new_client, create_user, sign_in):
    user = create_user("dominique")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "set before sign-in"
        planted_keys = set(session)
    before = client.get_cookie("session").value

    assert sign_in("dominique").status_code == 302

    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "csrf_token" not in session  # the pre-login CSRF secret went with the rest
        assert set(session).isdisjoint(planted_keys - {"_flashes"})
        assert session["_user_id"].startswith(user.get_id() + ":")  # and this session's record

    assert new_client(before).get("/account/profile").status_code == 302  # opens nothing
    assert new_client(after).get("/account/profile").status_code == 200


def test_logout_needs_post_and_csrf(app, csrf_client, create_user):
    create_user("dominique")
    login_page = csrf_client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    response = csrf_client.post(
        "/login", data={"login": "dominique", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert csrf_client.get("/logout").status_code == 405
    assert csrf_client.post("/logout").status_code == 400
    assert csrf_client.get("/account/profile").status_code == 200  # still signed in


def test_login_without_csrf_token_is_a_readable_400(csrf_client, create_user):
    create_user("dominique")
    response = csrf_client.post("/login", data={"login": "dominique", "password": PASSWORD})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "<h1>Requête invalide" in response.text
    assert "jeton de sécurité" in response.text
    assert csrf_client.get("/account/profile").status_code == 302


def test_password_hash_is_upgraded_when_argon2_parameters_change(client, create_user, sign_in):
    user = create_user("dominique")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    db.session.commit()
    assert needs_rehash(user.password_hash)

    assert sign_in("dominique").status_code == 302

    db.session.refresh(user)
    assert not needs_rehash(user.password_hash)
    assert PasswordHasher().verify(user.password_hash, PASSWORD)


def test_remember_me_sets_a_cookie_that_logout_removes(client, create_user, submit):
    create_user("dominique")
    submit("/login", {"login": "dominique", "password": PASSWORD, "remember": "y"})
    assert client.get_cookie("remember_token") is not None
    submit("/account/profile", {}, action="/logout")
    assert client.get_cookie("remember_token") is None
    assert client.get("/account/profile").status_code == 302


def test_signed_in_person_visiting_login_is_sent_on(client, create_user, sign_in):
    create_user("dominique")
    sign_in("dominique")
    response = client.get("/login?next=/members")
    assert response.headers["Location"] == "/members"
