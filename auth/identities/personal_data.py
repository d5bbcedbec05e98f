"""Identities (the ways a person signs in) and pending links to the account: exported, and
deleted with the account."""

from __future__ import annotations

from sqlalchemy import select

from maillage.auth.identities.models import Identity, LinkProof
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _export(user) -> list[dict]:
    statement = select(
        Identity.id,
        Identity.provider,
        Identity.identifier,
        Identity.email,
        Identity.data,
        Identity.created_at,
        Identity.last_login_at,
    ).where(Identity.user_id == user.id)
    return export_rows(statement, Identity.id)


def _erase(user, _erasure) -> None:
    delete_rows(Identity, Identity.user_id == user.id)


holds_personal_data(Identity, section="identities", export=_export, erase=_erase)


def _export_proofs(user) -> list[dict]:
    """Pending links to the account: which provider asked, and when (not what the provider said
    about the person asking, who may not be the account's holder)."""
    statement = select(
        LinkProof.id,
        LinkProof.provider,
        LinkProof.codes_sent,
        LinkProof.created_at,
        LinkProof.expires_at,
    ).where(LinkProof.user_id == user.id)
    return export_rows(statement, LinkProof.id)


def _erase_proofs(user, _erasure) -> None:
    delete_rows(LinkProof, LinkProof.user_id == user.id)


holds_personal_data(
    LinkProof, section="identity_link_proofs", export=_export_proofs, erase=_erase_proofs
)
