"""Search journeys over HTTP: French and English matching, highlighting, facets, pagination, and
above all that nobody finds what they may not read — checked in the page and in the index."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import delete

from maillage.communities.community.operations import update_settings
from maillage.communities.posts.models import Post
from maillage.communities.posts.operations import (
    add_comment,
    delete_comment,
    delete_post,
    edit_post,
)
from maillage.communities.search import providers
from maillage.communities.users.operations import update_profile
from maillage.platform.extensions import db
from maillage.platform.search.backend import PUBLIC, get_backend
from maillage.platform.search.indexing import reindex_all


def search_page(client, q: str, **args) -> tuple[int, str]:
    response = client.get("/search", query_string={"q": q, **args})
    return response.status_code, response.get_data(as_text=True)


def result_titles(html: str) -> list[str]:
    """The titles of the results shown, marks removed."""
    titles = re.findall(
        r'<li class="card search-result[^"]*">.*?<h2><a href="[^"]*">(.*?)</a>', html, re.S
    )
    return [unescape(re.sub(r"</?mark>", "", title)).strip() for title in titles]


def indexed(q: str, audiences=None) -> set[tuple[str, int]]:
    """What the index itself returns (no permission re-check)."""
    return {(hit.kind, hit.object_id) for hit in get_backend().search(q, audiences, limit=100).hits}


# -- the page ----------------------------------------------------------------------------------


def test_empty_query_shows_a_labelled_form_and_no_results(client):
    status, html = search_page(client, "")
    assert status == 200
    assert '<label for="search-q">' in html
    assert 'role="search"' in html
    assert "Saisissez un ou plusieurs mots" in html
    assert "search-result" not in html


def test_too_long_query_is_a_clear_french_error(client):
    status, html = search_page(client, "x" * 201)
    assert status == 400
    assert "La recherche est trop longue : 200 caractères au plus" in html
    assert 'aria-invalid="true"' in html
    status, _html = search_page(client, "x" * 200)
    assert status == 200


def test_no_results_says_so(client, create_community, create_post):
    community = create_community("Achats publics")
    create_post(community, community_owner(community), "Marchés", "Rien à voir.")
    status, html = search_page(client, "ornithorynque")
    assert status == 200
    assert "Aucun résultat pour « ornithorynque »." in html
    assert result_titles(html) == []


def test_the_query_is_escaped_wherever_it_is_shown(client):
    status, html = search_page(client, '<script>alert("q")</script>')
    assert status == 200
    assert "<script>alert" not in html
    assert "« &lt;script&gt;alert(&#34;q&#34;)&lt;/script&gt; »" in html


def community_owner(community):
    from maillage.communities.community.models import Membership

    membership = db.session.scalar(
        db.select(Membership).where(
            Membership.community_id == community.id, Membership.role == "owner"
        )
    )
    return membership.user


# -- language ----------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["reunion", "réunion", "Réunion", "REUNIONS", "réunions"])
def test_accents_case_and_plurals_do_not_matter(client, create_community, create_post, q):
    community = create_community("Réseau des acheteurs")
    author = community_owner(community)
    create_post(community, author, "Compte rendu de la réunion", "Les réunions ont lieu le mardi.")
    create_post(community, author, "Budget 2027", "Sans rapport.")
    _status, html = search_page(client, q)
    assert result_titles(html) == ["Compte rendu de la réunion"]


def test_english_words_are_stemmed_too(client, create_community, create_post):
    community = create_community("Open data")
    create_post(community, community_owner(community), "Weekly meeting", "Agenda and notes.")
    _status, html = search_page(client, "meetings")
    assert result_titles(html) == ["Weekly meeting"]


def test_every_word_must_match_and_french_stop_words_are_ignored(
    client, create_community, create_post
):
    community = create_community("Collectivités")
    author = community_owner(community)
    create_post(community, author, "Réunion budget", "Préparation.")
    create_post(community, author, "Réunion voirie", "Travaux.")
    _status, html = search_page(client, "la réunion du budget")
    assert result_titles(html) == ["Réunion budget"]


def test_quoted_phrase_and_query_syntax_are_safe(client, create_community, create_post):
    community = create_community("Syntaxe")
    create_post(community, community_owner(community), "Plan climat", "Le plan climat air énergie.")
    _status, html = search_page(client, '"plan climat"')
    assert result_titles(html) == ["Plan climat"]
    for odd in ['"(((', "audience:c:1", "*:*", "title_fr:plan", "NOT", "réun*", "a OR"]:
        status, _html = search_page(client, odd)
        assert status == 200, odd


def test_matched_words_are_highlighted_and_everything_is_escaped(
    client, create_community, create_post
):
    community = create_community("Sécurité")
    create_post(
        community,
        community_owner(community),
        "Réunion <b>importante</b>",
        "Avant la <script>alert('x')</script> réunion, relire les notes.",
    )
    _status, html = search_page(client, "reunion")
    assert "<mark>Réunion</mark> &lt;b&gt;importante&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; <mark>réunion</mark>" in html
    assert "<script>alert" not in html


def test_people_are_found_by_name_job_and_organisation(client, create_user, create_organisation):
    prefecture = create_organisation("Préfecture de la Gironde")
    agent = create_user("cmartin", display_name="Claire Martin", organisation=prefecture)
    update_profile(agent, "Claire Martin", "Chargée de mission achats", "", prefecture)
    db.session.commit()
    gone = create_user("parti", display_name="Claire Partie", organisation=prefecture)
    gone.is_active = False
    update_profile(gone, "Claire Partie", "", "", prefecture)
    db.session.commit()
    for q in ["claire", "prefecture gironde", "achat"]:
        _status, html = search_page(client, q, type="user")
        assert result_titles(html) == ["Claire Martin"], q
    assert ("user", gone.id) not in indexed("claire")


def test_comments_make_their_post_findable(client, create_community, create_post):
    community = create_community("Financements")
    author = community_owner(community)
    post = create_post(community, author, "Question", "Qui connaît le dispositif ?")
    add_comment(post, author, "Voir les subventions de la région.")
    db.session.commit()
    _status, html = search_page(client, "subvention")
    assert result_titles(html) == ["Question"]
    comment = add_comment(post, author, "Et les appels à projets.")
    db.session.commit()
    _status, html = search_page(client, "projets")
    assert result_titles(html) == ["Question"]
    delete_comment(comment, author)
    db.session.commit()
    _status, html = search_page(client, "projets")
    assert result_titles(html) == []


def test_a_broken_index_is_a_clear_503_not_a_crash(client, monkeypatch, caplog):
    from maillage.platform.search.whoosh_backend import WhooshBackend

    def broken(*_args, **_kwargs):
        raise OSError("index folder vanished")

    monkeypatch.setattr(WhooshBackend, "search", broken)
    status, html = search_page(client, "budget")
    assert status == 503
    assert "La recherche est momentanément indisponible" in html
    assert "index folder vanished" not in html
    assert "search backend failed" in caplog.text
    api = client.get("/api/v1/search?q=budget")
    assert api.status_code == 503
    assert api.get_json()["error"]["status"] == 503


# -- who finds what ----------------------------------------------------------------------------


@pytest.fixture
def three_communities(create_user, create_community, create_post):
    """A public, a private and a secret community, each with a "budget" post; ``member``
    belongs to the private and the secret ones."""
    member, outsider, admin = create_user(), create_user(), create_user(is_admin=True)
    public = create_community("Budget ouvert", visibility="public")
    private = create_community("Budget entre pairs", visibility="private", members=[member])
    secret = create_community("Budget confidentiel", visibility="secret", members=[member])
    for community, word in ((public, "public"), (private, "privé"), (secret, "secret")):
        create_post(community, community_owner(community), f"Budget {word}", "Arbitrages.")
    return {
        "member": member,
        "outsider": outsider,
        "admin": admin,
        "public": public,
        "private": private,
        "secret": secret,
    }


EVERYTHING = {
    "Budget ouvert",
    "Budget entre pairs",
    "Budget confidentiel",
    "Budget public",
    "Budget privé",
    "Budget secret",
}
# Private communities are listed (their name and description), their posts are not.
WHAT_OUTSIDERS_SEE = {"Budget ouvert", "Budget entre pairs", "Budget public"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (None, WHAT_OUTSIDERS_SEE),
        ("outsider", WHAT_OUTSIDERS_SEE),
        ("member", EVERYTHING),
        # Administrators are not members: private and secret content needs an access grant
        # (tests/communities/test_oversight.py).
        ("admin", WHAT_OUTSIDERS_SEE),
    ],
)
def test_results_are_what_the_viewer_may_read(login_as, three_communities, who, expected):
    client = login_as(three_communities[who] if who else None)
    _status, html = search_page(client, "budget")
    assert set(result_titles(html)) == expected


def test_the_index_itself_keeps_private_content_out_of_public_audiences(three_communities):
    private, secret = three_communities["private"], three_communities["secret"]
    found = indexed("budget", {PUBLIC})
    assert ("community", private.id) in found
    assert ("community", secret.id) not in found
    assert not [hit for hit in found if hit[0] == "post" and hit[1] != _post_id("Budget public")]
    member_view = indexed("budget", {PUBLIC, f"c:{private.id}", f"c:{secret.id}"})
    assert ("community", secret.id) in member_view
    assert ("post", _post_id("Budget secret")) in member_view


def _post_id(title: str) -> int:
    return db.session.scalar(db.select(Post.id).where(Post.title == title))


def test_a_stale_public_document_is_still_filtered_by_the_policy(login_as, three_communities):
    """If the index lags (a document still says public), the permission re-check hides it."""
    secret = three_communities["secret"]
    post_id = _post_id("Budget secret")
    get_backend().update(
        [
            {
                "id": f"post:{post_id}",
                "kind": "post",
                "object_id": post_id,
                "audience": PUBLIC,
                "title": "Budget secret",
                "text": "",
            },
            {
                "id": f"community:{secret.id}",
                "kind": "community",
                "object_id": secret.id,
                "audience": PUBLIC,
                "title": "Budget confidentiel",
                "text": "",
            },
        ]
    )
    client = login_as(three_communities["outsider"])
    _status, html = search_page(client, "budget")
    assert set(result_titles(html)) == WHAT_OUTSIDERS_SEE


def test_hits_whose_object_is_gone_are_dropped(client, create_community, create_post):
    community = create_community("Archives")
    post = create_post(community, community_owner(community), "Archive ancienne", "Texte.")
    db.session.execute(delete(Post).where(Post.id == post.id))  # no signal: the index lags
    db.session.commit()
    db.session.expunge_all()
    assert ("post", post.id) in indexed("archive")
    status, html = search_page(client, "archive")
    assert status == 200
    assert "Archive ancienne" not in result_titles(html)


# -- keeping the index in step -----------------------------------------------------------------


def test_a_deleted_post_disappears_from_results_and_index(client, create_community, create_post):
    community = create_community("Éphémère")
    author = community_owner(community)
    post = create_post(community, author, "Annonce provisoire", "À retirer.")
    _status, html = search_page(client, "provisoire")
    assert result_titles(html) == ["Annonce provisoire"]
    post_id = post.id
    delete_post(post, author)
    db.session.commit()
    assert ("post", post_id) not in indexed("provisoire")
    _status, html = search_page(client, "provisoire")
    assert result_titles(html) == []


def test_an_edited_post_is_found_by_its_new_words(client, create_community, create_post):
    community = create_community("Édition")
    author = community_owner(community)
    post = create_post(community, author, "Brouillon", "Premier jet.")
    edit_post(post, author, "Version finale", "Texte définitif sur la mutualisation.")
    db.session.commit()
    _status, html = search_page(client, "mutualisation")
    assert result_titles(html) == ["Version finale"]
    _status, html = search_page(client, "brouillon")
    assert result_titles(html) == []


def test_community_made_secret_hides_its_posts_from_outsiders(
    login_as, create_user, create_community, create_post, monkeypatch
):
    # Small chunks, so the reindex of the community's posts spans several outbox items.
    monkeypatch.setattr(providers, "COMMUNITY_CONTENT_CHUNK", 2)
    member, outsider = create_user(), create_user()
    community = create_community("Veille juridique", members=[member])
    owner = community_owner(community)
    for number in range(5):
        create_post(community, owner, f"Jurisprudence {number}", "Décision commentée.")
    _status, html = search_page(login_as(outsider), "jurisprudence")
    assert len(result_titles(html)) == 5

    update_settings(community, owner, community.name, "", "secret", "invite", [])
    db.session.commit()

    assert indexed("jurisprudence", {PUBLIC}) == set()  # every chunk was reindexed
    assert len(indexed("jurisprudence", {f"c:{community.id}"})) == 5
    _status, html = search_page(login_as(outsider), "jurisprudence veille")
    assert result_titles(html) == []
    _status, html = search_page(login_as(None), "jurisprudence")
    assert result_titles(html) == []
    _status, html = search_page(login_as(member), "jurisprudence")
    assert len(result_titles(html)) == 5


def test_renaming_a_community_reindexes_it(client, create_community):
    community = create_community("Ancien nom")
    update_settings(
        community, community_owner(community), "Nouveau réseau", "", "public", "open", []
    )
    db.session.commit()
    _status, html = search_page(client, "nouveau")
    assert result_titles(html) == ["Nouveau réseau"]
    _status, html = search_page(client, "ancien")
    assert result_titles(html) == []


def test_reindex_all_rebuilds_the_index_from_the_database(
    app, client, create_community, create_post, create_user
):
    community = create_community("Mobilités", description="Covoiturage des agents")
    create_post(community, community_owner(community), "Plan de mobilité", "Vélo et covoiturage.")
    create_user("velo", display_name="Vélo Dupont")
    get_backend().clear()
    _status, html = search_page(client, "covoiturage")
    assert result_titles(html) == []

    count = reindex_all()
    assert count >= 4  # a community, a post, its owner and the cyclist at least
    _status, html = search_page(client, "covoiturage")
    assert set(result_titles(html)) == {"Mobilités", "Plan de mobilité"}

    get_backend().clear()
    result = app.test_cli_runner().invoke(args=["maillage", "reindex"])
    assert result.exit_code == 0, result.output
    assert f"{count} documents indexés." in result.output
    _status, html = search_page(client, "velo", type="user")
    assert result_titles(html) == ["Vélo Dupont"]


# -- facets and pages --------------------------------------------------------------------------


def facet_counts(html: str) -> dict[str, tuple[int, bool]]:
    links = re.findall(
        r'<li><a href="[^"]*" (aria-current="page")?>\s*([^<]+?) <span class="badge">(\d+)</span>',
        html,
    )
    return {label: (int(count), bool(current)) for current, label, count in links}


def test_facets_count_each_type_and_filter_results(
    client, create_user, create_community, create_post
):
    owner = create_user("eau", display_name="Agence de l'eau")
    community = create_community("Eau et assainissement", owner=owner)
    create_post(community, owner, "Qualité de l'eau", "Analyses.")
    create_post(community, owner, "Eau potable", "Réseaux.")
    _status, html = search_page(client, "eau")
    assert facet_counts(html) == {
        "Tout": (4, True),
        "Communautés": (1, False),
        "Publications": (2, False),
        "Personnes": (1, False),
        # the community facet: the community itself and its two posts
        "Eau et assainissement": (3, False),
    }
    _status, html = search_page(client, "eau", type="post")
    assert set(result_titles(html)) == {"Qualité de l'eau", "Eau potable"}
    assert facet_counts(html)["Publications"] == (2, True)
    assert facet_counts(html)["Communautés"] == (1, False)
    assert "2 résultats pour « eau »." in html
    _status, html = search_page(client, "eau", type="community")
    assert result_titles(html) == ["Eau et assainissement"]


def test_community_facet_keeps_one_community_and_hides_secret_ones(
    client, login_as, create_user, create_community, create_post
):
    owner = create_user("hydro", display_name="Hydrologue")
    rivers = create_community("Rivières", owner=owner)
    lakes = create_community("Lacs", owner=owner)
    hidden = create_community("Cellule inondation", owner=owner, visibility="secret")
    create_post(rivers, owner, "Crue de la Loire", "Niveaux.")
    create_post(lakes, owner, "Crue du lac", "Niveaux.")
    create_post(hidden, owner, "Crue : plan secret", "Niveaux.")
    _status, html = search_page(client, "crue")
    facets = facet_counts(html)
    assert facets["Rivières"] == (1, False)
    assert facets["Lacs"] == (1, False)
    assert "Cellule inondation" not in html
    _status, html = search_page(client, "crue", community=rivers.slug)
    assert result_titles(html) == ["Crue de la Loire"]
    assert facet_counts(html)["Rivières"] == (1, True)
    # An outsider naming the secret community learns nothing: 404, as everywhere else.
    status, _html = search_page(client, "crue", community=hidden.slug)
    assert status == 404
    login_as(owner)
    _status, html = search_page(client, "crue", community=hidden.slug)
    assert result_titles(html) == ["Crue : plan secret"]


def test_results_are_paginated(client, create_community, create_post):
    community = create_community("Inventaire")
    author = community_owner(community)
    for number in range(23):
        create_post(community, author, f"Fiche inventaire {number}", "Patrimoine.")
    _status, html = search_page(client, "fiche")
    assert len(result_titles(html)) == 20
    assert 'rel="next"' in html
    _status, html = search_page(client, "fiche", page=2)
    assert len(result_titles(html)) == 3
    assert 'rel="prev"' in html
    assert 'rel="next"' not in html


def test_loading_results_costs_the_same_for_few_or_many(
    client, create_community, create_post, count_queries
):
    community = create_community("Requêtes")
    author = community_owner(community)
    create_post(community, author, "Note de synthèse", "Texte.")
    with count_queries() as few:
        search_page(client, "synthese")
    for number in range(15):
        create_post(community, author, f"Synthèse {number}", "Texte.")
    with count_queries() as many:
        _status, html = search_page(client, "synthese")
    assert len(result_titles(html)) == 16
    assert len(many) == len(few)
    assert len(many) <= 6
