"""The directory and the community page: visibility, filters, content, bounded queries."""

import re
from html import unescape

import pytest

from maillage.communities.community.operations import create_topic
from maillage.platform.extensions import db


@pytest.fixture
def topics(app):
    made = {
        "achats": create_topic("Achats publics", "achats"),
        "climat": create_topic("Transition écologique", "climat"),
    }
    db.session.commit()
    return made


def card_names(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/c/[^"]+">([^<]+)</a></h2>', html)


# -- directory ---------------------------------------------------------------------------------


def test_directory_lists_public_and_private_but_never_secret_to_outsiders(
    client, create_user, create_community, login_as
):
    member = create_user()
    create_community("Publique", visibility="public")
    create_community("Privée", visibility="private", join_policy="request")
    create_community("Cellule secrète", visibility="secret", join_policy="invite", members=[member])

    anonymous = client.get("/communities").get_data(as_text=True)
    assert sorted(card_names(anonymous)) == ["Privée", "Publique"]
    assert "secrète" not in anonymous.lower().replace("secrète :", "")

    login_as(create_user())  # a signed-in outsider
    assert "Cellule secrète" not in client.get("/communities").get_data(as_text=True)

    login_as(member)
    page = client.get("/communities").get_data(as_text=True)
    assert "Cellule secrète" in card_names(page)
    assert "Vous êtes membre" in page


def test_directory_card_shows_what_a_community_is(
    client, create_user, create_organisation, create_community, topics
):
    from maillage.communities.community.operations import update_settings

    owner = create_user(organisation=create_organisation("Région Occitanie", "local_authority"))
    state_agent = create_user(organisation=create_organisation("Préfecture", "state_service"))
    partner = create_user(organisation=create_organisation("Asso", "association"))
    community = create_community(
        "Acheteurs publics",
        owner=owner,
        description="Le réseau des acheteurs. " + "Très long texte. " * 40,
        join_policy="request",
        members=[state_agent, partner],
    )
    update_settings(
        community,
        owner,
        community.name,
        community.description,
        "public",
        "request",
        [topics["achats"]],
    )
    db.session.commit()

    page = unescape(client.get("/communities").get_data(as_text=True))

    assert "Acheteurs publics" in page
    assert "Le réseau des acheteurs." in page
    assert "Très long texte. " * 40 not in page  # an excerpt, not the whole description
    assert "Publique" in page
    assert "Adhésion sur demande" in page
    assert "3 membres" in page
    assert 'href="/communities?topic=achats">#Achats publics<' in page
    assert "Collectivités territoriales : 1" in page
    assert "Services de l'État : 1" in page
    assert "Associations : 1" in page


def test_directory_filters_by_organisation_kind(
    client, create_user, create_organisation, create_community
):
    mayor = create_user(organisation=create_organisation("Commune", "local_authority"))
    prefect = create_user(organisation=create_organisation("Préfecture", "state_service"))
    create_community("Maires ruraux", owner=mayor)
    create_community("Préfectures", owner=prefect)
    create_community("Mixte", owner=prefect, members=[mayor])

    page = client.get("/communities?kind=local_authority").get_data(as_text=True)
    assert sorted(card_names(page)) == ["Maires ruraux", "Mixte"]
    assert '<option selected value="local_authority">' in page or (
        'value="local_authority" selected' in page
    )
    assert "2 communautés correspondent à votre recherche." in page

    page = client.get("/communities?kind=state_service").get_data(as_text=True)
    assert sorted(card_names(page)) == ["Mixte", "Préfectures"]

    # an unknown kind is ignored rather than an error page
    response = client.get("/communities?kind=martians")
    assert response.status_code == 200
    assert len(card_names(response.get_data(as_text=True))) == 3


def test_directory_kind_labels_are_french(client):
    page = unescape(client.get("/communities").get_data(as_text=True))
    for label in (
        "Services de l'État",
        "Collectivités territoriales",
        "Associations",
        "Autres organisations",
    ):
        assert label in page


def test_directory_filters_by_topic_and_name(client, create_community, topics):
    from maillage.communities.community.operations import update_settings

    climate = create_community("Plan climat")
    purchasing = create_community("Achats durables")
    create_community("Sans thème")
    for community, topic_list in (
        (climate, [topics["climat"]]),
        (purchasing, [topics["achats"], topics["climat"]]),
    ):
        owner = community_owner(community)
        update_settings(community, owner, community.name, "", "public", "open", topic_list)
    db.session.commit()

    assert sorted(card_names(client.get("/communities?topic=climat").get_data(as_text=True))) == [
        "Achats durables",
        "Plan climat",
    ]
    assert card_names(client.get("/communities?topic=achats").get_data(as_text=True)) == [
        "Achats durables"
    ]
    assert card_names(client.get("/communities?q=climat").get_data(as_text=True)) == ["Plan climat"]
    page = client.get("/communities?q=100%25_").get_data(as_text=True)  # LIKE wildcards are text
    assert card_names(page) == []
    assert "Aucune communauté ne correspond à ces filtres." in page


def community_owner(community):
    from sqlalchemy import select

    from maillage.communities.community.models import Membership
    from maillage.communities.users.models import User

    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.community_id == community.id, Membership.role == "owner")
    )


