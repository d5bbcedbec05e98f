"""Pre-provisioning accounts from a CSV file, with a report line per input line.

Columns (header row, ``,`` or ``;``): ``email`` (required), ``nom``/``name``, ``organisation``
(the name or the SIRET of an existing active organisation), ``identifiant``/``username``
(derived from the address when absent), ``role`` (trainer or ambassador, optional).  The same
size and line caps as the bulk invitations of a community (:mod:`~maillage.communities.community
.bulk`).

Semantics: a dry run first reports what each line would do; the confirmed run creates every
valid line and reports the others, all in one transaction (the caller commits once, or rolls
back everything on an unexpected error).  Created accounts have no password: each person gets an
e-mail with a link to choose one, or signs in later through their organisation's service.  They
are never linked to an identity here: that stays with the sign-in code (verified e-mail only).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from maillage.auth.local.operations import (
    ACCOUNT_SETUP_VALID_SECONDS,
    absolute_url,
    account_setup_token,
)
from maillage.communities.community.bulk import MAX_BYTES, MAX_LINES
from maillage.communities.organisations.models import Organisation
from maillage.communities.users.models import User
from maillage.communities.users.operations import (
    RESERVED_USERNAMES,
    USERNAME_RE,
    create_user,
    normalise_email,
    validate_username,
)
from maillage.platform.audit.operations import record
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db
from maillage.platform.people.operations import mail_person, require_admin

COLUMNS = {
    "email": {"email", "e-mail", "courriel", "mail"},
    "name": {"nom", "name", "nom complet", "display_name"},
    "organisation": {"organisation", "organization", "siret"},
    "username": {"identifiant", "username", "login"},
    "role": {"role", "rôle"},
}
ROLE_WORDS = {
    "trainer": "trainer",
    "formateur": "trainer",
    "formatrice": "trainer",
    "ambassador": "ambassador",
    "ambassadeur": "ambassador",
    "ambassadrice": "ambassador",
}

# Outcomes of a line, in the report.
CREATED = "created"
WOULD_CREATE = "would_create"
EXISTS = "exists"
DUPLICATE = "duplicate"
INVALID_EMAIL = "invalid_email"
UNKNOWN_ORGANISATION = "unknown_organisation"
INVALID_USERNAME = "invalid_username"
USERNAME_TAKEN = "username_taken"
BAD_ROLE = "bad_role"

OUTCOME_LABELS = {
    CREATED: _l("Compte créé"),
    WOULD_CREATE: _l("Sera créé"),
    EXISTS: _l("Un compte existe déjà avec cette adresse"),
    DUPLICATE: _l("Adresse en double dans le fichier"),
    INVALID_EMAIL: _l("Adresse invalide"),
    UNKNOWN_ORGANISATION: _l("Organisation inconnue, inactive ou absente"),
    INVALID_USERNAME: _l("Identifiant invalide"),
    USERNAME_TAKEN: _l("Identifiant déjà pris"),
    BAD_ROLE: _l("Rôle inconnu (formateur ou ambassadeur)"),
}


@dataclass(frozen=True)
class Row:
    number: int  # line number in the file (the header is line 1)
    cells: dict[str, str]


@dataclass
class ReportLine:
    number: int
    email: str
    outcome: str
    username: str = ""
    organisation: str = ""
    role: str = ""

    @property
    def label(self):
        return OUTCOME_LABELS[self.outcome]

    @property
    def ok(self) -> bool:
        return self.outcome in (CREATED, WOULD_CREATE)


@dataclass
class _Context:
    """What the whole file is checked against, read in a few statements."""

    existing_emails: set[str]
    organisations: dict[str, Organisation]
    seen_emails: set[str] = field(default_factory=set)
    taken_usernames: set[str] = field(default_factory=set)


# -- reading the file --------------------------------------------------------------------------


def decode(raw: bytes) -> str:
    """The text of an uploaded file: UTF-8 with or without BOM (Windows-1252 as a fallback)."""
    if len(raw) > MAX_BYTES:
        raise OperationError(_l("Le fichier est trop volumineux (200 Ko au plus)."))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def parse(data: str) -> list[Row]:
    """The rows of a CSV text; raises OperationError when it is too large, unreadable, without
    an ``email`` column or empty."""
    if len(data.encode()) > MAX_BYTES:
        raise OperationError(_l("Le fichier est trop volumineux (200 Ko au plus)."))
    data = data.lstrip("\ufeff")
    first = data.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(data), delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        columns = {
            key: next((i for i, h in enumerate(header) if h in names), None)
            for key, names in COLUMNS.items()
        }
        if columns["email"] is None:
            raise OperationError(_l("Le fichier CSV doit avoir une colonne « email »."))
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            rows.append(Row(reader.line_num, _cells(cells, columns)))
            if len(rows) > MAX_LINES:
                raise OperationError(
                    _l("Trop de lignes : %(n)d comptes au plus par import."), n=MAX_LINES
                )
    except (StopIteration, csv.Error) as exc:
        raise OperationError(_l("Le fichier CSV est illisible.")) from exc
    if not rows:
        raise OperationError(_l("Le fichier ne contient aucune ligne à importer."))
    return rows


def _cells(cells: list[str], columns: dict[str, int | None]) -> dict[str, str]:
    return {
        key: (cells[index].strip() if index is not None and index < len(cells) else "")
        for key, index in columns.items()
    }


# -- checking and creating ---------------------------------------------------------------------


def _siret(text: str) -> str | None:
    digits = re.sub(r"[\s.]", "", text)
    return digits if len(digits) == 14 and digits.isdigit() else None


def _context(rows: list[Row], emails: list[str]) -> _Context:
    existing = set(
        db.session.scalars(select(User.email).where(User.email.in_(emails))) if emails else ()
    )
    keys = {row.cells["organisation"] for row in rows if row.cells["organisation"]}
    sirets = {siret for siret in map(_siret, keys) if siret}
    names = {key.lower() for key in keys}
    organisations: dict[str, Organisation] = {}
    if keys:
        statement = select(Organisation).where(
            or_(Organisation.siret.in_(sirets), func.lower(Organisation.name).in_(names))
        )
        if hasattr(Organisation, "status"):  # organisations awaiting validation are not offered
            statement = statement.where(Organisation.status == "active")
        for organisation in db.session.scalars(statement):
            organisations[organisation.name.lower()] = organisation
            if organisation.siret:
                organisations[organisation.siret] = organisation
    return _Context(existing, organisations)


def _organisation(text: str, context: _Context) -> Organisation | None:
    if not text:
        return None
    return context.organisations.get(_siret(text) or text.lower())


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _username_taken(username: str, context: _Context) -> bool:
    from maillage.federation.actors.tombstones import username_retired

    if username in context.taken_usernames:
        return True
    return (
        db.session.scalar(select(User.id).where(func.lower(User.username) == username)) is not None
    ) or username_retired(username)  # a deleted account's: its id is never reused


def _derived_username(email: str, context: _Context) -> str:
    """A free username from the address's local part (``prenom.nom``, then ``prenom.nom2``…)."""
    local_part = _ascii(email.split("@", maxsplit=1)[0]).lower()
    base = re.sub(r"[^a-z0-9_.-]+", ".", local_part).strip("._-")[:56]
    if len(base) < 3:
        base = f"{base}.agent".strip(".")
    candidate, number = base, 1
    while (
        not USERNAME_RE.match(candidate)
        or candidate in RESERVED_USERNAMES
        or _username_taken(candidate, context)
    ):
        number += 1
        candidate = f"{base}{number}"
    return candidate


