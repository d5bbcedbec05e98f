"""The periodic directory sync: every known identity of a directory provider looked up again.

For each provider with group mappings and a ``directory_reader()`` (LDAP), the sync reads what
the directory says now about every identity of that provider (one service-bound connection,
group searches paged), then applies it with :func:`operations.apply_directory`, committing every
``BATCH`` people.  Reading comes first and entirely: when the directory fails half-way, nothing
is applied; when it finds none of the known identities (a wrong ``user_base`` or filter, more
likely than everybody leaving at once), nothing is applied either and the error is recorded.

A person the directory no longer finds (deleted, disabled and filtered out) loses what groups
gave them — grants, the memberships the directory created, managed platform roles — and, with
``DIRECTORY_DEPROVISION = "suspend"`` (the default), the account is suspended and its sessions
end (:mod:`.deprovision`); their content and hand-made memberships stay.  A person found again
gets back an account the sync suspended, never one an administrator suspended.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from maillage.auth.directory import deprovision
from maillage.auth.directory.errors import DirectoryError
from maillage.auth.directory.operations import apply_directory
from maillage.auth.identities.models import Identity
from maillage.auth.providers.operations import record_error, record_success
from maillage.auth.providers.registry import providers
from maillage.communities.users.models import User
from maillage.platform.extensions import db

logger = logging.getLogger(__name__)

BATCH = 200


@dataclass
class SyncReport:
    provider: str
    identities: int = 0
    found: int = 0
    suspended: int = 0
    reactivated: int = 0
    error: str | None = None


def directory_providers() -> list:
    return [
        provider
        for provider in providers().values()
        if getattr(provider, "directory_mappings", None) is not None
        and hasattr(provider, "directory_reader")
    ]


def sync_all() -> list[SyncReport]:
    return [sync_provider(provider) for provider in directory_providers()]


def sync_provider(provider) -> SyncReport:
    report = SyncReport(provider.name)
    rows = db.session.execute(
        select(Identity.user_id, Identity.identifier)
        .where(Identity.provider == provider.name)
        .order_by(Identity.id)
    ).all()
    report.identities = len(rows)
    db.session.commit()  # no transaction left open while the directory is read
    if not rows:
        return report
    try:
        found = _read(provider, [identifier for _user_id, identifier in rows])
    except DirectoryError as exc:
        return _failed(report, f"directory sync: {exc}")
    report.found = sum(info is not None for info in found.values())
    if not report.found:
        return _failed(report, "directory sync: no known person found (check user_base/filter)")
    suspending = deprovision.deprovision_mode() == deprovision.SUSPEND
    # People found under one of their identities here, whichever batch holds the others.
    present = {user_id for user_id, identifier in rows if found[identifier] is not None}
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        _apply_batch(provider, batch, found, report, present if suspending else None)
        db.session.commit()
    record_success(provider.name)
    db.session.commit()
    logger.info(
        "directory %s: %d identities, %d found, %d suspended, %d reactivated",
        report.provider,
        report.identities,
        report.found,
        report.suspended,
        report.reactivated,
    )
    return report


def _read(provider, identifiers: list[str]) -> dict:
    with provider.directory_reader() as reader:
        return {identifier: reader.info_for(identifier) for identifier in identifiers}


def _failed(report: SyncReport, message: str) -> SyncReport:
    logger.warning("%s: %s", report.provider, message)
    record_error(report.provider, message)
    report.error = message
    return report


def _apply_batch(provider, rows, found: dict, report: SyncReport, present: set | None) -> None:
    """Apply what the directory said about ``rows``; suspend whom it no longer finds when
    ``present`` (the people it found) is given."""
    user_ids = {user_id for user_id, _identifier in rows}
    query = select(User).where(User.id.in_(user_ids))
    users = {user.id: user for user in db.session.scalars(query)}
    held: dict[int, list[Identity]] = {}
    for identity in db.session.scalars(
        select(Identity).where(Identity.provider == provider.name, Identity.user_id.in_(user_ids))
    ):
        held.setdefault(identity.user_id, []).append(identity)
    identities = {identity.identifier: identity for group in held.values() for identity in group}
    for user_id, identifier in rows:
        user, info = users[user_id], found[identifier]
        apply_directory(user, provider.name, provider.directory_mappings, info)
        if info is not None:
            report.reactivated += deprovision.lift_directory_suspension(
                user, identities[identifier]
            )
    if present is None:
        return
    missing = [user_id for user_id, identifier in rows if found[identifier] is None]
    for user_id in dict.fromkeys(missing):  # one person may hold two identities here
        if user_id not in present:
            report.suspended += deprovision.deprovision(
                users[user_id], provider.name, held[user_id]
            )
