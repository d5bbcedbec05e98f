"""A person an administrator suspended cannot sign in through their directory either: the right
password gets a page saying the account is suspended, and no session opens."""

from __future__ import annotations

from sqlalchemy import select

from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.people import operations


def test_a_suspended_directory_account_is_refused(client, ldap_sign_in, create_user):
    admin = create_user("alix", is_admin=True)
    assert ldap_sign_in("zoe.lefevre").status_code == 302
    zoe = db.session.scalar(select(User).where(User.username == "zoe.lefevre"))
    operations.suspend(admin, zoe, "Départ de l'agent")
    db.session.commit()

    refused = ldap_sign_in("zoe.lefevre")

    assert refused.status_code == 403
    assert "Ce compte est suspendu" in refused.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # still signed out
