"""``flask maillage …`` commands."""

from __future__ import annotations

import getpass
import os
import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.serving import run_simple

from maillage.platform.errors import OperationError
from maillage.platform.extensions import db

maillage_cli = AppGroup("maillage", help="Administration de Maillage.")


def _add_package_commands() -> None:
    """Commands that live with their feature: setup-link, setup and create-organisation
    (platform/firstrun/cli.py), backup and restore (platform/backup/cli.py)."""
    from maillage.platform.backup.cli import COMMANDS as BACKUP_COMMANDS
    from maillage.platform.firstrun.cli import COMMANDS as FIRSTRUN_COMMANDS

    for command in (*FIRSTRUN_COMMANDS, *BACKUP_COMMANDS):
        maillage_cli.add_command(command)


_add_package_commands()


@maillage_cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--name", "display_name", default=None, help="Nom affiché.")
@click.option(
    "--password",
    envvar="MAILLAGE_ADMIN_PASSWORD",
    default=None,
    help="Sinon demandé sur le terminal (ou MAILLAGE_ADMIN_PASSWORD).",
)
@click.option(
    "--organisation-id",
    type=int,
    default=None,
    help="Son organisation (n°) ; obligatoire avant la fin de l'installation, qu'il termine.",
)
def create_admin(
    username: str,
    email: str,
    display_name: str | None,
    password: str | None,
    organisation_id: int | None,
) -> None:
    """Create a platform administrator."""
    from maillage.communities.users.operations import create_user
    from maillage.platform.firstrun.cli import admin_organisation, complete_setup_by

    organisation, completes_setup = admin_organisation(organisation_id)
    if password is None:
        password = getpass.getpass("Mot de passe : ")
    try:
        user = create_user(
            username,
            display_name or username,
            email,
            password,
            organisation=organisation,
            is_admin=True,
        )
        if completes_setup:
            complete_setup_by(user)
    except OperationError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Administrateur « {user.username} » créé.")
    if completes_setup:
        click.echo("Installation terminée.")


@maillage_cli.command("demo")
@click.option(
    "--if-empty", is_flag=True, help="Ne rien faire si la base contient déjà des comptes."
)
def demo(if_empty: bool) -> None:
    """Load the demo data set (French inter-administration networks)."""
    from maillage.communities.demo import (
        DEMO_PASSWORD,
        PEOPLE,
        database_is_empty,
        demo_is_loaded,
        load_demo,
    )

    if if_empty and not database_is_empty():
        click.echo("Données déjà présentes : démo non rechargée.")
        if not demo_is_loaded():
            return
        accounts = [(username, spec[3]) for username, spec in PEOPLE.items()]
    else:
        accounts = load_demo()
        click.echo("Démo chargée.")
    click.echo(f"Comptes de démonstration (mot de passe « {DEMO_PASSWORD} ») :")
    for username, description in accounts:
        click.echo(f"  {username:<12} {description}")


@maillage_cli.command("reindex")
@click.option(
    "--if-outdated",
    is_flag=True,
    help="Only when the index was built by an older version (its schema differs).",
)
def reindex(if_outdated: bool) -> None:
    """Rebuild the search index from the database."""
    from maillage.platform.search.backend import get_backend
    from maillage.platform.search.indexing import reindex_all

    if if_outdated and not get_backend().is_outdated():
        click.echo("L'index de recherche est à jour.")
        return
    click.echo(f"{reindex_all()} documents indexés.")


@maillage_cli.command("process-outbox")
def process_outbox() -> None:
    """Process pending outbox items in this process (e-mails, index updates)."""
    from maillage.platform.outbox.operations import UNCERTAIN, process_pending, status_count

    click.echo(f"{process_pending()} éléments traités.")
    uncertain = status_count(UNCERTAIN)
    if uncertain:
        click.echo(
            f"{uncertain} élément(s) interrompu(s) pendant l'envoi et non renvoyé(s) "
            "(statut « uncertain », raison dans last_error)."
        )


@maillage_cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host: str, port: int) -> None:
    """Run the web server and a Celery worker (with beat) together; Ctrl-C stops both.

    The worker is supervised: when it exits it is started again (with a growing pause while it
    keeps failing), and its process id is in ``instance/worker.pid``."""
    from maillage.platform.firstrun.cli import print_setup_link
    from maillage.platform.health.supervisor import WorkerSupervisor

    print_setup_link(host, port)  # an instance not set up yet: a one-time setup link
    instance = current_app.instance_path
    supervisor = WorkerSupervisor(
        worker_command(os.path.join(instance, "celerybeat-schedule")),
        env=dict(os.environ, MAILLAGE_INSTANCE_PATH=instance),
        pid_file=os.path.join(instance, "worker.pid"),
    )
    _stop_on_termination()
    supervisor.start()
    try:
        # app.run() is a no-op under the flask command; serve with Werkzeug directly.
        run_simple(host, port, current_app._get_current_object(), threaded=True)
    finally:
        supervisor.stop()


def _stop_on_termination() -> None:
    """SIGTERM or SIGHUP (``kill``, a closed terminal, a tool's time-out) end ``serve`` like
    Ctrl-C, through its ``finally``: the worker runs in a session of its own, so without this it
    would outlive the web server."""

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)


#: Options of every worker Maillage starts (``serve``, deploy/maillage-worker.service): no
#: gossip, mingle or event heartbeats — worker-to-worker chatter and monitoring events over the
#: broker that nothing here listens to, and whose restart after a lost broker connection is
#: where kombu touches a connection it has already closed (the "'NoneType' object has no
#: attribute …" errors).  The worker's liveness is its heartbeat task (platform/health).
WORKER_OPTIONS = ("--without-gossip", "--without-mingle", "--without-heartbeat")


def worker_command(schedule: str) -> list[str]:
    """The Celery worker ``serve`` runs: one process, with beat inside it."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "maillage.platform.worker:celery",
        "worker",
        "--beat",
        "--loglevel",
        "INFO",
        "--concurrency",
        "1",
        *WORKER_OPTIONS,
        "--schedule",
        schedule,
    ]
