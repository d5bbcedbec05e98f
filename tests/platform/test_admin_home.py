"""The administration home lists the admin pages of every package, for admins only."""


def test_admin_home_lists_the_registered_sections(client, create_user, login_as):
    login_as(create_user(is_admin=True))
    page = client.get("/admin")
    assert page.status_code == 200
    assert "Fournisseurs d'identité" in page.text
    assert 'href="/admin/auth/providers"' in page.text
    assert 'href="/admin/ambassadeurs"' in page.text


def test_admin_home_is_refused_to_members_and_asks_visitors_to_sign_in(
    client, create_user, login_as
):
    assert client.get("/admin").status_code == 302
    login_as(create_user())
    assert client.get("/admin").status_code == 403


def test_the_header_links_admins_to_the_administration_home(client, create_user, login_as):
    login_as(create_user(is_admin=True))
    assert 'href="/admin"' in client.get("/").text