def test_directory_paginates(app, client, create_user, create_community):
    app.config["DIRECTORY_PAGE_SIZE"] = 2
    owner = create_user()
    for index in range(5):
        create_community(f"Réseau {index}", owner=owner)

    first = client.get("/communities").get_data(as_text=True)
    assert len(card_names(first)) == 2
    assert "Page 1 sur 3" in first
    assert 'href="/communities?page=2" rel="next"' in first
    third = client.get("/communities?page=3").get_data(as_text=True)
    assert len(card_names(third)) == 1
    assert 'href="/communities?page=2" rel="prev"' in third
    seen = card_names(first) + card_names(client.get("/communities?page=2").get_data(as_text=True))
    assert len(set(seen + card_names(third))) == 5
    assert client.get("/communities?page=-4").status_code == 200
    filtered = client.get("/communities?q=R%C3%A9seau").get_data(as_text=True)
    assert 'href="/communities?page=2&amp;q=R%C3%A9seau"' in filtered


def test_directory_queries_do_not_grow_with_the_page(
    client, create_user, create_organisation, create_community, topics, count_queries, login_as
):
    viewer = create_user()
    login_as(viewer)
    create_community("Premier", members=[viewer])
    client.get("/communities")  # warm up (first-request work)
    with count_queries() as few:
        assert client.get("/communities").status_code == 200

    from maillage.communities.community.operations import update_settings

    for index in range(12):
        member = create_user(organisation=create_organisation(kind="association"))
        community = create_community(f"Réseau {index}", members=[member, viewer])
        update_settings(
            community,
            community_owner(community),
            community.name,
            "",
            "public",
            "open",
            list(topics.values()),
        )
        db.session.commit()
    with count_queries() as many:
        page = client.get("/communities").get_data(as_text=True)
    assert len(card_names(page)) == 13
    assert len(many) == len(few)
    assert len(many) <= 8


# -- community page ----------------------------------------------------------------------------


def test_unknown_community_is_404(client):
    response = client.get("/c/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_secret_community_is_404_to_outsiders_and_visible_to_members(
    client, create_user, create_community, login_as
):
    member = create_user()
    crise = create_community(
        "Cellule de crise",
        slug="crise",
        visibility="secret",
        join_policy="invite",
        members=[member],
    ).slug  # "crise-" and a random suffix
    for path in (f"/c/{crise}", f"/c/{crise}/members"):
        response = client.get(path)
        assert response.status_code == 404, path
        html = response.get_data(as_text=True)
        assert "Page introuvable" in html  # exactly the page of an unknown address
        assert "Cellule de crise" not in html

    login_as(create_user())
    for page in ("", "/members", "/requests", "/settings"):
        path = f"/c/{crise}{page}"
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Cellule de crise" not in response.get_data(as_text=True)
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/communities").get_data(as_text=True)
    ).group(1)
    assert client.post(f"/c/{crise}/join", data={"csrf_token": token}).status_code == 404

    login_as(member)
    page = client.get(f"/c/{crise}")
    assert page.status_code == 200
    assert "<h1>Cellule de crise</h1>" in page.get_data(as_text=True)
    assert client.get(f"/c/{crise}/members").status_code == 200


