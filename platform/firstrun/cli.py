"""``flask maillage setup-link``, ``setup`` and ``create-organisation``, for scripted installs;
``platform/cli.py`` adds them to the ``maillage`` group and asks :func:`print_setup_link` at
``serve``."""

from __future__ import annotations

import click
from flask import current_app, url_for

from maillage.communities.organisations.models import (
    Organisation,
    OrganisationKind,
    OrganisationSource,
)
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.firstrun.operations import (
    issue_setup_token,
    mark_setup_done,
    set_up_instance,
)
from maillage.platform.firstrun.queries import setup_done

#: The development server's address, the default ``BASE_URL``: when unchanged, the link names
#: the host and port actually served instead.
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
KINDS = ", ".join(kind.value for kind in OrganisationKind)


def setup_url(secret: str, base_url: str | None = None) -> str:
    """The setup page's address for ``secret``, under the public base URL."""
    with current_app.test_request_context(base_url=base_url or current_app.config["BASE_URL"]):
        return url_for("firstrun.setup", token=secret, _external=True)


def served_base_url(host: str, port: int) -> str:
    """``MAILLAGE_BASE_URL`` when configured, else the address being served."""
    configured = current_app.config["BASE_URL"]
    if configured != DEFAULT_BASE_URL:
        return configured
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - display only
    return f"http://{shown}:{port}"


def _fail(exc: OperationError):
    db.session.rollback()
    return click.ClickException(str(exc))


def _echo_link(secret: str, base_url: str | None = None) -> None:
    click.echo("")
    click.echo("Installation : ouvrez ce lien pour créer l'organisation et le premier")
    click.echo("administrateur (il sert une fois et expire dans 24 heures) :")
    click.echo(f"  {setup_url(secret, base_url)}")
    click.echo("")


def print_setup_link(host: str, port: int) -> None:
    """At server start on an instance not set up: a fresh setup link on the console."""
    if setup_done():
        return
    secret = issue_setup_token()
    db.session.commit()
    _echo_link(secret, served_base_url(host, port))


@click.command("setup-link")
def setup_link() -> None:
    """Print a new one-time setup link (older links stop working)."""
    try:
        secret = issue_setup_token()
    except OperationError as exc:
        raise _fail(exc) from exc
    db.session.commit()
    _echo_link(secret)


@click.command("create-organisation")
@click.option("--name", required=True, help="Nom de l'organisation.")
@click.option("--kind", required=True, help=f"Type : {KINDS}.")
@click.option("--siret", default=None, help="SIRET (14 chiffres), facultatif.")
@click.option("--parent-id", type=int, default=None, help="Organisation de rattachement (n°).")
def create_organisation_command(
    name: str, kind: str, siret: str | None, parent_id: int | None
) -> None:
    """Create an organisation."""
    from maillage.communities.organisations.operations import create_organisation

    parent = find_organisation(parent_id)
    try:
        organisation = create_organisation(
            name, kind, siret, parent=parent, source=OrganisationSource.CLI
        )
    except OperationError as exc:
        hint = f" Types possibles : {KINDS}." if kind not in set(OrganisationKind) else ""
        db.session.rollback()
        raise click.ClickException(f"{exc}{hint}") from exc
    db.session.commit()
    click.echo(f"Organisation « {organisation.name} » créée (n° {organisation.id}).")


def find_organisation(organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise click.ClickException(
            f"Aucune organisation n° {organisation_id} (voir flask maillage create-organisation)."
        )
    return organisation


@click.command("setup")
@click.option("--organisation", "organisation_name", required=True, help="Nom de l'organisation.")
@click.option("--kind", required=True, help=f"Type d'organisation : {KINDS}.")
@click.option("--siret", default=None, help="SIRET de l'organisation, facultatif.")
@click.option("--username", required=True, help="Identifiant du premier administrateur.")
@click.option("--email", required=True)
@click.option("--name", "display_name", default=None, help="Nom affiché.")
@click.option(
    "--password",
    envvar="MAILLAGE_ADMIN_PASSWORD",
    default=None,
    help="Sinon demandé sur le terminal (ou MAILLAGE_ADMIN_PASSWORD).",
)
def setup(organisation_name, kind, siret, username, email, display_name, password) -> None:
    """First-run setup without a browser: the first organisation and administrator."""
    if setup_done():
        raise click.ClickException(
            "L'installation est déjà terminée : utilisez create-admin ou create-organisation."
        )
    if password is None:
        password = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    try:
        admin = set_up_instance(
            organisation_name=organisation_name,
            kind=kind,
            siret=siret,
            username=username,
            display_name=display_name or username,
            email=email,
            password=password,
            via="cli",
        )
    except OperationError as exc:
        raise _fail(exc) from exc
    db.session.commit()
    click.echo(
        f"Installation terminée : organisation « {admin.organisation.name} », "
        f"administrateur « {admin.username} »."
    )


def admin_organisation(organisation_id: int | None) -> tuple[Organisation | None, bool]:
    """For ``create-admin``: the new admin's organisation, and whether it completes setup.

    On an instance not set up, an administrator completes setup only with an organisation
    (``--organisation-id``); without one, the command refuses rather than leave an instance
    that looks set up but has no organisation to sign people up in.
    """
    organisation = find_organisation(organisation_id)
    if setup_done():
        return organisation, False
    if organisation is None:
        raise click.ClickException(
            "L'installation n'est pas terminée : le premier administrateur appartient à une "
            "organisation. Créez-la (flask maillage create-organisation) puis relancez avec "
            "--organisation-id, ou utilisez flask maillage setup."
        )
    return organisation, True


def complete_setup_by(admin) -> None:
    """``create-admin`` made the first administrator: setup is done."""
    mark_setup_done(admin, via="cli", organisation=admin.organisation_id)


COMMANDS = (setup_link, setup, create_organisation_command)
