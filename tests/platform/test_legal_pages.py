"""Legal and accessibility pages: public defaults from the configuration, admin edits (Markdown
sanitised, audited, charter versions), the RGAA statement, the footer and the site map."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from maillage.platform.legal import queries
from maillage.platform.legal.models import AccessibilityStatement, LegalPage

SLUGS = ("mentions-legales", "donnees-personnelles", "accessibilite", "plan-du-site", "charte")
AUDITED = {"audit_date": "2026-09-01", "auditor": "X"}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "INSTANCE_NAME": "Réseau des territoires",
        "LEGAL_PUBLISHER": "Agence nationale de la cohésion des territoires",
        "LEGAL_PUBLICATION_DIRECTOR": "Camille Martin",
        "LEGAL_HOST": "Hébergeur Souverain SAS",
        "LEGAL_CONTACT_EMAIL": "contact@territoires.gouv.fr",
        "LEGAL_DPO_EMAIL": "dpo@territoires.gouv.fr",
        "ACCOUNT_DELETION_DELAY_DAYS": 12,
    }


def csrf(client, path="/mentions-legales") -> str:
    return CSRF_RE.search(client.get(path).text).group(1)


def read(response) -> str:
    """The page with entities decoded (Jinja writes ``'`` as ``&#39;``)."""
    return html.unescape(response.text)


@pytest.fixture
def admin(create_user, login_as):
    user = create_user("gestion", is_admin=True)
    login_as(user)
    return user


def edit(client, slug, source_fr, source_en=""):
    return client.post(
        f"/admin/pages-legales/{slug}",
        data={"csrf_token": csrf(client), "source_fr": source_fr, "source_en": source_en},
    )


def save_statement(client, **fields):
    data = {"csrf_token": csrf(client), "state": "non", **fields}
    return client.post("/admin/pages-legales/accessibilite/etat", data=data)


# -- public pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_answers_anonymous_visitors(client, slug):
    response = client.get(f"/{slug}")
    assert response.status_code == 200
    assert "<h1>" in read(response)


def test_the_endpoint_builds_each_url_from_its_slug(app):
    from flask import url_for

    with app.test_request_context():
        assert url_for("legal.page", slug="charte") == "/charte"
        assert [url_for("legal.page", slug=slug) for slug in SLUGS] == [f"/{s}" for s in SLUGS]


def test_defaults_name_the_configured_publisher_host_and_contacts(client):
    notice = read(client.get("/mentions-legales"))
    assert "Agence nationale de la cohésion des territoires" in notice
    assert "Camille Martin" in notice
    assert "Hébergeur Souverain SAS" in notice
    assert "contact@territoires.gouv.fr" in notice
    # Not configured: said plainly.
    assert "« à compléter »" in notice
    privacy = read(client.get("/donnees-personnelles"))
    assert "dpo@territoires.gouv.fr" in privacy
    assert "12 jours" in privacy
    for subject in ("Identités de connexion", "Journal d'activité", "Journaux techniques"):
        assert subject in privacy
    assert "CNIL" in privacy
    charter = read(client.get("/charte"))
    assert "Réseau des territoires" in charter
    assert "Discrétion professionnelle" in charter
    assert "Version 1 de la charte" in charter


def test_unconfigured_instance_says_what_is_missing(app, client):
    app.config["LEGAL_PUBLISHER"] = ""
    app.config["LEGAL_DPO_EMAIL"] = ""
    privacy = read(client.get("/donnees-personnelles"))
    assert "« à compléter »" in privacy
    # The DPO address falls back to the contact address.
    assert "contact@territoires.gouv.fr" in privacy


def test_default_statement_is_non_conforme_without_audit(client):
    page = read(client.get("/accessibilite"))
    assert "Déclaration d'accessibilité" in page
    assert "non conforme" in page
    assert "aucun audit de conformité n'a encore été réalisé" in page
    for part in (
        "Non-conformités",
        "Dérogations pour charge disproportionnée",
        "Contenus non soumis à l'obligation d'accessibilité",
        "Technologies utilisées",
        "Environnement de test",
        "Retour d'information et contact",
        "Voies de recours",
        "09 69 39 00 00",
        "Libre réponse 71120",
        "75342 Paris CEDEX 07",
        "https://formulaire.defenseurdesdroits.fr/",
        "délégué du Défenseur des droits",
    ):
        assert part in page, part


# -- footer -------------------------------------------------------------------------------------


def footer(html: str) -> str:
    return html[html.index("<footer") : html.index("</footer>")]


def test_footer_links_the_five_pages_with_the_declared_state(app, client, create_community):
    community = create_community("Réseau ouvert")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    for path, status in (
        ("/", 200),
        ("/communities", 200),
        (f"/c/{community.slug}", 200),
        ("/charte", 200),
        ("/nulle-part", 404),
        ("/admin", 302),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        if status == 302:
            continue
        links = footer(read(response))
        assert 'aria-label="Informations légales"' in links
        for slug in SLUGS:
            assert f'href="/{slug}"' in links, (path, slug)
        assert "Accessibilité : non conforme" in links


def test_footer_follows_the_statement_and_costs_no_query_after_the_first(
    client, admin, count_queries
):
    # Read when the app started: not even the first request asks for it.
    with count_queries() as very_first:
        client.get("/communities")
    assert not [sql for sql in very_first if "accessibility_statements" in sql]
    with count_queries() as first:
        client.get("/communities")
    with count_queries() as second:
        client.get("/communities")
    assert len(second) == len(first)
    assert not [sql for sql in second if "accessibility_statements" in sql]

    response = save_statement(
        client,
        state="partial",
        compliance_rate="87,5",
        audit_date="2026-10-01",
        auditor="Cabinet Accessible",
    )
    assert response.status_code == 302
    assert "Accessibilité : partiellement conforme" in footer(read(client.get("/")))
    with count_queries() as after:
        client.get("/communities")
    assert not [sql for sql in after if "accessibility_statements" in sql]


def test_other_processes_see_an_edit_once_their_cache_expires(app, client):
    # Another web process records an audit: this process's memory still has the old state...
    db.session.add(
        AccessibilityStatement(
            id=1, state="full", compliance_rate=100.0, audit_date=dt.date(2026, 9, 1), auditor="X"
        )
    )
    db.session.commit()
    assert "Accessibilité : non conforme" in footer(read(client.get("/")))
    # ...until LEGAL_STATE_CACHE_SECONDS have passed.
    app.config["LEGAL_STATE_CACHE_SECONDS"] = 0
    assert "Accessibilité : totalement conforme" in footer(read(client.get("/")))


def test_error_page_keeps_its_footer_after_a_failed_transaction(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    queries.forget_accessibility_state()

    @app.route("/boom")
    def boom():
        db.session.execute(select(AccessibilityStatement).where(db.text("no_such_column = 1")))

    response = client.get("/boom")
    assert response.status_code == 500
    assert "Accessibilité : non conforme" in footer(read(response))


# -- administration -----------------------------------------------------------------------------


def test_admin_section_and_edit_pages_are_for_admins_only(client, create_user, login_as):
    assert client.get("/admin/pages-legales").status_code == 302
    login_as(create_user())
    assert client.get("/admin/pages-legales").status_code == 403
    assert client.get("/admin/pages-legales/charte").status_code == 403
    assert client.get("/admin/pages-legales/accessibilite/etat").status_code == 403
    token = csrf(client)
    refused = client.post(
        "/admin/pages-legales/charte", data={"csrf_token": token, "source_fr": "Rien."}
    )
    assert refused.status_code == 403
    assert db.session.scalar(select(LegalPage)) is None


def test_admin_home_lists_the_legal_pages(client, admin):
    home = read(client.get("/admin"))
    assert "Pages légales" in home
    assert 'href="/admin/pages-legales"' in home
    listing = read(client.get("/admin/pages-legales"))
    assert 'href="/admin/pages-legales/charte"' in listing
    assert "MAILLAGE_LEGAL_HOST_ADDRESS" in listing


def test_editor_starts_from_the_default_text(client, admin):
    form = read(client.get("/admin/pages-legales/mentions-legales"))
    assert "Agence nationale de la cohésion des territoires" in form
    assert "## Éditeur" in form
    assert client.get("/admin/pages-legales/plan-du-site").status_code == 404


def test_admin_edit_is_sanitised_kept_as_source_and_audited(client, admin):
    source = "## Éditeur\n\nLe **ministère**.<script>alert(1)</script>\n\n[x](javascript:alert(1))"
    response = edit(client, "mentions-legales", source)
    assert response.status_code == 302
    page = db.session.scalar(select(LegalPage).where(LegalPage.slug == "mentions-legales"))
    assert page.source_fr == source
    assert "<script>" not in page.html_fr
    assert 'href="javascript' not in page.html_fr
    assert "<strong>ministère</strong>" in page.html_fr
    shown = client.get("/mentions-legales").text
    assert "<strong>ministère</strong>" in shown
    # Raw HTML in the source is shown as text, never run.
    assert "<script>alert" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "legal.page_edited"))
    assert entry.actor_id == admin.id
    assert entry.data["slug"] == "mentions-legales"
    history = read(client.get("/admin/pages-legales"))
    assert "Historique des modifications" in history
    assert "Gestion" in history


def test_bad_input_leaves_nothing_stored(app, client, admin):
    assert edit(client, "charte", "   ").status_code == 422
    app.config["MAX_MARKDOWN_LENGTH"] = 10
    response = edit(client, "charte", "Un texte bien trop long.")
    assert response.status_code == 422
    assert "dépasse 10 caractères" in read(response)
    assert db.session.scalar(select(LegalPage)) is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action.like("legal.%"))) is None


