"""Bulk invitations: a pasted list or a CSV file of addresses, invited one by one through the
one ``invite`` operation, with a report line per input line.

Input: one address per line, or a CSV whose header has an ``email`` column (and optionally a
``role`` column: member, guest, moderator, facilitator — French labels accepted).  Every line is
checked before anything is sent; bad lines are reported, good ones invited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from maillage.communities.community import operations
from maillage.communities.community.models import Community, Invitation, Membership, Role
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db

MAX_LINES = 500
MAX_BYTES = 200_000
INVITABLE_ROLES = (Role.MEMBER, Role.GUEST, Role.MODERATOR, Role.FACILITATOR)
ROLE_WORDS = {
    "member": Role.MEMBER,
    "membre": Role.MEMBER,
    "guest": Role.GUEST,
    "invité": Role.GUEST,
    "invite": Role.GUEST,
    "invitée": Role.GUEST,
    "moderator": Role.MODERATOR,
    "modérateur": Role.MODERATOR,
    "moderateur": Role.MODERATOR,
    "modératrice": Role.MODERATOR,
    "facilitator": Role.FACILITATOR,
    "animateur": Role.FACILITATOR,
    "animatrice": Role.FACILITATOR,
}

# Outcomes of a line, in the report.
INVITED = "invited"
ALREADY_MEMBER = "already_member"
ALREADY_INVITED = "already_invited"
INVALID = "invalid"
DUPLICATE = "duplicate"
BAD_ROLE = "bad_role"

OUTCOME_LABELS = {
    INVITED: _l("Invitation envoyée"),
    ALREADY_MEMBER: _l("Déjà membre"),
    ALREADY_INVITED: _l("Déjà invitée (invitation en attente)"),
    INVALID: _l("Adresse invalide"),
    DUPLICATE: _l("Ligne en double"),
    BAD_ROLE: _l("Rôle inconnu"),
}


@dataclass
class ReportLine:
    number: int  # line number in the input (1-based; the CSV header counts)
    text: str  # the address as given
    outcome: str
    role: str = ""

    @property
    def label(self):
        return OUTCOME_LABELS[self.outcome]


@dataclass(frozen=True)
class Entry:
    number: int
    text: str
    role: str | None  # None: the default role; "" when the CSV's role cell is unknown


def parse(data: str) -> list[Entry]:
    """The lines of a pasted list or CSV text; raises OperationError when it is too large or
    has no usable column."""
    if len(data.encode()) > MAX_BYTES:
        raise OperationError(_l("Le fichier est trop volumineux (200 Ko au plus)."))
    lines = [line for line in data.splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    first = lines[0] if lines else ""
    if "," in first or ";" in first or first.strip().lower() in {"email", "e-mail", "courriel"}:
        entries = _parse_csv(data)
    else:
        entries = [
            Entry(number, line.strip(), None)
            for number, line in enumerate(lines, start=1)
            if line.strip()
        ]
    if not entries:
        raise OperationError(_l("Aucune adresse à inviter."))
    if len(entries) > MAX_LINES:
        raise OperationError(_l("Trop de lignes : %(n)d adresses au plus par envoi."), n=MAX_LINES)
    return entries


def _parse_csv(data: str) -> list[Entry]:
    sample = data[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(data), delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise OperationError(_l("Le fichier CSV est illisible.")) from exc
    email_col = next(
        (i for i, h in enumerate(header) if h in {"email", "e-mail", "courriel"}), None
    )
    if email_col is None:
        raise OperationError(_l("Le fichier CSV doit avoir une colonne « email »."))
    role_col = next((i for i, h in enumerate(header) if h in {"role", "rôle"}), None)
    entries = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            text = row[email_col].strip() if email_col < len(row) else ""
            role = None
            if role_col is not None and role_col < len(row) and row[role_col].strip():
                role = ROLE_WORDS.get(row[role_col].strip().lower(), "")
            entries.append(Entry(reader.line_num, text, role))
            if len(entries) > MAX_LINES:
                break
    except csv.Error as exc:
        raise OperationError(_l("Le fichier CSV est illisible.")) from exc
    return entries


def pending_invited_emails(community: Community) -> set[str]:
    return set(
        db.session.scalars(
            select(Invitation.email).where(
                Invitation.community_id == community.id,
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
        )
    )


def _member_emails(community: Community, emails: list[str]) -> set[str]:
    if not emails:
        return set()
    return set(
        db.session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == community.id, User.email.in_(emails))
        )
    )


def bulk_invite(
    community: Community, actor: User, data: str, default_role: str = Role.MEMBER
) -> list[ReportLine]:
    """Invite every valid, new address of ``data``; returns one report line per input line."""
    from maillage.communities.users.operations import normalise_email

    if not can(actor, "invite", community):
        raise NotAllowed(_l("Vous n'avez pas le droit de faire cela."))
    if default_role not in INVITABLE_ROLES:
        raise OperationError(_l("Rôle d'invitation invalide."))
    entries = parse(data)
    normalised: dict[int, str | None] = {}
    for entry in entries:
        try:
            normalised[entry.number] = normalise_email(entry.text)
        except OperationError:
            normalised[entry.number] = None
    valid = [email for email in normalised.values() if email]
    members = _member_emails(community, valid)
    invited = pending_invited_emails(community)
    seen: set[str] = set()
    report = []
    for entry in entries:
        report.append(
            _invite_entry(
                community,
                actor,
                entry,
                normalised[entry.number],
                default_role,
                seen,
                members,
                invited,
            )
        )
    return report


def _invite_entry(community, actor, entry, email, default_role, seen, members, invited):
    role = default_role if entry.role is None else entry.role
    if email is None:
        return ReportLine(entry.number, entry.text, INVALID)
    if email in seen:
        return ReportLine(entry.number, email, DUPLICATE)
    seen.add(email)
    if not role:
        return ReportLine(entry.number, email, BAD_ROLE)
    if email in members:
        return ReportLine(entry.number, email, ALREADY_MEMBER)
    if email in invited:
        return ReportLine(entry.number, email, ALREADY_INVITED)
    operations.invite(community, actor, email, role)
    return ReportLine(entry.number, email, INVITED, role)
