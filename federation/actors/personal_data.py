"""Actors: a local person's key pair (``actor_keys``), and the cached actor document of a remote
person (``remote_actors``, whose ``user_id`` is the local shadow row).

A local person's key is not exported (the private key is the instance's secret, the public one
is published) and is NOT erased with the other rows: the Delete of the person that the deletion
sends to other instances must be signed with it, and those instances verify it with the key they
cached under its old id.  ``maillage.platform.account_deletion`` purges it once no delivery
signed by it is pending (:func:`purge_key`).
"""

from __future__ import annotations

from sqlalchemy import select

from maillage.federation.actors.models import ActorKey, RemoteActor
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _export_key(user) -> list[dict]:
    statement = select(ActorKey.id, ActorKey.key_id, ActorKey.created_at).where(
        ActorKey.user_id == user.id
    )
    return export_rows(statement, ActorKey.id)


def _keep_key_for_the_delete(_user, _erasure) -> None:
    """Kept until the Delete{Person} is delivered (see the module docstring)."""


def purge_key(user) -> None:
    delete_rows(ActorKey, ActorKey.user_id == user.id)


def _export_remote(user) -> list[dict]:
    statement = select(
        RemoteActor.id,
        RemoteActor.ap_id,
        RemoteActor.preferred_username,
        RemoteActor.name,
        RemoteActor.summary,
        RemoteActor.url,
        RemoteActor.fetched_at,
    ).where(RemoteActor.user_id == user.id)
    return export_rows(statement, RemoteActor.id)


def _erase_remote(user, _erasure) -> None:
    # Only a remote person's shadow has one; local accounts (the ones deleted here) never do,
    # but a row left linked would keep a name: drop the cached document.
    delete_rows(RemoteActor, RemoteActor.user_id == user.id)


holds_personal_data(
    ActorKey, section="actor_keys", export=_export_key, erase=_keep_key_for_the_delete
)
holds_personal_data(RemoteActor, section="remote_actor", export=_export_remote, erase=_erase_remote)
