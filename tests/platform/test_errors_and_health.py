"""Error pages in both languages, size limit, CSRF, health."""

import pytest


def test_unknown_page_is_a_french_404_by_default(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_unknown_api_route_is_json(client):
    response = client.get("/api/v1/nulle-part")
    assert response.status_code == 404
    assert response.json["error"]["status"] == 404


def test_body_over_the_limit_gets_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"username": "x" * 4096})
    assert response.status_code == 413
    assert "trop volumineux" in response.get_data(as_text=True)


def test_missing_csrf_token_is_a_readable_400(csrf_client):
    response = csrf_client.post("/lang", data={"lang": "en"})
    assert response.status_code == 400
    assert "jeton de sécurité" in response.get_data(as_text=True)


def test_unexpected_error_is_a_500_page_without_details(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Erreur interne" in body
    assert "secret internals" not in body


def test_health_reports_database_broker_and_search(client):
    response = client.get("/health")
    assert response.status_code == 200
    data = response.json
    assert data["status"] == "ok"
    assert data["database"]["status"] == "ok"
    assert data["search"]["status"] == "ok"
    assert data["broker"]["status"] == "ok"


@pytest.mark.parametrize(
    "header", ["X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options"]
)
def test_security_headers(client, header):
    assert header in client.get("/").headers


def test_theme_colours_come_from_configuration_and_are_sanitised(app, client):
    app.config["BRAND_COLOR"] = "#123456"
    assert "#123456" in client.get("/theme.css").get_data(as_text=True)
    app.config["BRAND_COLOR"] = "red;} body{display:none"
    css = client.get("/theme.css").get_data(as_text=True)
    assert "display:none" not in css


def test_instance_name_from_configuration(app, client):
    app.config["INSTANCE_NAME"] = "Réseau des services de l'Hérault"
    assert "Réseau des services de l&#39;Hérault" in client.get("/").get_data(as_text=True)


def test_pages_stay_french_whatever_the_browser_language(client):
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="fr"' in response.get_data(as_text=True)


def test_error_pages_speak_english_once_chosen(client):
    client.set_cookie("lang", "en")
    response = client.get("/nulle-part")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert 'lang="en"' in body
    assert "Page not found" in body


def home_token(client) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def test_language_switch_sets_a_cookie_and_keeps_the_page(client):
    response = client.post(
        "/lang", data={"lang": "en", "next": "/communities", "csrf_token": home_token(client)}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/communities")
    assert "lang=en" in response.headers["Set-Cookie"]
    assert 'lang="en"' in client.get("/communities").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client):
    response = client.post(
        "/lang", data={"lang": "en", "next": "//evil.example/", "csrf_token": home_token(client)}
    )
    assert response.headers["Location"] in ("/", "http://localhost/")
