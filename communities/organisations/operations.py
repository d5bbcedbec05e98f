"""Every write on organisations; the caller commits.

SIRET and SIREN typed by people (administrators, sign-up) are checked in full: length and Luhn
key, with La Poste's exception.  A SIRET named by an identity provider or a directory
(:func:`organisation_for_siret`) is only checked for its form: the provider is the authority,
and refusing a sign-in over a check digit would lock a real agent out.
"""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update

from maillage.communities.organisations.models import (
    Organisation,
    OrganisationKind,
    OrganisationSource,
    OrganisationStatus,
)
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.storage import FileTooLarge, get_storage

#: La Poste's SIREN: its establishments' SIRET do not follow the Luhn key (INSEE rule: the sum
#: of the 14 digits is a multiple of 5), except its head office's.
LA_POSTE_SIREN = "356000000"
NAME_MAX = 200
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 25_000_000
LOGO_SIZE = (512, 512)
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")


# -- identifiers -------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """The Luhn check: from the right, every second digit doubled (minus 9 past 9)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digits(value: str) -> str:
    return "".join(value.split())


def validate_siren(siren: str | None) -> str | None:
    """A SIREN: 9 digits with a valid Luhn key (spaces allowed on input)."""
    if not siren or not siren.strip():
        return None
    digits = _digits(siren)
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
        raise OperationError(_l("Un SIREN comporte 9 chiffres."))
    if not luhn_valid(digits):
        raise OperationError(_l("Ce SIREN n'est pas valide (clé de contrôle incorrecte)."))
    return digits


def siret_key_valid(digits: str) -> bool:
    if digits[:9] == LA_POSTE_SIREN and not luhn_valid(digits):
        return sum(int(char) for char in digits) % 5 == 0
    return luhn_valid(digits)


def validate_siret(siret: str | None, strict: bool = True) -> str | None:
    """A SIRET: 14 digits (spaces allowed on input) and, when ``strict``, a valid key: Luhn on
    the 14 digits, or for La Poste's establishments a digit sum that is a multiple of 5."""
    if not siret or not siret.strip():
        return None
    digits = _digits(siret)
    if len(digits) != 14 or not digits.isascii() or not digits.isdigit():
        raise OperationError(_l("Un SIRET comporte 14 chiffres."))
    if strict and not siret_key_valid(digits):
        raise OperationError(
            _l("Ce SIRET n'est pas valide (clé de contrôle incorrecte) : vérifiez les chiffres.")
        )
    return digits


def organisation_by_siret(siret: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.siret == siret))


# -- creation ----------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise OperationError(_l("Le nom de l'organisation est obligatoire."))
    if len(name) > NAME_MAX:
        raise OperationError(_l("Le nom de l'organisation fait 200 caractères au plus."))
    return name


def _check_kind(kind: str) -> str:
    if kind not in set(OrganisationKind):
        raise OperationError(_l("Type d'organisation inconnu."))
    return kind


def _check_siret_free(siret: str | None, organisation: Organisation | None = None) -> None:
    if siret is None:
        return
    existing = organisation_by_siret(siret)
    if existing is not None and existing is not organisation:
        raise OperationError(
            _l("Une organisation avec ce SIRET existe déjà : %(name)s.", name=existing.name)
        )


def create_organisation(
    name: str,
    kind: str,
    siret: str | None = None,
    parent: Organisation | None = None,
    actor=None,
    *,
    siren: str | None = None,
    source: str = OrganisationSource.ADMIN,
    status: str = OrganisationStatus.ACTIVE,
    proposed_by=None,
    strict: bool = True,
) -> Organisation:
    name = _clean_name(name)
    _check_kind(kind)
    siret = validate_siret(siret, strict=strict)
    siren = siret[:9] if siret else validate_siren(siren)
    _check_siret_free(siret)
    organisation = Organisation(
        name=name,
        kind=kind,
        siret=siret,
        siren=siren,
        parent=parent,
        source=source,
        status=status,
        proposed_by_id=getattr(proposed_by, "id", None),
    )
    db.session.add(organisation)
    db.session.flush()
    record(actor, "organisation.create", organisation, name=name, source=source, status=status)
    return organisation