def test_editing_the_charter_bumps_its_version(client, admin):
    assert queries.current_charter_version() == 1
    edit(client, "charte", "Soyez courtois.")
    assert queries.current_charter_version() == 1
    edit(client, "charte", "Soyez courtois et discrets.")
    assert queries.current_charter_version() == 2
    # Saving the same text again is not a new version.
    edit(client, "charte", "Soyez courtois et discrets.")
    assert queries.current_charter_version() == 2
    assert "Version 2 de la charte" in read(client.get("/charte"))


def test_english_readers_fall_back_to_french(client, admin):
    client.set_cookie("lang", "en")
    default = client.get("/mentions-legales").text
    assert '<div class="markdown" lang="fr">' in default
    client.set_cookie("lang", "fr")
    edit(client, "charte", "Texte **français**.")
    client.set_cookie("lang", "en")
    page = read(client.get("/charte"))
    assert '<div class="markdown" lang="fr"><p>Texte <strong>français</strong>.</p>' in page
    client.set_cookie("lang", "fr")
    edit(client, "charte", "Texte **français**.", "English **text**.")
    client.set_cookie("lang", "en")
    page = read(client.get("/charte"))
    assert '<div class="markdown" lang="en"><p>English <strong>text</strong>.</p>' in page
    client.set_cookie("lang", "fr")
    assert "Texte <strong>français</strong>" in read(client.get("/charte"))


