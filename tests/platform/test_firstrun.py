"""First run: the gate while setup is pending, the one-time setup link, the CLI for scripted
installs, and the ways an instance counts as set up (setup, demo, existing accounts)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from maillage.communities.organisations.models import Organisation
from maillage.communities.users.models import User
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from maillage.platform.firstrun.models import SetupToken
from maillage.platform.firstrun.operations import (
    SETUP_LINK_LIFETIME,
    SetupLinkError,
    check_setup_token,
    issue_setup_token,
)
from maillage.platform.firstrun.queries import setup_done

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
NOON = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)

SETUP_FORM = {
    "organisation_name": "Région Occitanie",
    "kind": "local_authority",
    "siret": "",
    "username": "alix",
    "display_name": "Alix Martin",
    "email": "alix@laregion.fr",
    "password": "une phrase assez longue",
    "confirm": "une phrase assez longue",
}


def new_link(now=None) -> str:
    secret = issue_setup_token(now)
    db.session.commit()
    return secret


def csrf_token(response) -> str:
    match = TOKEN.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def cli(app, *args, **kwargs):
    return app.test_cli_runner().invoke(args=["maillage", *args], **kwargs)


# -- the gate ------------------------------------------------------------------------------------


def test_every_page_says_installation_in_progress_until_setup(fresh_install, client):
    for path in ("/", "/communities", "/login", "/signup", "/admin"):
        page = client.get(path)
        assert page.status_code == 503, path
        assert "Installation en cours" in page.text
        assert "flask maillage setup-link" in page.text
    assert client.get("/setup").status_code == 503
    assert client.get("/page-qui-n-existe-pas").status_code == 404


def test_what_must_answer_before_setup_answers(fresh_install, client):
    health = client.get("/health")
    assert "database" in health.get_json()
    with client.get("/static/maillage.css") as stylesheet:
        assert stylesheet.status_code == 200
    assert client.get("/theme.css").status_code == 200
    switch = client.get("/")  # the gate's page carries the language switch and its token
    answer = client.post(
        "/lang", data={"lang": "en", "next": "/", "csrf_token": csrf_token(switch)}
    )
    assert answer.status_code == 302
    english = client.get("/")
    assert english.status_code == 503
    assert 'lang="en"' in english.text


def test_the_legal_pages_stay_readable_before_setup(fresh_install, app, client):
    from maillage.platform.firstrun.gate import is_open

    assert is_open("legal.page")
    assert is_open("firstrun.setup")
    assert not is_open("portal.home")
    assert not is_open("auth.signup")
    legal = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == "legal.page"]
    for path in legal[:1]:
        assert client.get(path).status_code != 503


def test_the_api_answers_json_503_and_federation_finds_no_one_before_setup(fresh_install, client):
    api = client.get("/api/v1/communities")
    assert api.status_code == 503
    assert api.get_json()["error"]["title"] == "Installation en cours"
    assert api.headers["Retry-After"]
    webfinger = client.get("/.well-known/webfinger?resource=acct:alix@maillage.test")
    assert webfinger.status_code == 404
    # Content negotiation opens nothing: a page asked for as ActivityPub JSON is still gated.
    for path in ("/u/alix", "/login", "/signup"):
        asked = client.get(path, headers={"Accept": "application/activity+json"})
        assert asked.status_code == 503, path


def test_once_set_up_the_gate_asks_the_database_no_more(fresh_install, app, client, count_queries):
    assert cli(app, *SETUP_ARGS).exit_code == 0
    assert client.get("/").status_code == 200  # this request reads the state, once
    with count_queries() as queries:
        assert client.get("/").status_code == 200
    assert not [statement for statement in queries if "instance_state" in statement]


def test_the_test_suite_instances_count_as_set_up(app, client):
    assert setup_done()
    assert client.get("/").status_code == 200


# -- the setup link ------------------------------------------------------------------------------


def test_setup_through_the_link_creates_the_admin_and_organisation(fresh_install, client):
    secret = new_link()
    form = client.get(f"/setup/{secret}")
    assert form.status_code == 200
    assert "Installation de la plateforme" in form.text
    done = client.post(f"/setup/{secret}", data={**SETUP_FORM, "csrf_token": csrf_token(form)})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/admin/premiers-pas")

    admin = db.session.scalar(select(User).where(User.username == "alix"))
    assert admin.is_admin
    assert admin.organisation.name == "Région Occitanie"
    assert admin.organisation.kind == "local_authority"
    assert admin.organisation.siret is None
    assert setup_done()
    assert db.session.scalar(select(SetupToken.used_at)) is not None
    assert (
        db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "firstrun.setup_done")
        ).actor_id
        == admin.id
    )

    steps = client.get("/admin/premiers-pas")  # the admin is signed in
    assert steps.status_code == 200
    assert "Premiers pas" in steps.text
    assert "Relire les pages légales" in steps.text
    assert 'href="/admin/auth/providers"' in steps.text
    assert client.get("/").status_code == 200


def test_form_errors_keep_the_values_and_store_nothing(fresh_install, client):
    secret = new_link()
    form = client.get(f"/setup/{secret}")
    wrong = {
        **SETUP_FORM,
        "siret": "123",
        "username": "A",
        "email": "pas-une-adresse",
        "confirm": "autre chose encore",
    }
    page = client.post(f"/setup/{secret}", data={**wrong, "csrf_token": csrf_token(form)})
    assert page.status_code == 400
    assert 'value="Région Occitanie"' in page.text
    assert 'value="pas-une-adresse"' in page.text
    assert 'id="siret-error"' in page.text
    assert 'id="email-error"' in page.text
    assert 'id="username-error"' in page.text
    assert 'id="confirm-error"' in page.text
    assert 'aria-describedby="siret-help siret-error"' in page.text
    assert count(User) == count(Organisation) == 0
    assert not setup_done()
    check_setup_token(secret)  # still usable


def test_a_taken_siret_is_refused_by_the_operation_and_nothing_is_stored(
    fresh_install, client, create_organisation
):
    create_organisation("Région Occitanie (déjà là)", "local_authority", siret="20005226400013")
    secret = new_link()
    form = client.get(f"/setup/{secret}")
    page = client.post(
        f"/setup/{secret}",
        data={**SETUP_FORM, "siret": "20005226400013", "csrf_token": csrf_token(form)},
    )
    assert page.status_code == 400
    assert "existe déjà" in page.text
    assert count(User) == 0
    assert count(Organisation) == 1
    check_setup_token(secret)


def test_a_used_link_is_gone_and_creates_nothing(fresh_install, client):
    secret = new_link()
    form = client.get(f"/setup/{secret}")
    client.post(f"/setup/{secret}", data={**SETUP_FORM, "csrf_token": csrf_token(form)})
    again = client.get(f"/setup/{secret}")
    assert again.status_code == 410
    assert "déjà servi" in again.text
    retry = client.post(
        f"/setup/{secret}",
        data={
            **SETUP_FORM,
            "username": "autre",
            "email": "autre@laregion.fr",
            "csrf_token": csrf_token(again),
        },
    )
    assert retry.status_code == 410
    assert count(User) == 1


def test_unknown_replaced_and_expired_links(fresh_install, client):
    unknown = client.get("/setup/pas-un-vrai-jeton")
    assert unknown.status_code == 404
    assert "inconnu" in unknown.text

    replaced = new_link()
    current = new_link()
    page = client.get(f"/setup/{replaced}")
    assert page.status_code == 410
    assert "remplacé" in page.text
    assert client.get(f"/setup/{current}").status_code == 200

    expired = new_link(dt.datetime.now(dt.UTC) - SETUP_LINK_LIFETIME - dt.timedelta(minutes=1))
    page = client.get(f"/setup/{expired}")
    assert page.status_code == 410
    assert "expiré" in page.text
    assert count(User) == 0


def test_a_link_lasts_24_hours_with_a_fixed_clock(fresh_install):
    secret = new_link(NOON)
    assert check_setup_token(secret, NOON + dt.timedelta(hours=23, minutes=59))
    with pytest.raises(SetupLinkError) as refused:
        check_setup_token(secret, NOON + dt.timedelta(hours=24))
    assert refused.value.status == 410
    stored = db.session.scalar(select(SetupToken))
    assert secret not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_an_unused_link_stops_working_once_set_up_otherwise(fresh_install, app, client):
    secret = new_link()
    assert cli(app, *SETUP_ARGS).exit_code == 0
    page = client.get(f"/setup/{secret}")
    assert page.status_code == 410
    assert "déjà terminée" in page.text


def test_no_setup_link_once_set_up(app):
    result = cli(app, "setup-link")
    assert result.exit_code != 0
    assert "déjà terminée" in result.output
    assert count(SetupToken) == 0


# -- CLI -----------------------------------------------------------------------------------------

SETUP_ARGS = (
    "setup",
    "--organisation",
    "Préfecture de l'Hérault",
    "--kind",
    "state_service",
    "--siret",
    "17340001300012",
    "--username",
    "camille",
    "--email",
    "camille@herault.gouv.fr",
    "--name",
    "Camille Laurent",
    "--password",
    "une phrase assez longue",
)


def test_setup_link_command_prints_a_link_under_the_base_url(fresh_install, app, client):
    result = cli(app, "setup-link")
    assert result.exit_code == 0, result.output
    link = re.search(r"https://maillage\.test/setup/(\S+)", result.output)
    assert link, result.output
    assert client.get(f"/setup/{link.group(1)}").status_code == 200


def test_the_server_prints_a_setup_link_only_when_needed(fresh_install, app, capsys):
    from maillage.platform.firstrun.cli import print_setup_link, served_base_url

    print_setup_link("127.0.0.1", 5000)
    assert re.search(r"https://maillage\.test/setup/\S+", capsys.readouterr().out)
    app.config["BASE_URL"] = "http://127.0.0.1:5000"
    assert served_base_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    cli(app, *SETUP_ARGS)
    print_setup_link("127.0.0.1", 5000)
    assert "setup" not in capsys.readouterr().out


def test_setup_command_creates_the_admin_and_organisation_once(fresh_install, app):
    result = cli(app, *SETUP_ARGS)
    assert result.exit_code == 0, result.output
    assert "Installation terminée" in result.output
    admin = db.session.scalar(select(User).where(User.username == "camille"))
    assert admin.is_admin
    assert admin.display_name == "Camille Laurent"
    assert admin.organisation.siret == "17340001300012"
    assert setup_done()

    again = cli(app, *SETUP_ARGS[:-2], "--username", "dominique")
    assert again.exit_code != 0
    assert "déjà terminée" in again.output
    assert count(User) == 1


def test_setup_command_reads_the_password_from_the_environment(fresh_install, app):
    args = SETUP_ARGS[:-2]
    result = cli(app, *args, env={"MAILLAGE_ADMIN_PASSWORD": "une autre phrase longue"})
    assert result.exit_code == 0, result.output
    from maillage.auth.passwords import verify_password

    admin = db.session.scalar(select(User))
    assert verify_password(admin.password_hash, "une autre phrase longue")


def test_setup_command_refuses_bad_input_and_stores_nothing(fresh_install, app):
    bad_kind = cli(app, *SETUP_ARGS[:4], "ministère", *SETUP_ARGS[5:])
    assert bad_kind.exit_code != 0
    assert "Type d'organisation inconnu" in bad_kind.output
    weak = cli(app, *SETUP_ARGS[:-1], "court")
    assert weak.exit_code != 0
    assert "au moins" in weak.output
    assert count(User) == count(Organisation) == 0
    assert not setup_done()


def test_create_organisation_command(app):
    ministry = cli(app, "create-organisation", "--name", "Ministère", "--kind", "state_service")
    assert ministry.exit_code == 0, ministry.output
    parent = db.session.scalar(select(Organisation).where(Organisation.name == "Ministère"))
    direction = cli(
        app,
        "create-organisation",
        "--name",
        "Direction du numérique",
        "--kind",
        "state_service",
        "--siret",
        "11000201100044",
        "--parent-id",
        str(parent.id),
    )
    assert direction.exit_code == 0, direction.output
    created = db.session.scalar(select(Organisation).where(Organisation.siret == "11000201100044"))
    assert created.parent_id == parent.id
    assert {parent.source, created.source} == {"cli"}  # shown as such in the admin list

    unknown_parent = cli(
        app, "create-organisation", "--name", "X", "--kind", "other", "--parent-id", "999"
    )
    assert unknown_parent.exit_code != 0
    assert "Aucune organisation n° 999" in unknown_parent.output
    bad_kind = cli(app, "create-organisation", "--name", "Y", "--kind", "ministère")
    assert bad_kind.exit_code != 0
    assert "state_service" in bad_kind.output
    assert count(Organisation) == 2


def test_create_admin_completes_setup_only_with_an_organisation(fresh_install, app):
    admin = ("create-admin", "--username", "alix", "--email", "alix@example.gouv.fr")
    password = ("--password", "un mot de passe solide")
    alone = cli(app, *admin, *password)
    assert alone.exit_code != 0
    assert "create-organisation" in alone.output
    assert count(User) == 0
    assert not setup_done()

    cli(app, "create-organisation", "--name", "DNUM", "--kind", "state_service")
    organisation_id = db.session.scalar(select(Organisation.id))
    done = cli(app, *admin, *password, "--organisation-id", str(organisation_id))
    assert done.exit_code == 0, done.output
    assert "Installation terminée" in done.output
    assert setup_done()
    assert db.session.scalar(select(User)).organisation_id == organisation_id


def test_create_admin_still_works_without_organisation_once_set_up(app):
    result = cli(
        app,
        "create-admin",
        "--username",
        "dominique",
        "--email",
        "dominique@example.gouv.fr",
        "--password",
        "un mot de passe solide",
    )
    assert result.exit_code == 0, result.output
    assert "Installation terminée" not in result.output


# -- other ways to be set up ---------------------------------------------------------------------


def test_loading_the_demo_marks_setup_done(fresh_install, app, client):
    from maillage.communities.demo import load_demo

    load_demo()
    assert setup_done()
    assert client.get("/").status_code == 200
    assert db.session.scalar(
        select(AuditEntry.data).where(AuditEntry.action == "firstrun.setup_done")
    ) == {"via": "demo"}


def test_installations_that_have_accounts_are_set_up_by_the_migration(tmp_path):
    from flask_migrate import upgrade
    from sqlalchemy import MetaData, text

    from maillage.platform.app import create_app

    url = f"sqlite:///{tmp_path / 'older.sqlite'}"
    older = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url}, instance_path=tmp_path / "instance"
    )
    with older.app_context():
        upgrade(revision="0019_federation_outgoing")
        with db.engine.begin() as connection:
            users = MetaData()
            users.reflect(connection, only=["users"])
            connection.execute(users.tables["users"].insert().values(**_required_values(users)))
        upgrade(revision="0020_first_run")
        with db.engine.connect() as connection:
            via = connection.scalar(text("SELECT setup_completed_via FROM instance_state"))
        db.engine.dispose()
    assert via == "existing"


def _required_values(metadata) -> dict:
    """A value for each column of ``users`` that must have one (as the version before had it)."""
    samples = {"INTEGER": 1, "BOOLEAN": False, "DATETIME": dt.datetime(2026, 1, 1)}
    return {
        column.name: samples.get(str(column.type), "alix")
        for column in metadata.tables["users"].columns
        if not column.nullable and column.server_default is None
    }
