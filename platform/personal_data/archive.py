"""The ZIP archive of a person's data: ``README.txt``, ``profile.json``, one ``<section>.json``
per registered holder (registry.HOLDERS, in registration order) and the files they uploaded
under ``files/``.

It is written to a file object (a temporary file, never the whole archive in memory); file
contents are copied from the storage chunk by chunk.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Iterable
from typing import BinaryIO

from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _

from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.personal_data.registry import HOLDERS
from maillage.platform.personal_data.rows import jsonable
from maillage.platform.storage import UnknownKey, get_storage

_UNSAFE = re.compile(r"[^\w.\- ]+")


def profile(user: User) -> dict:
    """The ``users`` row, as the person would describe it (no password, no TOTP secret)."""
    organisation = user.organisation
    fields = [
        "username",
        "display_name",
        "email",
        "job_title",
        "bio",
        "locale",
        "ap_id",
        "local",
        "created_at",
        "last_seen_at",
        "email_verified_at",
        "charter_accepted_at",
        "totp_enabled_at",
        "suspended_at",
        "suspension_reason",
        "deletion_requested_at",
        "deletion_due_at",
    ]
    data = {name: jsonable(getattr(user, name, None)) for name in fields}
    data["id"] = user.id
    data["organisation"] = (
        {"id": organisation.id, "name": organisation.name, "kind": organisation.kind}
        if organisation is not None
        else None
    )
    data["roles"] = [
        role
        for role, held in (
            ("admin", user.is_admin),
            ("trainer", user.is_trainer),
            ("ambassador", user.is_ambassador),
        )
        if held
    ]
    data["is_active"] = user.is_active
    return data


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=jsonable)


def safe_name(name: str) -> str:
    """A path safe in a ZIP (folders kept, never ``..`` or absolute, no odd characters)."""
    parts = [_UNSAFE.sub("_", part).strip(" .") for part in name.split("/")]
    return "/".join(part for part in parts if part) or "fichier"


def _file_name(name: str, taken: set[str]) -> str:
    """A safe path under ``files/``, unique in the archive."""
    clean = safe_name(name)
    candidate, number = clean, 1
    while candidate in taken:
        number += 1
        stem, dot, ext = clean.rpartition(".")
        candidate = f"{stem}-{number}.{ext}" if dot and stem else f"{clean}-{number}"
    taken.add(candidate)
    return candidate


def _write_files(archive: zipfile.ZipFile, files: Iterable[tuple[str, str]], taken: set[str]):
    storage = get_storage()
    for name, key in files:
        try:
            source = storage.open(key)
        except UnknownKey:
            continue  # removed meanwhile: the section's JSON still describes it
        with source, archive.open(f"files/{_file_name(name, taken)}", "w") as target:
            shutil.copyfileobj(source, target, 64 * 1024)


def write_archive(user: User, out: BinaryIO) -> list[str]:
    """Write the archive of ``user`` to ``out``; returns the sections written.

    ``profile.json`` is the one object of the ``profile`` section (the ``users`` row, registered
    by communities.users), written from :func:`profile` even if nothing registered it.
    """
    sections: dict[str, list] = {"profile": []}
    file_lists = []
    for holder in HOLDERS.values():
        sections.setdefault(holder.section, []).extend(holder.export(user))
        if holder.files is not None:
            file_lists.append(holder.files(user))
    taken: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme(user, sorted(sections)))
        for section, rows in sections.items():
            data = rows
            if section == "profile":
                data = rows[0] if len(rows) == 1 else profile(user)
            archive.writestr(f"{section}.json", _dumps(data))
        for files in file_lists:
            _write_files(archive, files, taken)
    return list(sections)


def readme(user: User, sections: list[str]) -> str:
    """The French (or the person's language) explanation at the top of the archive."""
    from maillage.platform.notifications.emails import language_of

    with force_locale(language_of(user)):
        lines = [
            _("Vos données personnelles sur Maillage"),
            "",
            _(
                "Archive préparée le %(date)s pour le compte « %(username)s ».",
                date=format_datetime(utcnow(), "long"),
                username=user.username,
            ),
            "",
            _("Contenu :"),
            _(
                "- profile.json : votre profil (identifiant, nom affiché, adresse e-mail, "
                "organisation, fonction, présentation, langue, rôles, dates de création et de "
                "dernière visite) ;"
            ),
            _(
                "- un fichier .json par catégorie de données : vos adhésions, publications, "
                "commentaires, discussions, réponses aux événements, votes, documents, pages de "
                "wiki, progression dans les formations, notifications, etc. Le texte de vos "
                "contributions y figure en Markdown, tel que vous l'avez écrit, avec l'adresse de "
                "la communauté et du contenu ;"
            ),
            _("- files/ : les fichiers que vous avez déposés."),
            "",
            _(
                "Les dates sont en temps universel (UTC), au format ISO 8601. Ces fichiers ne "
                "contiennent que vos données : pas les adresses e-mail des autres membres."
            ),
            _("Catégories présentes : %(sections)s.", sections=", ".join(sections)),
            "",
            _(
                "Pour toute question sur vos données, consultez la page « Données personnelles » "
                "du site."
            ),
        ]
    return "\n".join(lines) + "\n"
