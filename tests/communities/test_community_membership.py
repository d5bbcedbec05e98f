"""Joining, leaving and asking to join a community, over HTTP, with and without HTMX."""

import re

import pytest
from sqlalchemy import func, select

from maillage.communities.community.models import JoinRequest, Membership
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db


def csrf_token(client) -> str:
    page = client.get("/communities").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, url, data=None, htmx=False, **kwargs):
    token = csrf_token(client)
    headers = {"HX-Request": "true", "X-CSRFToken": token} if htmx else {}
    return client.post(url, data={"csrf_token": token, **(data or {})}, headers=headers, **kwargs)


def role_of(community, user):
    return db.session.scalar(
        select(Membership.role).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        )
    )


def member_count(community):
    db.session.expire_all()
    return db.session.get(type(community), community.id).member_count


# -- joining a public community ----------------------------------------------------------------


def test_join_a_public_community_without_javascript(
    client, create_user, create_community, login_as
):
    community = create_community("Achats responsables", slug="achats")
    agent = create_user("agent")
    login_as(agent)

    page = client.get("/c/achats").get_data(as_text=True)
    assert "Rejoindre la communauté" in page
    assert "Publier dans la communauté" not in page  # no composer before joining

    response = post(client, "/c/achats/join")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/c/achats")
    assert role_of(community, agent) == "member"
    assert member_count(community) == 2

    page = client.get("/c/achats").get_data(as_text=True)
    assert "Vous êtes membre de « Achats responsables »" in page  # the flashed confirmation
    assert "Quitter la communauté" in page
    assert "Publier dans la communauté" in page  # the composer now
    assert "Rejoindre la communauté" not in page


def test_join_with_htmx_returns_the_membership_partial(
    client, create_user, create_community, login_as
):
    community = create_community(slug="numerique")
    agent = create_user()
    login_as(agent)

    response = post(client, "/c/numerique/join", htmx=True)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="membership-action"')
    assert "<html" not in html
    assert "<h1" not in html
    assert "Quitter la communauté" in html
    assert "Vous êtes membre de" in html  # the confirmation is inside the swapped area
    # out-of-band updates: the member count and the composer that membership brings
    assert f'id="member-count-{community.id}" hx-swap-oob="true">2 membres<' in html
    assert 'id="composer-slot" hx-swap-oob="true"' in html
    assert "Publier dans la communauté" in html
    assert role_of(community, agent) == "member"
    # the message was shown in the partial: it is not shown again on the next page
    assert "Vous êtes membre de « " not in client.get("/c/numerique").get_data(as_text=True)


def test_join_and_leave_buttons_carry_htmx_attributes(
    client, create_user, create_community, login_as
):
    create_community(slug="htmx")
    login_as(create_user())
    page = client.get("/c/htmx").get_data(as_text=True)
    assert 'hx-post="/c/htmx/join"' in page
    assert 'hx-target="#membership-action"' in page
    assert 'hx-swap="outerHTML"' in page
    assert re.search(r'<div aria-live="polite">\s*<div id="membership-action"', page)


def test_joining_needs_the_csrf_token(client, create_user, create_community, login_as):
    community = create_community(slug="csrf")
    agent = create_user()
    login_as(agent)
    response = client.post("/c/csrf/join")
    assert response.status_code == 400
    assert role_of(community, agent) is None


def test_anonymous_visitor_is_invited_to_sign_in(client, create_community):
    create_community(slug="ouverte")
    page = client.get("/c/ouverte").get_data(as_text=True)
    assert "Se connecter pour participer" in page
    assert "/login?next=/c/ouverte" in page
    assert 'action="/c/ouverte/join"' not in page
    response = client.post("/c/ouverte/join")
    assert response.status_code in (302, 400)  # login redirect or missing CSRF token: no join


def test_joining_twice_is_refused_with_a_message_and_stores_nothing(
    client, create_user, create_community, login_as
):
    member = create_user()
    community = create_community(slug="deux-fois", members=[member])
    login_as(member)
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))

    response = post(client, "/c/deux-fois/join")

    assert response.status_code == 403  # the policy refuses: already a member
    assert member_count(community) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_an_invitation_only_community_offers_no_join_button(
    client, create_user, create_community, login_as
):
    community = create_community(slug="sur-invitation", join_policy="invite")
    agent = create_user()
    login_as(agent)
    page = client.get("/c/sur-invitation").get_data(as_text=True)
    assert "sur invitation uniquement" in page
    assert "Rejoindre la communauté" not in page
    assert post(client, "/c/sur-invitation/join").status_code == 403
    assert role_of(community, agent) is None


# -- leaving -----------------------------------------------------------------------------------