def _display_name(row: Row, email: str) -> str:
    name = " ".join(row.cells["name"].split())[:120]
    if name:
        return name
    words = re.split(r"[._-]+", email.split("@", maxsplit=1)[0])
    return " ".join(word.capitalize() for word in words if word)[:120] or email


class _Refused(Exception):
    def __init__(self, outcome: str, username: str = "") -> None:
        super().__init__(outcome)
        self.outcome, self.username = outcome, username


def _check(row: Row, context: _Context) -> ReportLine:
    """The outcome of one line, without writing anything (``WOULD_CREATE`` when valid)."""
    text = row.cells["email"]
    try:
        email = normalise_email(text)
    except OperationError:
        return ReportLine(row.number, text, INVALID_EMAIL)
    if email in context.seen_emails:
        return ReportLine(row.number, email, DUPLICATE)
    context.seen_emails.add(email)
    try:
        if email in context.existing_emails:
            raise _Refused(EXISTS)
        organisation = _organisation(row.cells["organisation"], context)
        if organisation is None:
            raise _Refused(UNKNOWN_ORGANISATION)
        role = ROLE_WORDS.get(row.cells["role"].lower(), "") if row.cells["role"] else None
        if role == "":
            raise _Refused(BAD_ROLE)
        username = _username(row, email, context)
    except _Refused as refused:
        return ReportLine(row.number, email, refused.outcome, refused.username)
    context.taken_usernames.add(username)
    return ReportLine(row.number, email, WOULD_CREATE, username, organisation.name, role or "")


def _username(row: Row, email: str, context: _Context) -> str:
    if not row.cells["username"]:
        return _derived_username(email, context)
    try:
        username = validate_username(row.cells["username"])
    except OperationError:
        raise _Refused(INVALID_USERNAME, row.cells["username"]) from None
    if _username_taken(username, context):
        raise _Refused(USERNAME_TAKEN, username)
    return username


def import_people(actor: User, data: str, dry_run: bool = True) -> list[ReportLine]:
    """Check every line of ``data`` and, unless ``dry_run``, create the valid ones (the caller
    commits once: all created accounts and their e-mails, or nothing)."""
    require_admin(actor)
    rows = parse(data)
    emails = []
    for row in rows:
        try:
            emails.append(normalise_email(row.cells["email"]))
        except OperationError:
            continue
    context = _context(rows, emails)
    report = [_check(row, context) for row in rows]
    if not dry_run:
        for line, row in zip(report, rows, strict=True):
            if line.outcome == WOULD_CREATE:
                _create(actor, line, row, context)
    return report


def _create(actor: User, line: ReportLine, row: Row, context: _Context) -> None:
    organisation = _organisation(row.cells["organisation"], context)
    user = create_user(
        line.username, _display_name(row, line.email), line.email, None, organisation, actor=actor
    )
    if line.role:
        setattr(user, f"is_{line.role}", True)
    record(actor, "people.import", user, role=line.role or None, line=line.number)
    mail_person(
        user,
        _l("Votre compte sur %(site)s", site=current_app.config["INSTANCE_NAME"]),
        "account_created",
        setup_url=absolute_url("auth.reset_password", token=account_setup_token(user)),
        login_url=absolute_url("auth.login"),
        days=ACCOUNT_SETUP_VALID_SECONDS // 86400,
    )
    line.outcome = CREATED