def organisation_for_siret(
    siret: str, name: str | None = None, kind: str | None = None
) -> Organisation:
    """The organisation registered with ``siret``, created when first met (a sign-in through
    ProConnect or a directory names the person's establishment by its SIRET)."""
    siret = validate_siret(siret, strict=False)
    organisation = organisation_by_siret(siret)
    if organisation is not None:
        return organisation
    label = (name or "").strip()[:NAME_MAX] or f"Établissement {siret}"
    return create_organisation(
        label,
        kind or OrganisationKind.OTHER,
        siret=siret,
        source=OrganisationSource.SSO,
        strict=False,
    )


def propose_organisation(
    name: str, kind: str, siret: str | None, proposer
) -> tuple[Organisation, bool]:
    """The organisation someone names at sign-up: ``(organisation, already_known)``.

    A SIRET already registered gives that organisation (never a duplicate); otherwise a
    ``pending`` one is created for an administrator to validate.  Its proposer is not blocked
    meanwhile: they belong to it and use the platform at once.
    """
    siret = validate_siret(siret)
    if siret is not None and (existing := organisation_by_siret(siret)) is not None:
        return existing, True
    organisation = create_organisation(
        name,
        kind,
        siret=siret,
        actor=proposer,
        source=OrganisationSource.SIGNUP,
        status=OrganisationStatus.PENDING,
        proposed_by=proposer,
    )
    return organisation, False


# -- edition -----------------------------------------------------------------------------------


def is_descendant(organisation: Organisation, ancestor: Organisation) -> bool:
    """Whether ``ancestor`` is ``organisation`` itself or above it in the parent chain."""
    seen: set[int] = set()
    current: Organisation | None = organisation
    while current is not None and current.id not in seen:
        if current.id == ancestor.id:
            return True
        seen.add(current.id)
        current = current.parent
    return False


def _check_parent(organisation: Organisation, parent: Organisation | None) -> None:
    if parent is not None and is_descendant(parent, organisation):
        raise OperationError(
            _l("Une organisation ne peut pas être rattachée à elle-même ni à l'une de ses filles.")
        )


def update_organisation(
    organisation: Organisation,
    actor,
    *,
    name: str,
    kind: str,
    siret: str | None,
    parent: Organisation | None,
    siren: str | None = None,
) -> Organisation:
    """Change what an administrator edits; the parent chain never loops."""
    name = _clean_name(name)
    _check_kind(kind)
    siret = validate_siret(siret)
    siren = siret[:9] if siret else validate_siren(siren)
    _check_siret_free(siret, organisation)
    _check_parent(organisation, parent)
    before = {"name": organisation.name, "kind": organisation.kind, "siret": organisation.siret}
    organisation.name, organisation.kind = name, kind
    organisation.siret, organisation.siren = siret, siren
    organisation.parent = parent
    db.session.flush()
    record(actor, "organisation.update", organisation, before=before)
    return organisation


def _reencoded_logo(path) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=list(LOGO_FORMATS)) as opened:
                width, height = opened.size
                if width * height > LOGO_MAX_PIXELS:
                    raise OperationError(_l("Cette image est trop grande (en pixels)."))
                opened.seek(0)
                image = ImageOps.exif_transpose(opened).convert("RGBA")
                image.thumbnail(LOGO_SIZE)
                out = io.BytesIO()
                image.save(out, "PNG", optimize=True)
                return out.getvalue()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise OperationError(_l("Cette image est trop grande (en pixels).")) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise OperationError(_l("Le logo doit être une image PNG, JPEG ou WebP.")) from exc


def set_logo(organisation: Organisation, stream: BinaryIO, actor) -> None:
    """Store a logo: PNG, JPEG or WebP checked by Pillow, re-encoded as a PNG of 512 px at
    most (nothing of the uploaded file but its pixels is kept)."""
    storage = get_storage()
    try:
        staged = storage.stage(stream, LOGO_MAX_BYTES)
    except FileTooLarge as exc:
        raise OperationError(_l("Le logo fait 2 Mo au plus.")) from exc
    try:
        data = _reencoded_logo(staged.path)
    finally:
        staged.discard()
    if organisation.logo_key:
        storage.delete_after_commit(organisation.logo_key)
    organisation.logo_key = storage.store_bytes(data)
    record(actor, "organisation.logo", organisation)