# -- the structured statement -------------------------------------------------------------------


def test_statement_fields_are_shown_on_the_page(client, admin):
    response = save_statement(
        client,
        state="partial",
        compliance_rate="72,5",
        audit_date="2026-09-15",
        auditor="Cabinet Accessible",
        statement_date="2026-10-02",
        technologies="HTML5, CSS",
        test_environment="Firefox 128 et NVDA 2024.4\nSafari et VoiceOver (macOS 15)",
        contact_email="accessibilite@territoires.gouv.fr",
    )
    assert response.status_code == 302
    page = read(client.get("/accessibilite"))
    assert "partiellement conforme" in page
    assert "72,5 % des critères du RGAA" in page
    assert "Cabinet Accessible" in page
    assert "15 septembre 2026" in page
    assert "établie le 2 octobre 2026" in page
    assert "<li>Firefox 128 et NVDA 2024.4</li>" in page
    assert "<li>CSS</li>" in page
    assert 'href="mailto:accessibilite@territoires.gouv.fr"' in page
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "legal.statement_edited")
    )
    assert entry.data["state"] == "partial"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"state": "partial"}, "Sans audit"),
        (
            {"state": "full", "compliance_rate": "90", "audit_date": "2026-09-01", "auditor": "X"},
            "demande un taux de 100",
        ),
        (
            {"state": "non", "compliance_rate": "60", "audit_date": "2026-09-01", "auditor": "X"},
            "partiellement conforme",
        ),
        ({"compliance_rate": "cent"}, "Indiquez un pourcentage"),
        ({"compliance_rate": "120"}, "entre 0 et 100"),
        ({"contact_email": "pas-une-adresse"}, "Adresse électronique de contact invalide"),
        (
            {**AUDITED, "state": "partial", "compliance_rate": "60", "audit_date": "2030-01-01"},
            "dans le futur",
        ),
    ],
)
def test_statement_refuses_what_the_rgaa_does_not_allow(client, admin, fields, message):
    response = save_statement(client, **fields)
    assert response.status_code == 422
    assert message in read(response)
    assert db.session.get(AccessibilityStatement, 1) is None
    assert "Accessibilité : non conforme" in footer(read(client.get("/")))


# -- site map -----------------------------------------------------------------------------------


def test_site_map_lists_reachable_sections_and_never_a_secret_community(
    client, create_user, create_community, login_as
):
    member = create_user("membre")
    create_community("Communauté publique")
    create_community("Communauté privée", visibility="private")
    create_community("Cellule secrète", visibility="secret", members=[member])
    anonymous = read(client.get("/plan-du-site"))
    assert "Communauté publique" in anonymous
    assert "Communauté privée" in anonymous
    assert "Cellule secrète" not in anonymous
    assert 'href="/account"' not in anonymous
    assert 'href="/agenda"' not in anonymous
    for slug in SLUGS:
        assert f'href="/{slug}"' in anonymous
    assert 'href="/aide/ambassadeurs"' in anonymous
    assert 'href="/login"' in anonymous

    login_as(member)
    signed_in = read(client.get("/plan-du-site"))
    assert "Cellule secrète" not in signed_in
    assert 'href="/account"' in signed_in
    assert 'href="/agenda"' in signed_in
    assert 'href="/admin"' not in signed_in
    assert 'href="/login"' not in signed_in

    login_as(create_user(is_admin=True))
    as_admin = read(client.get("/plan-du-site"))
    assert "Cellule secrète" not in as_admin
    assert 'href="/admin"' in as_admin
