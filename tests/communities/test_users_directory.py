"""The member directory: filters by name, kind of organisation and organisation; pagination; a
bounded number of queries whatever the page size."""

from __future__ import annotations

import re

import pytest

from maillage.platform.extensions import db


@pytest.fixture
def people(create_user, create_organisation):
    ministry = create_organisation("Ministère de la Culture", "state_service")
    region = create_organisation("Région Occitanie", "local_authority")
    association = create_organisation("Association des maires ruraux", "association")
    return {
        "ministry": ministry,
        "region": region,
        "association": association,
        "alice": create_user("alice", display_name="Alice Martin", organisation=ministry),
        "bruno": create_user("bruno", display_name="Bruno Martinez", organisation=region),
        "chloe": create_user("chloe", display_name="Chloé Dubois", organisation=region),
        "david": create_user("david", display_name="David 100%_Petit", organisation=association),
    }


def names(response) -> list[str]:
    return re.findall(r'<h2><a href="/u/[^"]+">([^<]+)</a></h2>', response.text)


def test_directory_lists_active_local_members_by_name(client, people):
    people["david"].is_active = False
    db.session.commit()
    response = client.get("/members")
    assert response.status_code == 200
    assert response.text.count("<h1") == 1
    assert names(response) == ["Alice Martin", "Bruno Martinez", "Chloé Dubois"]
    assert "3 membres" in response.text
    assert "Ministère de la Culture · Services de l'État" in response.text


def test_filter_by_name(client, people):
    assert names(client.get("/members?q=martin")) == ["Alice Martin", "Bruno Martinez"]
    assert names(client.get("/members?q=chloe")) == ["Chloé Dubois"]  # the username matches
    assert names(client.get("/members?q=100%25_")) == ["David 100%_Petit"]  # no LIKE wildcards
    empty = client.get("/members?q=zzz")
    assert names(empty) == []
    assert "Aucun membre ne correspond à ces filtres." in empty.text


def test_filter_by_kind_and_organisation(client, people):
    assert names(client.get("/members?kind=local_authority")) == ["Bruno Martinez", "Chloé Dubois"]
    assert names(client.get("/members?kind=association")) == ["David 100%_Petit"]
    ministry = people["ministry"].id
    assert names(client.get(f"/members?organisation={ministry}")) == ["Alice Martin"]
    both = client.get(f"/members?kind=local_authority&organisation={ministry}")
    assert names(both) == []
    assert names(client.get("/members?q=martin&kind=local_authority")) == ["Bruno Martinez"]


def test_filter_form_keeps_the_choices_and_ignores_bad_values(client, people):
    region = people["region"].id
    html = client.get(f"/members?kind=local_authority&organisation={region}&q=a").text
    assert '<option selected value="local_authority">' in html
    assert f'<option selected value="{region}">Région Occitanie</option>' in html
    assert '<label for="q">Nom</label>' in html
    response = client.get("/members?kind=bogus&organisation=nope&page=-3")
    assert response.status_code == 200
    assert len(names(response)) == 4


def test_pagination_keeps_the_filters(app, client, create_user, people):
    app.config["DIRECTORY_PAGE_SIZE"] = 2
    for index in range(3):
        create_user(
            f"martine{index}", display_name=f"Martine {index}", organisation=people["region"]
        )
    first = client.get("/members?kind=local_authority")
    assert names(first) == ["Bruno Martinez", "Chloé Dubois"]
    assert "page 1 sur 3" in first.text
    assert 'href="/members?page=2&amp;kind=local_authority" rel="next"' in first.text
    assert 'rel="prev"' not in first.text
    second = client.get("/members?page=2&kind=local_authority")
    assert names(second) == ["Martine 0", "Martine 1"]
    assert 'href="/members?page=1&amp;kind=local_authority" rel="prev"' in second.text
    last = client.get("/members?page=3&kind=local_authority")
    assert names(last) == ["Martine 2"]
    assert 'rel="next"' not in last.text
    assert names(client.get("/members?page=99&kind=local_authority")) == []


def test_directory_runs_a_bounded_number_of_queries(
    app, client, create_user, create_organisation, count_queries
):
    app.config["DIRECTORY_PAGE_SIZE"] = 50
    kinds = ["state_service", "local_authority", "association", "other"]
    for index in range(3):
        create_user(f"early{index}", organisation=create_organisation(kind=kinds[index % 4]))
    with count_queries() as few:
        assert len(names(client.get("/members"))) == 3
    for index in range(40):
        create_user(f"later{index}", organisation=create_organisation(kind=kinds[index % 4]))
    with count_queries() as many:
        assert len(names(client.get("/members?kind=state_service&q=r"))) == 11
    with count_queries() as full_page:
        assert len(names(client.get("/members"))) == 43
    assert len(few) == len(many) == len(full_page)
    assert len(full_page) <= 3, full_page