def remove_logo(organisation: Organisation, actor) -> None:
    if organisation.logo_key:
        get_storage().delete_after_commit(organisation.logo_key)
        organisation.logo_key = None
        record(actor, "organisation.logo_removed", organisation)


# -- status ------------------------------------------------------------------------------------


def validate_organisation(organisation: Organisation, actor) -> None:
    """Accept a proposed organisation: it becomes active and is offered to everyone."""
    if not organisation.is_pending:
        raise OperationError(_l("Cette organisation n'est pas en attente de validation."))
    organisation.status = OrganisationStatus.ACTIVE
    record(actor, "organisation.validate", organisation)


def deactivate_organisation(organisation: Organisation, actor) -> None:
    """No longer offered at sign-up or in pickers; its members keep their accounts and work."""
    if organisation.status == OrganisationStatus.DEACTIVATED:
        raise OperationError(_l("Cette organisation est déjà désactivée."))
    organisation.status = OrganisationStatus.DEACTIVATED
    organisation.deactivated_at = utcnow()
    record(actor, "organisation.deactivate", organisation)


def reactivate_organisation(organisation: Organisation, actor) -> None:
    if organisation.status != OrganisationStatus.DEACTIVATED:
        raise OperationError(_l("Cette organisation n'est pas désactivée."))
    organisation.status = OrganisationStatus.ACTIVE
    organisation.deactivated_at = None
    record(actor, "organisation.reactivate", organisation)


# -- merge -------------------------------------------------------------------------------------


def _references_to_organisations() -> list:
    """Every column of every mapped table that points at ``organisations.id`` (members,
    communities, parents, and whatever a package adds later)."""
    return [
        (table, column)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "organisations" for fk in column.foreign_keys)
    ]


def merge_organisations(source: Organisation, target: Organisation, actor) -> dict[str, int]:
    """Merge ``source`` into ``target`` and delete ``source``; returns the rows moved per table.

    Its members, communities and child organisations follow ``target``; ``target`` takes its
    SIRET when it has none.  Merging into itself or into one of its own descendants is refused.
    """
    if source.id == target.id:
        raise OperationError(_l("Une organisation ne peut pas être fusionnée avec elle-même."))
    if is_descendant(target, source):
        raise OperationError(
            _l("Impossible de fusionner une organisation dans l'une de ses filles.")
        )
    moved: dict[str, int] = {}
    db.session.flush()
    for table, column in _references_to_organisations():
        result = db.session.execute(
            update(table).where(column == source.id).values({column.name: target.id}),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount:
            moved[f"{table.name}.{column.name}"] = result.rowcount
    siret, siren, logo_key = source.siret, source.siren, source.logo_key
    record(actor, "organisation.merge", target, merged=source.id, name=source.name, moved=moved)
    db.session.delete(source)
    db.session.flush()
    if siret and not target.siret:
        target.siret, target.siren = siret, siren
    if logo_key:
        if target.logo_key:
            get_storage().delete_after_commit(logo_key)
        else:
            target.logo_key = logo_key
    db.session.flush()
    db.session.expire_all()  # rows changed behind the ORM's back (members, communities…)
    return moved


def reject_organisation(organisation: Organisation, replacement: Organisation, actor) -> None:
    """Refuse a proposed organisation: its members move to ``replacement`` and it is deleted.

    Never leaving a person without organisation (every account belongs to one), rejecting is a
    merge into the organisation the administrator names; accounts are never blocked.
    """
    if not organisation.is_pending:
        raise OperationError(_l("Cette organisation n'est pas en attente de validation."))
    record(actor, "organisation.reject", replacement, rejected=organisation.id)
    merge_organisations(organisation, replacement, actor)
