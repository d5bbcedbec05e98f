"""The account page: password change, language, other sessions, personal API tokens."""

from __future__ import annotations

import re
from collections import Counter
from html import unescape

import pytest

from maillage.auth.passwords import verify_password
from maillage.platform.extensions import db

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def dominique(create_user, sign_in):
    user = create_user("dominique", email="dominique@numerique.gouv.fr")
    assert sign_in("dominique").status_code == 302
    return user


def change_password(submit, current, new, confirm=None):
    return submit(
        "/account",
        {
            "password-current": current,
            "password-password": new,
            "password-confirm": confirm or new,
        },
        action="/account/password",
        prefix="password-",
    )


def test_account_requires_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_account_page_is_one_accessible_page(client, dominique):
    response = client.get("/account")
    html = response.text
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert "<h1>Mon compte</h1>" in html
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    assert '<label for="password-current">Mot de passe actuel</label>' in html
    assert 'autocomplete="current-password"' in html


def test_change_password(client, new_client, submit, mails, dominique):
    elsewhere = client.get_cookie("session").value
    response = change_password(submit, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    db.session.refresh(dominique)
    assert verify_password(dominique.password_hash, NEW_PASSWORD)
    assert client.get("/account/profile").status_code == 200  # this browser stays signed in
    assert new_client(elsewhere).get("/account/profile").status_code == 302
    subjects = [subject for subject, _body, _links in mails(dominique.email)]
    assert subjects == ["Votre mot de passe a été modifié"]


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong password here", NEW_PASSWORD, None, "Le mot de passe actuel est incorrect."),
        (PASSWORD, "court", None, "Le mot de passe doit faire au moins 10 caractères."),
        (PASSWORD, NEW_PASSWORD, "something else", "Les deux mots de passe ne correspondent pas."),
        ("", NEW_PASSWORD, None, "Indiquez votre mot de passe actuel."),
    ],
)
def test_change_password_explains_refusals(
    client, submit, mails, dominique, current, new, confirm, message
):
    response = change_password(submit, current, new, confirm)
    assert response.status_code == 400
    assert message in response.text
    assert 'role="alert"' in response.text
    db.session.refresh(dominique)
    assert verify_password(dominique.password_hash, PASSWORD)
    assert mails() == []


def test_language_preference(client, submit, dominique):
    response = submit(
        "/account", {"language-locale": "en"}, action="/account/language", prefix="language-"
    )
    assert response.status_code == 302
    db.session.refresh(dominique)
    assert dominique.locale == "en"
    assert 'lang="en"' in client.get("/account").text

    submit("/account", {"language-locale": ""}, action="/account/language", prefix="language-")
    db.session.refresh(dominique)
    assert dominique.locale is None

    refused = submit(
        "/account", {"language-locale": "de"}, action="/account/language", prefix="language-"
    )
    assert refused.status_code == 400
    assert "Langue non disponible." in refused.text


def test_end_other_sessions(client, new_client, sign_in, submit, dominique):
    laptop = new_client()
    assert sign_in("dominique", on=laptop).status_code == 302
    assert laptop.get("/account/profile").status_code == 200

    response = submit("/account", {"confirmed": "1"}, action="/account/sessions/end")

    assert response.status_code == 302
    assert client.get("/account/profile").status_code == 200
    assert laptop.get("/account/profile").status_code == 302


# -- personal API tokens ------------------------------------------------------------------------


def create_token(submit, name):
    return submit("/account", {"token-name": name}, action="/account/tokens", prefix="token-")


def test_create_and_revoke_a_token(client, submit, dominique):
    response = create_token(submit, "Script d'export")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-token-secret" type="text" value="([^"]+)"', response.text).group(1)
    assert len(secret) >= 20
    page = client.get("/account").text
    assert "Script d'export" in unescape(page)
    assert secret not in page  # shown once only

    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', page).group(1)
    revoked = submit("/account", {"confirmed": "1"}, action=f"/account/tokens/{token_id}/revoke")
    assert revoked.status_code == 302
    after = unescape(client.get("/account").text)
    assert "Le jeton « Script d'export » est révoqué." in after
    assert "Vous n'avez aucun jeton." in after
    assert f"/account/tokens/{token_id}/revoke" not in after


def test_token_name_is_required(client, submit, dominique):
    response = create_token(submit, "  ")
    assert response.status_code == 400
    assert "Donnez un nom au jeton (par exemple l'outil qui l'utilisera)." in unescape(
        response.text
    )


def test_cannot_revoke_someone_elses_token(client, submit, create_user, dominique):
    from maillage.auth.tokens.operations import create_token as make_token
    from maillage.auth.tokens.operations import tokens_of

    other = create_user("camille")
    token, _secret = make_token(other, "Le sien")
    db.session.commit()
    response = submit("/account", {"confirmed": "1"}, action=f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 404
    (still,) = tokens_of(other)
    assert still.revoked_at is None
