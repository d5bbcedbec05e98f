"""``flask maillage backup``, ``flask maillage restore`` and ``flask maillage held-outbox``."""

from __future__ import annotations

import click

from maillage.platform.backup import operations, pending
from maillage.platform.extensions import db


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(),
    default=None,
    help="Fichier de l'archive, ou dossier où la créer (défaut : BACKUP_PATH).",
)
@click.option(
    "--with-secrets",
    is_flag=True,
    help="Garder les secrets de la configuration (clé secrète, mots de passe, secrets clients).",
)
def backup(output: str | None, with_secrets: bool) -> None:
    """Write one archive: database, stored files and instance configuration."""
    try:
        result = operations.backup(output, with_secrets=with_secrets)
    except operations.BackupError as exc:
        raise click.ClickException(f"Sauvegarde impossible : {exc}") from exc
    manifest = result.manifest
    click.echo(f"Sauvegarde écrite : {result.path} ({_size(result.size)}, lisible par vous seul).")
    click.echo(
        f"  base {manifest['database']['kind']} à la révision"
        f" {manifest['database']['alembic_revision']}, {result.files} fichiers stockés,"
        f" configuration {'AVEC' if with_secrets else 'sans'} ses secrets."
    )
    click.echo(
        "  L'archive contient la base de données, donc les clés privées de fédération et les"
        " empreintes de mots de passe : gardez-la en lieu sûr, hors de cette machine."
    )


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
def restore(archive: str) -> None:
    """Restore an archive on this instance, which must be empty (new database, no files)."""
    try:
        result = operations.restore(archive)
    except operations.BackupError as exc:
        raise click.ClickException(f"Restauration refusée : {exc}") from exc
    manifest, settled = result.manifest, result.settled
    click.echo(
        f"Sauvegarde du {manifest['created_at']} de « {manifest['instance_name']} » restaurée."
    )
    if result.migrated_from:
        click.echo(f"  Schéma mis à jour depuis la révision {result.migrated_from}.")
    click.echo(f"  Index de recherche reconstruit : {result.indexed} documents.")
    click.echo(
        f"  Travaux en attente à la sauvegarde : {settled['replayed']} repris,"
        f" {settled['deliveries']} envois de fédération repris (dédoublonnés par le destinataire),"
        f" {settled['held']} retenus (e-mails) ; {settled['notices']} notifications ne seront"
        " pas envoyées par e-mail (elles restent dans la cloche)."
    )
    if settled["held"]:
        click.echo("  Voir et décider des envois retenus : flask maillage held-outbox")
    for note in result.notes:
        click.echo(f"  {note}")


@click.command("held-outbox")
@click.option("--kind", default=None, help="Seulement ce type de travail (ex. mail.send).")
@click.option("--release", is_flag=True, help="Envoyer les travaux retenus.")
@click.option("--drop", is_flag=True, help="Ne jamais envoyer les travaux retenus.")
def held_outbox(kind: str | None, release: bool, drop: bool) -> None:
    """List the work held at a restore (e-mails maybe sent already), send it or drop it."""
    if release and drop:
        raise click.UsageError("--release ou --drop, pas les deux.")
    if release or drop:
        count = pending.release_held(kind) if release else pending.drop_held(kind)
        db.session.commit()
        click.echo(f"{count} travaux {'remis en envoi' if release else 'abandonnés'}.")
        return
    summary = pending.held_summary()
    if not summary:
        click.echo("Aucun travail retenu.")
        return
    for held_kind, count, oldest in summary:
        click.echo(f"  {held_kind:<28} {count:>6}  (le plus ancien : {oldest:%Y-%m-%d %H:%M} UTC)")
    click.echo("Envoyer : --release ; abandonner : --drop (avec --kind pour un seul type).")


def _size(size: int) -> str:
    for unit in ("octets", "Ko", "Mo", "Go"):
        if size < 1024 or unit == "Go":
            return f"{size:.0f} {unit}" if unit == "octets" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} Go"


COMMANDS: list = [backup, restore, held_outbox]
"""``flask maillage …`` commands."""
