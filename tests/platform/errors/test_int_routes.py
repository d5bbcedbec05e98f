"""Ids larger than the database's INTEGER in a ``<int:…>`` route: 404 like any unknown id (they
gave 500: PostgreSQL refuses the value, SQLite overflows past 2**63)."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.conftest import TEST_DATABASE_URL, login
from tests.platform.errors.conftest import form_token

MAX_DATABASE_INTEGER = 2**31 - 1  # PostgreSQL's INTEGER, the type of every id
TOO_LARGE = [str(MAX_DATABASE_INTEGER + 1), "9" * 19, "9" * 400]


@pytest.fixture
def admin(create_user):
    return create_user("root", is_admin=True)


READ = ["/post/{}", "/api/v1/posts/{}", "/notifications/{}", "/admin/people/{}"]
WRITE = ["/post/{}/comments", "/admin/people/{}/suspend", "/c/achats/members/{}/remove"]


def test_reading_a_huge_id_is_a_404(client, admin):
    login(client, admin)
    for template in [*READ, "/formation/parcours/{}/modifier"]:
        for value in TOO_LARGE:
            assert client.get(template.format(value)).status_code == 404, template


def test_writing_to_a_huge_id_is_a_404(client, admin, create_community):
    create_community(slug="achats", owner=admin)
    login(client, admin)
    token = form_token(client)
    for template in WRITE:
        for value in TOO_LARGE:
            response = client.post(template.format(value), data={"csrf_token": token, "body": "x"})
            assert response.status_code == 404, template


def test_the_largest_integer_still_reaches_the_view(client, admin):
    login(client, admin)
    response = client.get(f"/post/{MAX_DATABASE_INTEGER}")
    assert response.status_code == 404
    assert "Page introuvable" in response.text  # the view's own 404, after a lookup
    assert client.get(f"/post/{'0' * 30}1").status_code == 404  # leading zeros are fine


def test_negative_or_absurd_values_are_a_404(client, admin):
    login(client, admin)
    for value in ["-1", "-99999999999", "1.5", "1e9", "%C2%B2"]:
        assert client.get(f"/post/{value}").status_code == 404, value


def test_every_int_argument_of_every_route_is_bounded(app):
    """A route added later, in any blueprint, gets the bounded converter too."""
    from maillage.platform.app import BoundedIntegerConverter

    checked = 0
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                assert isinstance(converter, BoundedIntegerConverter), (rule.rule, name)
                assert converter.max <= MAX_DATABASE_INTEGER, (rule.rule, name)
                assert converter.min >= -MAX_DATABASE_INTEGER - 1, (rule.rule, name)
                checked += 1
    assert checked > 50


def test_route_options_narrow_the_range_but_never_widen_it(app):
    from maillage.platform.app import BoundedIntegerConverter

    converter = BoundedIntegerConverter(app.url_map, min=1, max=2**40)
    assert (converter.min, converter.max) == (1, MAX_DATABASE_INTEGER)


def test_a_huge_id_in_a_query_string_is_a_400_not_a_500(client, admin, create_community):
    """Ids read from the query string: the database's refusal is answered as bad input."""
    create_community(slug="achats", owner=admin)
    login(client, admin)
    response = client.get(f"/c/achats/documents/dossiers/nouveau?parent={'9' * 11}")
    if TEST_DATABASE_URL.startswith("postgresql"):
        assert response.status_code == 400
        assert "nombre trop grand" in response.text
    else:  # SQLite's integers go to 2**63: it finds no such folder
        assert response.status_code == 404


def test_a_huge_id_in_a_federation_path_is_a_404(client):
    """Paths that federation's content negotiation reads itself, before any route."""
    for path in ("/comment/99999999999", "/post/99999999999", "/event/99999999999"):
        response = client.get(path, headers={"Accept": "application/activity+json"})
        assert response.status_code == 404, path
    assert client.get("/comment/99999999999").status_code == 404
