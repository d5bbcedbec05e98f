"""The periodic directory sync: every known identity of a directory provider looked up again.

For each provider with group mappings and a ``directory_reader()`` (LDAP), the sync reads what
the directory says now about every identity of that provider (one service-bound connection,
group searches paged), then applies it with :func:`operations.apply_directory`, committing every
``BATCH`` people.  Reading comes first and entirely: when the directory fails half-way, nothing
is applied; when it finds none of the known identities (a wrong ``user_base`` or filter, more
likely than everybody leaving at once), nothing is applied either and the error is recorded.

A person the directory no longer finds (deleted, disabled and filtered out) loses what groups
gave them — grants, the memberships the directory created, managed platform roles — and
nothing else: the account stays active, with its content and hand-made memberships.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

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
    for start in range(0, len(rows), BATCH):
        _apply_batch(provider, rows[start : start + BATCH], found)
        db.session.commit()
    record_success(provider.name)
    db.session.commit()
    logger.info(
        "directory %s: %d identities, %d found", report.provider, report.identities, report.found
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


def _apply_batch(provider, rows, found: dict) -> None:
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({user_id for user_id, _identifier in rows}))
        )
    }
    for user_id, identifier in rows:
        apply_directory(
            users[user_id], provider.name, provider.directory_mappings, found[identifier]
        )
