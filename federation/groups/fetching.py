"""Objects an activity names by id: fetched from their origin, within the activity's budget."""

from __future__ import annotations

from maillage.federation.groups.registry import (
    Incoming,
    Rejected,
    Unavailable,
    id_of,
    same_origin,
)
from maillage.federation.ids import is_local_id


def fetch(incoming: Incoming, url: str) -> dict:
    """GET ``url`` (signed by our instance actor); the document's id must be on the host of the
    URL that answered (``final_url``: redirects never leave the host, this checks it again)."""
    from maillage.federation.actors.operations import instance_actor_key
    from maillage.federation.transport.fetch import FetchError, fetch_object_with_url

    if not url or is_local_id(url):
        raise Rejected(f"cannot fetch {url!r}")
    key = instance_actor_key(commit=True)
    try:
        document, final_url = fetch_object_with_url(
            url, signer=(key.key_id, key.private_key_pem), budget=incoming.budget
        )
    except FetchError as exc:
        if exc.transient:  # the origin is down or overloaded: try again later
            raise Unavailable(f"fetch of {url} failed: {exc}") from exc
        raise Rejected(f"fetch of {url} failed: {exc}") from exc
    if not isinstance(document, dict) or not same_origin(id_of(document), final_url):
        raise Rejected(f"{url} answered a document of another origin")
    return document


def embedded_or_fetched(incoming: Incoming, value) -> dict:
    """The embedded object, or the one fetched from its origin when only its id is given."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return fetch(incoming, value)
    raise Rejected("no object")