def test_leave_a_community(client, create_user, create_community, login_as):
    member = create_user()
    community = create_community(slug="quitter", members=[member])
    login_as(member)

    response = post(client, "/c/quitter/leave", {"confirmed": "1"})

    assert response.status_code == 303
    assert role_of(community, member) is None
    assert member_count(community) == 1
    page = client.get("/c/quitter").get_data(as_text=True)
    assert "Vous avez quitté « " in page
    assert "Rejoindre la communauté" in page


def test_leave_with_htmx_swaps_the_area_back_to_join(
    client, create_user, create_community, login_as
):
    member = create_user()
    community = create_community(slug="quitter-htmx", members=[member])
    login_as(member)
    response = post(client, "/c/quitter-htmx/leave", {"confirmed": "1"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Rejoindre la communauté" in html
    assert f'id="member-count-{community.id}" hx-swap-oob="true">1 membre<' in html
    assert "Publier dans la communauté" not in html


def test_leaving_a_private_community_with_htmx_reloads_the_page(
    client, create_user, create_community, login_as
):
    member = create_user()
    community = create_community(
        slug="privee-htmx", visibility="private", join_policy="request", members=[member]
    )
    login_as(member)
    response = post(client, "/c/privee-htmx/leave", {"confirmed": "1"}, htmx=True)
    # what the page shows besides the button changes (content now reserved): full reload
    assert response.headers["HX-Refresh"] == "true"
    assert role_of(community, member) is None


def test_leaving_a_secret_community_goes_back_to_the_directory(
    client, create_user, create_community, login_as
):
    member = create_user()
    community = create_community(
        slug="secrete", visibility="secret", join_policy="invite", members=[member]
    )
    login_as(member)
    response = post(client, f"/c/{community.slug}/leave", {"confirmed": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/communities")
    assert client.get(f"/c/{community.slug}").status_code == 404


def test_the_last_owner_cannot_leave(client, create_user, create_community, login_as):
    owner = create_user()
    community = create_community(slug="proprietaire", owner=owner)
    login_as(owner)

    page = client.get("/c/proprietaire").get_data(as_text=True)
    assert "Quitter la communauté" not in page
    assert "seul propriétaire" in page

    response = post(client, "/c/proprietaire/leave", {"confirmed": "1"})
    assert response.status_code == 403
    assert role_of(community, owner) == "owner"
    assert member_count(community) == 1


def test_an_owner_may_leave_when_another_owner_remains(
    client, create_user, create_community, login_as
):
    owner, other = create_user(), create_user()
    community = create_community(slug="deux-proprietaires", owner=owner, members=[(other, "owner")])
    login_as(owner)
    assert post(client, "/c/deux-proprietaires/leave", {"confirmed": "1"}).status_code == 303
    assert role_of(community, owner) is None


# -- asking to join ----------------------------------------------------------------------------


def test_request_approve_journey(client, create_user, create_community, login_as, outbox_mail):
    facilitator = create_user("animatrice", display_name="Sophie Animatrice")
    community = create_community(
        "Transition écologique",
        slug="transition",
        visibility="private",
        join_policy="request",
        owner=facilitator,
    )
    requester = create_user("nadia", display_name="Nadia Haddad", email="nadia@mairie.fr")

    # the requester sees the community, not its content, and asks with a message
    login_as(requester)
    page = client.get("/c/transition").get_data(as_text=True)
    assert "Les contenus de cette communauté sont réservés à ses membres." in page
    assert "Demander à rejoindre" in page
    response = post(
        client, "/c/transition/request", {"message": "Je pilote le plan climat de la commune."}
    )
    assert response.status_code == 303
    page = client.get("/c/transition").get_data(as_text=True)
    assert "Votre demande d'adhésion est en attente" in page
    assert "Demander à rejoindre" not in page

    # the facilitator approves it with a message
    login_as(facilitator)
    page = client.get("/c/transition/requests").get_data(as_text=True)
    assert "Nadia Haddad" in page
    assert "Je pilote le plan climat de la commune." in page
    join_request = db.session.scalar(select(JoinRequest))
    response = post(
        client,
        f"/c/transition/requests/{join_request.id}",
        {"decision": "approve", "message": "Bienvenue parmi nous !"},
    )
    assert response.status_code == 303
    page = client.get("/c/transition/requests").get_data(as_text=True)
    assert "Nadia Haddad est maintenant membre." in page
    assert "Aucune demande en attente." in page

    # the requester is a member, reads the content and was told by e-mail
    assert role_of(community, requester) == "member"
    assert member_count(community) == 2
    mails = [mail for mail in outbox_mail() if mail["To"] == "nadia@mairie.fr"]
    assert len(mails) == 1
    assert "Transition écologique" in mails[0]["Subject"]
    body = mails[0].get_content()
    assert "acceptée" in body
    assert "Bienvenue parmi nous !" in body
    assert "https://maillage.test/c/transition" in body
    login_as(requester)
    page = client.get("/c/transition").get_data(as_text=True)
    assert "réservés à ses membres" not in page
    assert "Publier dans la communauté" in page


def test_request_refused_journey(client, create_user, create_community, login_as, outbox_mail):
    facilitator = create_user()
    community = create_community(slug="refus", join_policy="request", owner=facilitator)
    requester = create_user(email="requester@example.gouv.fr")
    login_as(requester)
    post(client, "/c/refus/request")
    join_request = db.session.scalar(select(JoinRequest))

    login_as(facilitator)
    response = post(
        client,
        f"/c/refus/requests/{join_request.id}",
        {"decision": "refuse", "message": "Réservé aux acheteurs."},
    )

    assert response.status_code == 303
    assert role_of(community, requester) is None
    db.session.expire_all()
    assert db.session.get(JoinRequest, join_request.id).status == "refused"
    mail = next(m for m in outbox_mail() if m["To"] == "requester@example.gouv.fr")
    assert "n'a pas été retenue" in mail.get_content()
    assert "Réservé aux acheteurs." in mail.get_content()
    # deciding twice is refused without a second e-mail
    response = post(client, f"/c/refus/requests/{join_request.id}", {"decision": "approve"})
    assert response.status_code == 400
    assert "déjà été traitée" in response.get_data(as_text=True)
    assert role_of(community, requester) is None
    assert len([m for m in outbox_mail() if m["To"] == "requester@example.gouv.fr"]) == 1


def test_request_with_htmx_shows_the_pending_notice(
    client, create_user, create_community, login_as
):
    create_community(slug="demande-htmx", join_policy="request")
    login_as(create_user())
    response = post(client, "/c/demande-htmx/request", {"message": ""}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="membership-action"')
    assert "Votre demande d'adhésion est en attente" in html
    assert "Votre demande est transmise aux animateurs" in html


def test_a_too_long_request_message_is_refused_and_nothing_is_stored(
    client, create_user, create_community, login_as
):
    create_community(slug="trop-long", join_policy="request")
    login_as(create_user())

    response = post(client, "/c/trop-long/request", {"message": "x" * 2001})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Le message fait 2000 caractères au plus." in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(func.count()).select_from(JoinRequest)) == 0

    htmx = post(client, "/c/trop-long/request", {"message": "x" * 2001}, htmx=True)
    assert htmx.status_code == 200  # HTMX swaps only successful answers: the error is inside
    assert "Le message fait 2000 caractères au plus." in htmx.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(JoinRequest)) == 0


def test_asking_twice_is_refused_with_a_message(client, create_user, create_community, login_as):
    create_community(slug="deux-demandes", join_policy="request")
    login_as(create_user())
    assert post(client, "/c/deux-demandes/request").status_code == 303

    response = post(client, "/c/deux-demandes/request")

    assert response.status_code == 400
    assert "Votre demande est déjà en attente." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(JoinRequest)) == 1


def test_an_open_community_does_not_take_requests(client, create_user, create_community, login_as):
    create_community(slug="libre")
    login_as(create_user())
    assert post(client, "/c/libre/request").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(JoinRequest)) == 0


def test_joining_a_private_open_community_with_htmx_reloads_to_show_the_content(
    client, create_user, create_community, create_post, login_as
):
    owner = create_user()
    community = create_community(slug="privee-ouverte", visibility="private", owner=owner)
    create_post(community, owner, title="Réservé aux membres")
    agent = create_user()
    login_as(agent)
    assert "Réservé aux membres" not in client.get("/c/privee-ouverte").get_data(as_text=True)

    response = post(client, "/c/privee-ouverte/join", htmx=True)

    assert response.headers["HX-Refresh"] == "true"
    assert role_of(community, agent) == "member"
    assert "Réservé aux membres" in client.get("/c/privee-ouverte").get_data(as_text=True)


def test_a_remote_community_takes_no_join_request(client, create_user, create_community, login_as):
    from maillage.communities.permissions import can

    community = create_community(slug="distante", join_policy="request")
    community.local = False  # a community hosted on another instance: ask over there
    db.session.commit()
    agent = create_user()
    assert not can(agent, "request_join", community)
    login_as(agent)
    assert post(client, "/c/distante/request").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(JoinRequest)) == 0


def test_a_double_submission_racing_the_check_is_a_conflict(
    create_user, create_community, monkeypatch
):
    from maillage.communities.community import operations
    from maillage.platform.errors import Conflict

    community = create_community(join_policy="request")
    agent = create_user()
    first = operations.request_to_join(community, agent, "Première")
    db.session.commit()
    # the second submission read "no pending request" before the first one was written
    monkeypatch.setattr(operations, "pending_request", lambda community, user: None)

    with pytest.raises(Conflict, match="Votre demande est déjà en attente"):
        operations.request_to_join(community, agent, "Seconde")

    db.session.commit()  # the session is still usable: only the savepoint was rolled back
    assert db.session.scalars(select(JoinRequest.id)).all() == [first.id]