def test_private_community_shows_its_header_but_reserves_content(
    client, create_user, create_community, create_post, login_as
):
    owner = create_user()
    community = create_community(
        "Réseau RH",
        slug="rh",
        visibility="private",
        join_policy="request",
        owner=owner,
        description="Les responsables RH.\n\nDeuxième paragraphe.",
    )
    create_post(community, owner, title="Note confidentielle")

    page = client.get("/c/rh").get_data(as_text=True)
    assert "<h1>Réseau RH</h1>" in page
    assert "<p>Les responsables RH.</p>" in page
    assert "<p>Deuxième paragraphe.</p>" in page
    assert "Privée" in page
    assert "Les contenus de cette communauté sont réservés à ses membres." in page
    assert "Note confidentielle" not in page
    assert "Connectez-vous pour demander à la rejoindre." in page

    login_as(owner)
    page = client.get("/c/rh").get_data(as_text=True)
    assert "Note confidentielle" in page
    assert "réservés à ses membres" not in page


def test_public_community_page(
    client, create_user, create_organisation, create_community, create_post, topics, login_as
):
    from maillage.communities.community.operations import update_settings

    owner = create_user(organisation=create_organisation("DREAL Occitanie", "state_service"))
    partner = create_user(organisation=create_organisation("Collectif", "association"))
    community = create_community(
        "Climat", slug="climat", owner=owner, members=[partner], description="Agir ensemble."
    )
    update_settings(
        community, owner, "Climat", "Agir ensemble.", "public", "open", [topics["climat"]]
    )
    db.session.commit()
    create_post(community, partner, title="Retour d'expérience")

    response = client.get("/c/climat")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert page.count("<h1") == 1
    assert "Retour d'expérience" in page
    assert "DREAL Occitanie" in page  # host organisation
    assert "#Transition écologique" in page
    assert "Services de l'État : 1" in page
    assert "Associations : 1" in page
    assert "Publier dans la communauté" not in page  # anonymous: no composer

    login_as(partner)
    page = client.get("/c/climat").get_data(as_text=True)
    assert "Publier dans la communauté" in page


def test_guests_read_but_get_no_composer(client, create_user, create_community, login_as):
    guest = create_user()
    create_community(slug="invites", visibility="private", members=[(guest, "guest")])
    login_as(guest)
    page = client.get("/c/invites").get_data(as_text=True)
    assert "réservés à ses membres" not in page
    assert "Publier dans la communauté" not in page
    assert "invité ou invitée (lecture seule)" in page


def test_posts_are_paged_by_keyset(app, client, create_user, create_community, create_post):
    app.config["FEED_PAGE_SIZE"] = 3
    owner = create_user()
    community = create_community(slug="fil", owner=owner)
    for index in range(7):
        create_post(community, owner, title=f"Publication numéro {index}")

    first = client.get("/c/fil").get_data(as_text=True)
    titles = re.findall(r"Publication numéro (\d)</a>", first)
    assert titles == ["6", "5", "4"]
    cursor = re.search(r'href="/c/fil\?after=([^"]+)" rel="next"', first).group(1)
    second = client.get(f"/c/fil?after={cursor}").get_data(as_text=True)
    assert re.findall(r"Publication numéro (\d)</a>", second) == ["3", "2", "1"]
    assert "Revenir aux publications les plus récentes" in second
    assert client.get("/c/fil?after=not-a-cursor").status_code == 200


def test_community_page_queries_do_not_grow_with_posts(
    client, create_user, create_organisation, create_community, create_post, count_queries, login_as
):
    from maillage.communities.posts.operations import toggle_reaction

    owner = create_user()
    community = create_community(slug="mesure", owner=owner)
    create_post(community, owner, title="Seule publication")
    login_as(owner)
    client.get("/c/mesure")
    with count_queries() as few:
        assert client.get("/c/mesure").status_code == 200

    for index in range(15):
        author = create_user(organisation=create_organisation(kind="local_authority"))
        from maillage.communities.community.operations import join

        join(community, author)
        db.session.commit()
        post = create_post(community, author, title=f"Publication {index}")
        toggle_reaction(post, owner, "👍")
        db.session.commit()
    with count_queries() as many:
        page = client.get("/c/mesure").get_data(as_text=True)
    assert page.count('class="post post-card"') == 16
    assert len(many) == len(few)
    assert len(many) <= 12
