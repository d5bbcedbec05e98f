"""Analytics pages and CSV exports over HTTP: who may see what, what the files contain."""

from __future__ import annotations

import csv
import io

import pytest

from maillage.communities.analytics.dashboard import TABLES
from maillage.communities.analytics.export import csv_text, safe_cell

BOM = "\ufeff"


@pytest.fixture
def people(create_user, create_community):
    owner, facilitator, moderator, member, outsider = (create_user() for _ in range(5))
    admin = create_user(is_admin=True)
    members = [(facilitator, "facilitator"), (moderator, "moderator"), (member, "member")]
    public = create_community(owner=owner, members=members)
    secret = create_community(owner=owner, members=members, visibility="secret")
    return {
        "owner": owner,
        "facilitator": facilitator,
        "moderator": moderator,
        "member": member,
        "outsider": outsider,
        "admin": admin,
        "public": public,
        "secret": secret,
    }


@pytest.mark.parametrize(
    ("role", "public_status", "secret_status"),
    [
        ("owner", 200, 200),
        ("facilitator", 200, 200),
        ("admin", 200, 404),  # a secret community's figures need an access grant (oversight)
        ("moderator", 403, 403),
        ("member", 403, 403),
        ("outsider", 403, 404),
    ],
)
def test_community_analytics_per_role(client, login_as, people, role, public_status, secret_status):
    login_as(people[role])
    for community, status in ((people["public"], public_status), (people["secret"], secret_status)):
        assert client.get(f"/c/{community.slug}/analytics").status_code == status
        assert client.get(f"/c/{community.slug}/analytics/summary.csv").status_code == status


def test_anonymous_is_sent_to_login(client, people):
    response = client.get(f"/c/{people['public'].slug}/analytics")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/admin/analytics").status_code == 302
    assert client.get("/admin/analytics/summary.csv").status_code == 302


def test_unknown_community_is_404(client, login_as, people):
    login_as(people["admin"])
    assert client.get("/c/nowhere/analytics").status_code == 404


@pytest.mark.parametrize("role", ["owner", "facilitator", "moderator", "member", "outsider"])
def test_platform_analytics_are_for_admins_only(client, login_as, people, role):
    login_as(people[role])
    assert client.get("/admin/analytics").status_code == 403
    assert client.get("/admin/analytics/organisations.csv").status_code == 403


def test_platform_page_for_admin(client, login_as, people):
    login_as(people["admin"])
    response = client.get("/admin/analytics")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Statistiques de la plateforme" in html
    assert 'role="img"' in html
    assert "<title id=" in html
    assert "<desc id=" in html


def test_community_page_content(client, login_as, people):
    login_as(people["facilitator"])
    response = client.get(f"/c/{people['public'].slug}/analytics")
    html = response.get_data(as_text=True)
    assert "<h1>Statistiques</h1>" in html
    for title in ("Membres actifs par semaine", "Contributions par mois"):
        assert title in html
    assert "<table>" in html
    assert 'scope="col"' in html
    for table in TABLES:
        assert f"/analytics/{table}.csv" in html
    assert "Membres inactifs" in html


def test_the_console_lists_analytics_for_facilitators(app, people):
    from maillage.communities.console import console_sections_for

    with app.test_request_context():
        keys = [s.key for s, _ in console_sections_for(people["facilitator"], people["public"])]
        assert "analytics" in keys
        keys = [s.key for s, _ in console_sections_for(people["moderator"], people["public"])]
        assert "analytics" not in keys


@pytest.mark.parametrize("table", sorted(TABLES))
@pytest.mark.parametrize("scope", ["community", "platform"])
def test_every_export(client, login_as, people, table, scope):
    login_as(people["admin"])
    slug = people["public"].slug
    url = (
        f"/c/{slug}/analytics/{table}.csv"
        if scope == "community"
        else f"/admin/analytics/{table}.csv"
    )
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".csv" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == [str(label) for label in TABLES[table][1]]


