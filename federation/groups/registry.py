"""The handler registry of incoming activities, and what every handler receives.

A handler is a small function ``handle(incoming: Incoming) -> None`` registered for one
activity type with :func:`handles` (``Undo`` dispatches again on the type of the activity it
undoes with :func:`undoes`).  It raises :class:`Rejected` to refuse the activity for good (bad
origin, not allowed, banned) or :class:`Ignored` when there is deliberately nothing to do;
anything else is a transient failure and the activity is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from maillage.federation.ids import domain_of

log = logging.getLogger(__name__)

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

#: activity type -> handler
HANDLERS: dict[str, Callable[[Incoming], None]] = {}
#: type of the undone activity -> handler of ``Undo{that}``
UNDO_HANDLERS: dict[str, Callable[[Incoming], None]] = {}


class Rejected(Exception):
    """The activity is refused for good; the reason is stored on the inbox row."""


class Ignored(Exception):
    """Nothing to do (unsupported type, unknown target); the row is done."""


class Unavailable(Exception):
    """The origin of something the activity needs could not be reached now (network error,
    408/429/5xx): the activity is retried later with backoff, not refused."""


def handles(*types: str):
    def register(func):
        for kind in types:
            HANDLERS[kind] = func
        return func

    return register


def undoes(*types: str):
    def register(func):
        for kind in types:
            UNDO_HANDLERS[kind] = func
        return func

    return register


@dataclass
class Incoming:
    """One activity being processed.

    ``announced_by`` is the RemoteActor of the remote Group whose signed ``Announce`` carried
    the activity (then ``activity`` is the inner one, trusted because the group signed it and
    it belongs to that group); ``budget`` limits the fetches this activity may cause.
    """

    activity: dict
    inbox_path: str = "/inbox"
    budget: object | None = None
    announced_by: object | None = None
    #: the activity this one was embedded in (the ``Undo`` of an undone activity)
    outer: dict | None = None
    _actor: object | None = field(default=None, repr=False)

    @property
    def type(self) -> str:
        return str(self.activity.get("type") or "")

    @property
    def actor_id(self) -> str:
        return id_of(self.activity.get("actor"))

    @property
    def actor_domain(self) -> str:
        return domain_of(self.actor_id)

    @property
    def inbox_owner_id(self) -> str:
        """The id of the local actor whose own inbox received it ("" for the shared inbox)."""
        if self.inbox_path == "/inbox" or not self.inbox_path.endswith("/inbox"):
            return ""
        from maillage.federation.ids import base_url

        return base_url() + self.inbox_path.removesuffix("/inbox")

    def actor(self):
        """The RemoteActor of the activity's actor (fetched if unknown)."""
        if self._actor is None:
            from maillage.federation.actors.documents import ActorError
            from maillage.federation.actors.operations import resolve_actor

            try:
                self._actor = resolve_actor(self.actor_id, budget=self.budget)
            except ActorError as exc:
                if getattr(exc.__cause__, "transient", False):
                    raise Unavailable(f"actor not reachable: {exc.reason}") from exc
                raise Rejected(f"actor not resolved: {exc.reason}") from exc
        return self._actor

    def user(self):
        """The shadow User of the (Person) actor."""
        from maillage.federation.actors.operations import shadow_user

        actor = self.actor()
        if actor.is_group:
            raise Rejected("a group cannot author content")
        return shadow_user(actor)

    def inner(self, activity: dict) -> Incoming:
        """The same context for an embedded activity (``Undo``, ``Announce``)."""
        return Incoming(activity, self.inbox_path, self.budget, self.announced_by, self.activity)


def id_of(value) -> str:
    """The id of a reference: a string, or an object with an ``id`` (else "")."""
    if isinstance(value, dict):
        value = value.get("id") or value.get("href")
    return value if isinstance(value, str) else ""


def ids_in(value) -> list[str]:
    """The ids of an addressing field (string, object or list of either)."""
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [found for found in (id_of(item) for item in values) if found]


def same_origin(first: str, second: str) -> bool:
    return bool(first) and domain_of(first) == domain_of(second) != ""


def dispatch(incoming: Incoming) -> None:
    handler = HANDLERS.get(incoming.type)
    if handler is None:
        raise Ignored(f"type {incoming.type!r} not handled")
    handler(incoming)


@handles("Undo")
def _undo(incoming: Incoming) -> None:
    from maillage.federation.groups.fetching import embedded_or_fetched

    inner = embedded_or_fetched(incoming, incoming.activity.get("object"))
    if id_of(inner.get("actor")) != incoming.actor_id:
        raise Rejected("an actor can only undo its own activities")
    handler = UNDO_HANDLERS.get(str(inner.get("type") or ""))
    if handler is None:
        raise Ignored(f"Undo of {inner.get('type')!r} not handled")
    handler(incoming.inner(inner))
