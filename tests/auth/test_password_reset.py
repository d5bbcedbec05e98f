"""Password reset: always the same answer, an e-mailed single-use link that expires, a fresh
session afterwards; and the password change from the account page."""

from __future__ import annotations

import itsdangerous.timed
import pytest

from maillage.auth.passwords import verify_password
from maillage.platform.extensions import db

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


def reset_link(mails, to):
    ((subject, _body, links),) = mails(to)
    assert subject == "Réinitialiser votre mot de passe"
    (link,) = [link for link in links if "/password/reset/" in link]
    return link.removeprefix("https://maillage.test")


def ask_reset(submit, email):
    return submit("/password/forgot", {"email": email})


def choose(submit, path, password=NEW_PASSWORD, confirm=None):
    return submit(path, {"password": password, "confirm": confirm or password})


def test_forgot_password_answers_the_same_for_any_address(client, submit, mails, create_user):
    create_user("dominique", email="dominique@numerique.gouv.fr")
    known = ask_reset(submit, "dominique@numerique.gouv.fr")
    unknown = ask_reset(submit, "personne@numerique.gouv.fr")
    assert known.status_code == unknown.status_code == 200
    main = lambda response: response.text.split("<main")[1].split("</main>")[0]  # noqa: E731
    assert main(known).replace("dominique", "X") == main(unknown).replace("personne", "X")
    assert "Vérifiez votre messagerie" in known.text
    assert len(mails("dominique@numerique.gouv.fr")) == 1
    assert mails("personne@numerique.gouv.fr") == []


def test_bad_address_is_explained(client, submit):
    response = ask_reset(submit, "pas une adresse")
    assert response.status_code == 400
    assert "Adresse e-mail invalide." in response.text


def test_reset_end_to_end_and_only_once(client, submit, mails, create_user):
    user = create_user("dominique", email="dominique@numerique.gouv.fr")
    ask_reset(submit, "Dominique@Numerique.gouv.fr")
    link = reset_link(mails, "dominique@numerique.gouv.fr")

    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Choisir un nouveau mot de passe" in page.text

    response = choose(submit, link)
    assert response.status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert client.get("/account/profile").status_code == 200  # signed in on a fresh session
    notices = [subject for subject, _body, _links in mails(user.email)]
    assert "Votre mot de passe a été modifié" in notices

    again = client.get(link)
    assert again.status_code == 400
    assert "Lien expiré ou déjà utilisé" in again.text
    assert choose(submit, link, "yet another passphrase").status_code == 400
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)


def test_reset_link_expires(app, client, submit, mails, create_user, monkeypatch):
    create_user("dominique", email="dominique@numerique.gouv.fr")
    ask_reset(submit, "dominique@numerique.gouv.fr")
    link = reset_link(mails, "dominique@numerique.gouv.fr")
    later = itsdangerous.timed.time.time() + app.config["PASSWORD_RESET_VALID_SECONDS"] + 5

    class Later:
        @staticmethod
        def time():
            return later

    monkeypatch.setattr(itsdangerous.timed, "time", Later)
    response = client.get(link)
    assert response.status_code == 400
    assert "Lien expiré ou déjà utilisé" in response.text


def test_reset_link_dies_when_the_password_changes_otherwise(client, submit, mails, create_user):
    from maillage.communities.users.operations import set_password

    user = create_user("dominique", email="dominique@numerique.gouv.fr")
    ask_reset(submit, user.email)
    link = reset_link(mails, user.email)
    set_password(user, "changed meanwhile by its owner")
    db.session.commit()
    assert client.get(link).status_code == 400


@pytest.mark.parametrize("token", ["nonsense", "eyJ1IjoxfQ.forged.signature"])
def test_forged_links_are_refused(client, token):
    assert client.get(f"/password/reset/{token}").status_code == 400


def test_reset_sessions_elsewhere_end(app, client, submit, mails, create_user, sign_in):
    user = create_user("dominique", email="dominique@numerique.gouv.fr")
    elsewhere = app.test_client()
    sign_in("dominique", on=elsewhere)
    assert elsewhere.get("/account/profile").status_code == 200
    ask_reset(submit, user.email)
    choose(submit, reset_link(mails, user.email))

    assert elsewhere.get("/account/profile").status_code == 302


def test_new_password_is_validated(client, submit, mails, create_user):
    user = create_user("dominique", email="dominique@numerique.gouv.fr")
    ask_reset(submit, user.email)
    link = reset_link(mails, user.email)
    short = choose(submit, link, "court")
    assert short.status_code == 400
    assert "Le mot de passe doit faire au moins 10 caractères." in short.text
    mismatch = choose(submit, link, NEW_PASSWORD, "something else entirely")
    assert "Les deux mots de passe ne correspondent pas." in mismatch.text
    assert client.get(link).status_code == 200  # still usable: nothing was changed


def test_account_without_password_is_told_to_use_its_organisation(
    client, submit, mails, create_user
):
    user = create_user("agent", email="agent@interieur.gouv.fr")
    user.password_hash = None
    db.session.commit()
    ask_reset(submit, user.email)
    ((subject, _body, links),) = mails(user.email)
    assert subject == "Votre compte n'a pas de mot de passe"
    assert not [link for link in links if "/password/reset/" in link]


def test_reset_mail_is_in_the_recipients_language(client, submit, mails, create_user):
    create_user("dominique", email="dominique@numerique.gouv.fr", locale="fr")
    ask_reset(submit, "dominique@numerique.gouv.fr")
    ((_subject, body, _links),) = mails("dominique@numerique.gouv.fr")
    assert body.startswith("Bonjour Dominique,")
    assert "expire dans 60 minutes" in body
