"""Facilitator tools: members, roles, invitations, creating and configuring a community."""

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import func, select, update

from maillage.communities.community.models import Community, Invitation, Membership
from maillage.communities.community.operations import create_topic
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db


def csrf_token(client) -> str:
    page = client.get("/communities").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(client, url, data=None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def role_of(community, user):
    return db.session.scalar(
        select(Membership.role).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        )
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


# -- who may open the facilitator pages ----------------------------------------------------------


@pytest.mark.parametrize("role", ["moderator", "member", "guest"])
def test_non_managers_cannot_open_requests_settings_or_invitations(
    client, create_user, create_community, login_as, role
):
    person = create_user()
    create_community(slug="geree", join_policy="request", members=[(person, role)])
    login_as(person)
    for path in ("/c/geree/requests", "/c/geree/settings", "/c/geree/invite"):
        assert client.get(path).status_code == 403, path
    assert post(client, "/c/geree/settings", {"name": "Piratée"}).status_code == 403
    assert post(client, "/c/geree/invite", {"email": "x@example.org"}).status_code == 403
    page = client.get("/c/geree").get_data(as_text=True)
    assert "/c/geree/settings" not in page
    assert "/c/geree/requests" not in page


def test_facilitators_see_their_tools_with_the_pending_count(
    client, create_user, create_community, login_as
):
    facilitator = create_user()
    community = create_community(
        slug="outils", join_policy="request", members=[(facilitator, "facilitator")]
    )
    from maillage.communities.community.operations import request_to_join

    request_to_join(community, create_user(), "Bonjour")
    db.session.commit()
    login_as(facilitator)
    page = client.get("/c/outils").get_data(as_text=True)
    assert "1 demande en attente" in unescape(page)
    for path in ("/c/outils/requests", "/c/outils/settings", "/c/outils/invite"):
        assert f'href="{path}"' in page
        assert client.get(path).status_code == 200, path


def test_anonymous_visitors_are_sent_to_sign_in_for_facilitator_pages(client, create_community):
    create_community(slug="connexion")
    for path in ("/c/connexion/requests", "/c/connexion/settings", "/c/connexion/invite"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_deciding_a_request_of_another_community_is_404(
    client, create_user, create_community, login_as
):
    facilitator = create_user()
    create_community(slug="mienne", join_policy="request", owner=facilitator)
    other = create_community(slug="autre", join_policy="request")
    from maillage.communities.community.operations import request_to_join

    join_request = request_to_join(other, create_user())
    db.session.commit()
    login_as(facilitator)
    response = post(client, f"/c/mienne/requests/{join_request.id}", {"decision": "approve"})
    assert response.status_code == 404


# -- members -----------------------------------------------------------------------------------


def test_members_page_visibility(client, create_user, create_community, login_as):
    member = create_user(display_name="Inès Moreau")
    create_community(slug="pub", members=[member])
    create_community(slug="priv", visibility="private", join_policy="request", members=[member])

    response = client.get("/c/pub/members")  # anonymous: sign in first
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]

    login_as(create_user())
    assert "Inès Moreau" in text(client.get("/c/pub/members"))
    assert client.get("/c/priv/members").status_code == 403  # listed, but members only

    login_as(member)
    page = text(client.get("/c/priv/members"))
    assert "Inès Moreau" in page
    assert "Changer le rôle" not in page  # a plain member does not manage


def test_members_page_shows_organisations_and_roles(
    client, create_user, create_organisation, create_community, login_as
):
    owner = create_user(
        display_name="Camille Laurent",
        organisation=create_organisation("Réseau des acheteurs", "association"),
    )
    agent = create_user(
        display_name="Lucas Petit",
        organisation=create_organisation("Préfecture de l'Hérault", "state_service"),
    )
    create_community(slug="annuaire", owner=owner, members=[(agent, "moderator")])
    login_as(agent)
    page = text(client.get("/c/annuaire/members"))
    assert page.count("<h1") == 1
    assert "Camille Laurent" in page
    assert "Propriétaire" in page
    assert "Préfecture de l'Hérault" in page
    assert "Service de l'État" in page  # the person's organisation
    assert "Services de l'État : 1" in page  # the community's mix
    assert "Associations : 1" in page
    assert "Modérateur ou modératrice" in page
    assert "2 membres" in page


def test_facilitator_changes_a_role_and_removes_a_member(
    client, create_user, create_community, login_as
):
    facilitator, member, other = create_user(), create_user(), create_user()
    community = create_community(
        slug="equipe", members=[(facilitator, "facilitator"), member, other]
    )
    login_as(facilitator)
    page = client.get("/c/equipe/members").get_data(as_text=True)
    assert f'for="role-{member.id}"' in page
    assert '<option value="owner"' not in page  # only an owner names owners

    response = post(client, f"/c/equipe/members/{member.id}/role", {"role": "moderator"})
    assert response.status_code == 303
    assert role_of(community, member) == "moderator"
    assert "a désormais le rôle « Modérateur ou modératrice »" in text(
        client.get("/c/equipe/members")
    )

    response = post(client, f"/c/equipe/members/{other.id}/remove", {"confirmed": "1"})
    assert response.status_code == 303
    assert role_of(community, other) is None
    db.session.expire_all()
    assert db.session.get(Community, community.id).member_count == 3


def test_role_change_errors_are_shown_and_store_nothing(
    client, create_user, create_community, login_as
):
    owner, facilitator = create_user(), create_user()
    community = create_community(slug="garde", owner=owner, members=[(facilitator, "facilitator")])
    audit_before = count(AuditEntry)

    login_as(owner)
    # the last owner cannot step down
    response = post(client, f"/c/garde/members/{owner.id}/role", {"role": "member"})
    assert response.status_code == 400
    assert "au moins un propriétaire" in text(response)
    assert role_of(community, owner) == "owner"
    # an unknown role is refused by the form
    response = post(client, f"/c/garde/members/{facilitator.id}/role", {"role": "emperor"})
    assert response.status_code == 400
    assert "Ce choix n'est pas proposé." in text(response)
    assert role_of(community, facilitator) == "facilitator"
    # an owner cannot be removed
    response = post(client, f"/c/garde/members/{owner.id}/remove", {"confirmed": "1"})
    assert response.status_code == 400
    assert role_of(community, owner) == "owner"

    login_as(facilitator)
    # a facilitator may not name an owner
    response = post(client, f"/c/garde/members/{facilitator.id}/role", {"role": "owner"})
    assert response.status_code == 403
    assert role_of(community, facilitator) == "facilitator"
    assert count(AuditEntry) == audit_before


def test_members_cannot_change_roles(client, create_user, create_community, login_as):
    member, other = create_user(), create_user()
    community = create_community(slug="egaux", members=[member, other])
    login_as(member)
    assert post(client, f"/c/egaux/members/{other.id}/role", {"role": "owner"}).status_code == 403
    assert (
        post(client, f"/c/egaux/members/{other.id}/remove", {"confirmed": "1"}).status_code == 403
    )
    assert role_of(community, other) == "member"


# -- invitations -------------------------------------------------------------------------------


def invitation_link(outbox_mail, address) -> str:
    mail = next(m for m in reversed(outbox_mail()) if m["To"] == address)
    return re.search(r"https://maillage\.test(/invitations/\S+)", mail.get_content()).group(1)


def test_invitation_journey(client, create_user, create_community, login_as, outbox_mail):
    owner = create_user(display_name="Karim Benali")
    community = create_community(
        "Cellule de crise", slug="crise", visibility="secret", join_policy="invite", owner=owner
    )
    here = f"/c/{community.slug}"  # a secret community's address carries a random suffix
    login_as(owner)
    response = post(
        client, f"{here}/invite", {"email": "Partenaire@Asso.org", "role": "facilitator"}
    )
    assert response.status_code == 303
    page = text(client.get(f"{here}/invite"))
    assert "Invitation envoyée à partenaire@asso.org." in page
    assert "partenaire@asso.org" in page  # listed among pending invitations

    mail = next(m for m in outbox_mail() if m["To"] == "partenaire@asso.org")
    assert "Cellule de crise" in mail["Subject"]
    assert "Karim Benali" in mail.get_content()
    link = invitation_link(outbox_mail, "partenaire@asso.org")

    # anonymous, address without an account: offered to create the invited account (or to
    # sign in, coming back here afterwards)
    login_as(None)
    assert client.get(link).headers["Location"] == f"{link}/account"
    page = client.get(f"{link}/account").get_data(as_text=True)
    assert "Cellule de crise" in page
    assert f'href="/login?next={link}"' in page.replace("%2F", "/")

    invitee = create_user(email="partenaire@asso.org")
    login_as(invitee)
    page = text(client.get(link))
    assert "Rejoindre « Cellule de crise »" in page
    response = post(client, link)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(here)
    assert role_of(community, invitee) == "facilitator"
    assert client.get(here).status_code == 200  # the secret community is now visible

    # the link works once
    second = create_user()
    login_as(second)
    response = client.get(link)
    assert response.status_code == 410
    assert "Invitation déjà utilisée" in text(response)
    assert post(client, link).status_code == 410
    assert role_of(community, second) is None


def test_expired_and_unknown_invitations_are_refused(
    client, create_user, create_community, login_as, outbox_mail
):
    owner = create_user()
    community = create_community(slug="expire", join_policy="invite", owner=owner)
    login_as(owner)
    post(client, "/c/expire/invite", {"email": "tard@example.org", "role": "member"})
    link = invitation_link(outbox_mail, "tard@example.org")
    db.session.execute(
        update(Invitation).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    db.session.commit()

    late = create_user(email="tard@example.org")
    login_as(late)
    response = client.get(link)
    assert response.status_code == 410
    assert "Invitation expirée" in text(response)
    assert post(client, link).status_code == 410
    assert role_of(community, late) is None

    response = client.get("/invitations/not-a-real-token")
    assert response.status_code == 404
    assert "Invitation introuvable" in text(response)


def test_invite_validation(client, create_user, create_community, login_as, outbox_mail):
    owner, member = create_user(), create_user(email="deja@example.gouv.fr")
    create_community(slug="validation", join_policy="invite", owner=owner, members=[member])
    login_as(owner)

    response = post(client, "/c/validation/invite", {"email": "pas-une-adresse", "role": "member"})
    assert response.status_code == 400
    assert "Cette adresse e-mail n'est pas valide." in text(response)

    response = post(client, "/c/validation/invite", {"email": "a@example.org", "role": "owner"})
    assert response.status_code == 400
    assert "Ce choix n'est pas proposé." in text(response)

    response = post(
        client, "/c/validation/invite", {"email": "deja@example.gouv.fr", "role": "member"}
    )
    assert response.status_code == 400
    assert "deja@example.gouv.fr est déjà membre de la communauté." in text(response)

    assert count(Invitation) == 0
    assert outbox_mail() == []


def invitation_for(community, owner, address, role="member") -> str:
    from maillage.communities.community.operations import invite

    _, token = invite(community, owner, address, role)
    db.session.commit()
    return f"/invitations/{token}"


def test_a_member_following_an_invitation_is_told_they_are_in(
    client, create_user, create_community, login_as
):
    from maillage.communities.community.operations import join

    owner, member = create_user(), create_user(email="deja@example.gouv.fr")
    community = create_community(slug="deja", owner=owner)
    link = invitation_for(community, owner, "deja@example.gouv.fr")
    join(community, member)  # joined on their own before following the link
    db.session.commit()
    login_as(member)
    page = text(client.get(link))
    assert "Vous êtes déjà membre de cette communauté." in page
    assert f'action="{link}"' not in page  # nothing to accept: it would change nothing


def test_an_invitation_only_works_for_the_invited_address(
    client, create_user, create_community, login_as
):
    owner = create_user()
    community = create_community(slug="nominative", join_policy="invite", owner=owner)
    link = invitation_for(community, owner, "Invitee@Example.org")
    someone_else = create_user(email="curieux@example.org")
    login_as(someone_else)

    page = client.get(link)
    assert page.status_code == 403
    assert "Cette invitation a été envoyée à une autre adresse e-mail." in text(page)
    assert "nominative" not in text(page)
    response = post(client, link)
    assert response.status_code == 403
    assert "Cette invitation a été envoyée à une autre adresse e-mail." in text(response)
    assert role_of(community, someone_else) is None
    assert db.session.scalar(select(Invitation.used_at)) is None  # still usable by the invitee

    invitee = create_user(email="INVITEE@example.org")  # the address, whatever its case
    login_as(invitee)
    assert post(client, link).status_code == 303
    assert role_of(community, invitee) == "member"


def test_the_operation_refuses_another_address(create_user, create_community):
    from maillage.communities.community.operations import accept_invitation, invite
    from maillage.platform.errors import OperationError

    owner = create_user()
    community = create_community(join_policy="invite", owner=owner)
    _, token = invite(community, owner, "prevue@example.org")
    with pytest.raises(OperationError, match="envoyée à une autre adresse"):
        accept_invitation(token, create_user(email="autre@example.org"))


def test_an_invitation_raises_a_members_role_but_never_lowers_it(
    client, create_user, create_community, login_as
):
    from maillage.communities.community.operations import join

    owner = create_user()
    community = create_community(slug="promotion", owner=owner)
    member, facilitator = create_user(), create_user()
    to_facilitator = invitation_for(community, owner, member.email, "facilitator")
    to_guest = invitation_for(community, owner, facilitator.email, "guest")
    join(community, member)
    join(community, facilitator)
    db.session.commit()
    from maillage.communities.community.operations import change_role

    change_role(community, owner, facilitator, "facilitator")
    db.session.commit()

    login_as(member)
    page = text(client.get(to_facilitator))
    assert "accepter cette invitation vous donne le rôle" in page
    assert post(client, to_facilitator).status_code == 303
    assert role_of(community, member) == "facilitator"

    login_as(facilitator)
    assert "Vous êtes déjà membre de cette communauté." in text(client.get(to_guest))
    assert post(client, to_guest).status_code == 303
    assert role_of(community, facilitator) == "facilitator"  # not lowered to guest
    db.session.expire_all()
    assert db.session.get(Community, community.id).member_count == 3


def test_invitation_pages_are_not_cached(client, create_user, create_community, login_as):
    owner = create_user()
    community = create_community(slug="sans-cache", join_policy="invite", owner=owner)
    link = invitation_for(community, owner, "invitee@example.org")
    assert client.get(link).headers["Cache-Control"] == "no-store"  # anonymous
    login_as(create_user(email="invitee@example.org"))
    assert client.get(link).headers["Cache-Control"] == "no-store"
    login_as(create_user())  # another address
    assert client.get(link).headers["Cache-Control"] == "no-store"
    assert client.get("/invitations/inconnue").headers["Cache-Control"] == "no-store"


def test_invitations_are_rate_limited_per_person(
    app, client, create_user, create_community, login_as, outbox_mail
):
    app.config["RATELIMIT_INVITE"] = "3 per hour"
    owner, other = create_user(), create_user()
    create_community(slug="limite", join_policy="invite", owner=owner)
    create_community(slug="limite-bis", join_policy="invite", owner=other)
    login_as(owner)
    for number in range(3):
        data = {"email": f"personne{number}@example.org", "role": "member"}
        assert post(client, "/c/limite/invite", data).status_code == 303
    data = {"email": "une-de-trop@example.org", "role": "member"}
    assert post(client, "/c/limite/invite", data).status_code == 429
    assert client.get("/c/limite/invite").status_code == 200  # reading the page is not limited
    assert count(Invitation) == 3
    assert len(outbox_mail()) == 3

    login_as(other)  # the budget is per person
    assert post(client, "/c/limite-bis/invite", data).status_code == 303


def test_the_last_owner_cannot_be_demoted_even_by_another_path(create_user, create_community):
    from maillage.communities.community.operations import change_role
    from maillage.platform.errors import Conflict

    owner, second = create_user(), create_user()
    community = create_community(owner=owner, members=[(second, "owner")])
    change_role(community, owner, second, "facilitator")
    with pytest.raises(Conflict, match="au moins un propriétaire"):
        change_role(community, owner, owner, "member")
    db.session.rollback()
    assert role_of(community, owner) == "owner"


def test_a_demotion_that_would_leave_no_owner_is_undone(create_user, create_community, monkeypatch):
    """Two owners demoting each other at once both passed the first count: the second count,
    after the write, catches it (simulated by making the first count see a stale value)."""
    from maillage.communities.community import operations
    from maillage.platform.errors import Conflict

    owner = create_user()
    community = create_community(owner=owner)
    counts = iter([2])  # the stale first count, then the real one
    real = operations.owner_count
    monkeypatch.setattr(
        operations, "owner_count", lambda c, lock=False: next(counts, None) or real(c, lock)
    )
    with pytest.raises(Conflict, match="au moins un propriétaire"):
        operations.change_role(community, owner, owner, "member")
    membership = operations.membership_of(community, owner)
    assert membership.role == "owner"
    db.session.commit()
    assert role_of(community, owner) == "owner"


# -- creating a community ----------------------------------------------------------------------


def test_create_a_community(client, create_user, login_as):
    create_topic("Achats publics", "achats")
    create_topic("Numérique", "numerique")
    db.session.commit()
    founder = create_user()
    login_as(founder)

    page = text(client.get("/communities/new"))
    assert "<legend>Visibilité</legend>" in page
    assert "Achats publics" in page

    response = post(
        client,
        "/communities/new",
        {
            "name": "Réseau des acheteurs d'Occitanie",
            "slug": "",
            "description": "Pour partager nos marchés.",
            "visibility": "private",
            "join_policy": "request",
            "topics": ["achats", "numerique"],
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/c/reseau-des-acheteurs-d-occitanie")
    community = db.session.scalar(select(Community))
    assert (community.visibility, community.join_policy) == ("private", "request")
    assert sorted(topic.slug for topic in community.topics) == ["achats", "numerique"]
    assert role_of(community, founder) == "owner"
    page = text(client.get(response.headers["Location"]))
    assert "La communauté « Réseau des acheteurs d'Occitanie » est créée." in page


def test_a_secret_community_gets_an_address_nobody_can_guess(client, create_user, login_as):
    founder = create_user()
    login_as(founder)
    data = {"name": "Cellule de crise", "slug": "cellule", "visibility": "secret"}
    response = post(client, "/communities/new", {**data, "join_policy": "invite"})
    assert response.status_code == 303
    secret = db.session.scalar(select(Community))
    assert re.fullmatch(r"cellule-[0-9a-f]{8}", secret.slug)
    assert response.headers["Location"].endswith(f"/c/{secret.slug}")
    assert secret.ap_id.endswith(f"/{secret.slug}")

    # asking for the address the founder typed reveals nothing: it is free
    login_as(create_user())
    response = post(
        client,
        "/communities/new",
        {"name": "Cellule", "slug": "cellule", "visibility": "public", "join_policy": "open"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/c/cellule")
    assert count(Community) == 2


def test_a_long_secret_address_keeps_within_the_limit(create_user):
    from maillage.communities.community.operations import SLUG_RE, create_community

    owner = create_user()
    slug = "a" * 54 + "-" + "b" * 9  # 64 characters; cutting at 55 would end with "-"
    first = create_community(owner, "Longue", slug=slug, visibility="secret")
    second = create_community(owner, "Longue", slug=slug, visibility="secret")
    for community in (first, second):
        assert len(community.slug) <= 64
        assert SLUG_RE.match(community.slug)
        assert community.slug.startswith("a" * 54 + "-")
    assert first.slug != second.slug  # the same chosen address twice: no collision either


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Le nom de la communauté est obligatoire."),
        ({"name": "   "}, "Le nom de la communauté est obligatoire."),
        ({"name": "x" * 121}, "Le nom fait 120 caractères au plus."),
        ({"name": "Bon nom", "slug": "Pas bien!"}, "L'adresse ne contient que des lettres"),
        ({"name": "Bon nom", "slug": "-tiret"}, "sans tiret au début ni à la fin"),
        ({"name": "Bon nom", "slug": "existante"}, "Une communauté utilise déjà l'adresse"),
        ({"name": "!!!"}, "L'adresse doit contenir des lettres minuscules"),
        ({"name": "Bon nom", "visibility": "everyone"}, "Ce choix n'est pas proposé."),
        ({"name": "Bon nom", "topics": ["inconnu"]}, "Ce choix n'est pas proposé."),
    ],
)
def test_create_validation_errors_store_nothing(
    client, create_user, create_community, login_as, data, message
):
    create_community("Existante", slug="existante")
    create_topic("Numérique", "numerique")
    db.session.commit()
    login_as(create_user())
    before = (count(Community), count(Membership), count(AuditEntry))

    form = {"visibility": "public", "join_policy": "open", **data}
    response = post(client, "/communities/new", form)

    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert 'aria-invalid="true"' in page or 'class="flash flash-error"' in page
    assert (count(Community), count(Membership), count(AuditEntry)) == before


def test_creating_needs_an_account(client):
    response = client.get("/communities/new")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# -- settings ----------------------------------------------------------------------------------


def test_settings_are_prefilled_and_saved(client, create_user, create_community, login_as):
    climate = create_topic("Climat", "climat")
    db.session.commit()
    owner = create_user()
    community = create_community(
        "Ancien nom", slug="parametres", owner=owner, description="Ancienne description"
    )
    login_as(owner)

    page = text(client.get("/c/parametres/settings"))
    assert 'value="Ancien nom"' in page
    assert "Ancienne description" in page
    assert "<code>https://maillage.test/c/parametres</code>" in page
    assert 'name="slug"' not in page  # the address never changes (federation ids)

    response = post(
        client,
        "/c/parametres/settings",
        {
            "name": "Nouveau nom",
            "description": "Nouvelle description",
            "visibility": "secret",
            "join_policy": "invite",
            "topics": ["climat"],
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    community = db.session.get(Community, community.id)
    assert (community.name, community.visibility, community.join_policy) == (
        "Nouveau nom",
        "secret",
        "invite",
    )
    assert community.topics == [climate]
    assert "Les paramètres sont enregistrés." in text(client.get("/c/parametres"))


def test_settings_validation_error_keeps_the_old_values(
    client, create_user, create_community, login_as
):
    owner = create_user()
    community = create_community("Nom stable", slug="stable", owner=owner)
    login_as(owner)
    response = post(
        client,
        "/c/stable/settings",
        {"name": "", "description": "changée", "visibility": "public", "join_policy": "open"},
    )
    assert response.status_code == 400
    assert "Le nom de la communauté est obligatoire." in text(response)
    db.session.expire_all()
    assert db.session.get(Community, community.id).name == "Nom stable"
    assert db.session.get(Community, community.id).description == ""