def test_organisations_export_lists_members_organisations(
    client, login_as, create_user, create_community, create_organisation
):
    town = create_organisation('=HYPERLINK("http://evil")', "local_authority")
    owner = create_user(organisation=town)
    community = create_community(owner=owner, members=[create_user(organisation=town)])
    login_as(owner)
    text = client.get(f"/c/{community.slug}/analytics/organisations.csv").data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[1] == ['\'=HYPERLINK("http://evil")', "Collectivité territoriale", "2"]


def test_dormant_days_choice(client, login_as, people):
    login_as(people["owner"])
    slug = people["public"].slug
    assert client.get(f"/c/{slug}/analytics?jours=30").status_code == 200
    html = client.get(f"/c/{slug}/analytics?jours=30").get_data(as_text=True)
    assert '<option value="30" selected>' in html
    assert client.get(f"/c/{slug}/analytics?jours=abc").status_code == 400
    assert client.get(f"/c/{slug}/analytics?jours=7").status_code == 400
    response = client.get(f"/c/{slug}/analytics/dormant.csv?jours=30")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8")[1:])))
    assert len(rows) == 1  # everybody joined today: joining is activity
    assert client.get(f"/c/{slug}/analytics/dormant.csv?jours=-1").status_code == 400


def test_unknown_export_is_404(client, login_as, people):
    login_as(people["owner"])
    assert client.get(f"/c/{people['public'].slug}/analytics/passwords.csv").status_code == 404


def test_most_read_shows_in_the_page(client, login_as, people, create_post):
    post = create_post(people["public"], people["owner"], title="Guide des bonnes pratiques")
    login_as(people["member"])
    client.get(f"/post/{post.id}")
    client.get(f"/post/{post.id}")
    login_as(people["facilitator"])
    html = client.get(f"/c/{people['public'].slug}/analytics").get_data(as_text=True)
    assert "Guide des bonnes pratiques" in html
    assert "2 lectures" in html
    text = client.get(f"/c/{people['public'].slug}/analytics/most-read.csv").data.decode()
    assert f"Guide des bonnes pratiques,/post/{post.id},2" in text


def test_platform_most_read_names_only_content_the_admin_may_read(
    client, login_as, people, create_post, create_community
):
    """Security review: the platform page and CSV listed a secret community's post titles."""
    from maillage.communities.oversight.operations import request_access
    from maillage.platform.extensions import db

    private = create_community(
        owner=people["owner"], members=[people["member"]], visibility="private"
    )
    posts = {
        "public": create_post(people["public"], people["owner"], title="Guide public"),
        "secret": create_post(people["secret"], people["owner"], title="Plan de crise secret"),
        "private": create_post(private, people["owner"], title="Compte rendu réservé"),
    }
    login_as(people["member"])
    for post in posts.values():
        assert client.get(f"/post/{post.id}").status_code == 200
    admin = login_as(people["admin"])
    html = admin.get("/admin/analytics").get_data(as_text=True)
    text = admin.get("/admin/analytics/most-read.csv").data.decode()
    assert "Guide public" in html
    assert f"Guide public,/post/{posts['public'].id},1" in text
    for hidden in ("secret", "private"):
        assert posts[hidden].title not in html
        assert posts[hidden].title not in text
        assert f"/post/{posts[hidden].id}" not in html + text
    assert people["secret"].name not in html  # nor the secret community's name
    # an access grant opens the secret community's titles to that administrator
    request_access(people["admin"], people["secret"], "moderation", "Signalement n° 7 à voir", 1)
    db.session.commit()
    text = admin.get("/admin/analytics/most-read.csv").data.decode()
    assert f"Plan de crise secret,/post/{posts['secret'].id},1" in text
    assert "Compte rendu réservé" not in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Mairie", "Mairie"),
        (-2, -2),
        (None, ""),
    ],
)
def test_formula_injection_is_neutralised(value, expected):
    assert safe_cell(value) == expected


def test_csv_text_header_bom_and_quoting():
    text = csv_text(["Nom", "Ville"], [['Élise, "la" cheffe', "Lyon"]])
    assert text == BOM + 'Nom,Ville\r\n"Élise, ""la"" cheffe",Lyon\r\n'
