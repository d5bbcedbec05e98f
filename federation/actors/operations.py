"""Writes on actors: key pairs, remote actors and their shadow rows.

Keys are generated on creation (``FEDERATION_GENERATE_KEYS_ON_CREATE``, default True) or lazily on
first use.  A key used to sign must be stored before the signature leaves: a signature made with
a key that is then rolled back could never be verified, so the functions that sign
(``signing_key``) commit a key they had to create.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maillage.communities.community.models import Community, JoinPolicy, Visibility
from maillage.communities.users.models import User
from maillage.federation.actors import queries
from maillage.federation.actors.documents import ActorError, parse_actor, plain_text, shadow_name
from maillage.federation.actors.keys import generate_pem_pair
from maillage.federation.actors.models import ActorKey, RemoteActor
from maillage.federation.ids import domain_of, hostname_of, instance_actor_id, is_local_id
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

log = logging.getLogger(__name__)

__all__ = [
    "ActorError",
    "UnknownHandle",
    "ensure_key",
    "instance_actor_key",
    "public_key_for",
    "remote_actor_for",
    "resolve_actor",
    "resolve_handle",
    "shadow_community",
    "shadow_user",
    "signing_key",
]

# -- keys --------------------------------------------------------------------------------------


def ensure_key(obj, *, commit: bool = False) -> ActorKey:
    """The key pair of a local User or Community, generated (RSA-2048) if it has none yet.

    The new row joins the current transaction; ``commit=True`` commits it at once (use it when
    the key is about to sign something).  Two requests creating the same key at the same moment
    end with one key: the loser re-reads the winner's row.
    """
    if not isinstance(obj, (User, Community)) or not obj.local:
        raise ValueError(f"only local users and communities have keys, not {obj!r}")
    existing = queries.key_of(obj)
    if existing is not None:
        return existing
    public_pem, private_pem = generate_pem_pair()
    key = ActorKey(
        user_id=obj.id if isinstance(obj, User) else None,
        community_id=obj.id if isinstance(obj, Community) else None,
        key_id=f"{obj.ap_id}#main-key",
        public_key_pem=public_pem,
        private_key_pem=private_pem,
    )
    return _store_key(key, lambda: queries.key_of(obj), commit)


def instance_actor_key(*, commit: bool = True) -> ActorKey:
    """The instance actor's key pair (``<BASE_URL>/actor``), made on first use and committed."""
    existing = queries.instance_key()
    if existing is not None:
        return existing
    public_pem, private_pem = generate_pem_pair()
    key = ActorKey(
        is_instance=True,
        key_id=f"{instance_actor_id()}#main-key",
        public_key_pem=public_pem,
        private_key_pem=private_pem,
    )
    return _store_key(key, queries.instance_key, commit)


def _store_key(key: ActorKey, reread, commit: bool) -> ActorKey:
    try:
        with db.session.begin_nested():
            db.session.add(key)
    except IntegrityError:
        winner = reread()
        if winner is None:
            raise
        return winner
    if commit:
        db.session.commit()
    return key


def signing_key(ap_id: str) -> tuple[str, str]:
    """``(key_id, private_pem)`` to sign as the local actor ``ap_id`` (user, community or the
    instance actor).  Raises LookupError for anything else (remote or unknown ids)."""
    actor = queries.local_actor(ap_id)
    if actor is None:
        return _deleted_person_key(ap_id)
    if actor == queries.INSTANCE:
        key = instance_actor_key(commit=True)
    else:
        key = ensure_key(actor, commit=True)
    return key.key_id, key.private_key_pem


def _deleted_person_key(ap_id: str) -> tuple[str, str]:
    """The key a deleted person's Delete{Person} is signed with.

    Account deletion anonymises the users row (its ``ap_id`` becomes a tombstone) but keeps the
    key pair, named after the old id, until the Delete has reached every instance: the old id no
    longer resolves to a local actor, yet remote servers verify the Delete with that key.
    """
    key = queries.key_by_key_id(f"{ap_id}#main-key")
    if key is None or key.user_id is None:
        raise LookupError(f"no local actor {ap_id!r}")
    owner = db.session.get(User, key.user_id)
    if owner is None or owner.deleted_at is None:
        raise LookupError(f"no local actor {ap_id!r}")
    return key.key_id, key.private_key_pem


def public_key_for(key_id: str, refresh: bool = False) -> str | None:
    """The PEM public key named ``key_id``: ours, a known remote actor's, or fetched.

    ``refresh=True`` (after a failed verification: the remote key may have rotated) fetches the
    actor document again.  Returns None when the key cannot be found or trusted.
    """
    if not isinstance(key_id, str) or not domain_of(key_id):
        return None
    if is_local_id(key_id):
        key = queries.key_by_key_id(key_id)
        return key.public_key_pem if key is not None else None
    known = queries.remote_actor_by_key_id(key_id)
    if known is not None and not refresh:
        return known.public_key_pem
    actor_url = known.ap_id if known is not None else key_id.split("#", 1)[0]
    try:
        actor = resolve_actor(actor_url, refresh=True)
    except ActorError as exc:
        log.info("key %s: actor %s not resolved (%s)", key_id, actor_url, exc.reason)
        return None
    return actor.public_key_pem if actor.public_key_id == key_id else None


# -- shadows -----------------------------------------------------------------------------------


def remote_actor_for(obj) -> RemoteActor | None:
    """The RemoteActor behind a shadow User or Community (None for local rows)."""
    return queries.remote_actor_for(obj)


def _free_name(model, column, remote_actor: RemoteActor) -> str:
    """``name@domain`` unless another row already has it (then with a digest of the id)."""
    args = (remote_actor.preferred_username, remote_actor.domain, remote_actor.ap_id)
    wanted = shadow_name(*args)
    taken = db.session.scalar(select(model).where(column == wanted))
    if taken is None or taken.ap_id == remote_actor.ap_id:
        return wanted
    return shadow_name(*args, digest=True)


def shadow_user(remote_actor: RemoteActor) -> User:
    """The local ``User`` (``local=False``) standing for a remote Person/Service/Application,
    created or brought up to date from the stored document; the caller commits."""
    user = remote_actor.user or db.session.scalar(
        select(User).where(User.ap_id == remote_actor.ap_id)
    )
    if user is not None and user.local:
        raise ActorError("a local account has this id")
    if user is None:
        user = User(
            username=_free_name(User, User.username, remote_actor),
            ap_id=remote_actor.ap_id,
            local=False,
            email=None,
            password_hash=None,
        )
        db.session.add(user)
    user.display_name = (remote_actor.name or remote_actor.preferred_username)[:120]
    user.bio = plain_text(remote_actor.summary)[:2000]
    db.session.flush()
    remote_actor.user = user
    return user


#: The extension property another Maillage serves in its Group documents (``serialize.group``),
#: as a compact IRI and expanded.
VISIBILITY_KEYS = ("maillage:visibility", "https://maillage.fr/ns#visibility")


def remote_visibility(document: dict | None) -> Visibility:
    """The visibility a remote Group declares: public when it says nothing (Lemmy, PieFed,
    Mastodon…); private for any other value than "public" (fail closed: a community we cannot
    tell to be public is never shown nor addressed as public)."""
    document = document if isinstance(document, dict) else {}
    for key in VISIBILITY_KEYS:
        if key in document:
            value = document[key]
            return Visibility.PUBLIC if value == "public" else Visibility.PRIVATE
    return Visibility.PUBLIC


def shadow_community(remote_actor: RemoteActor) -> Community:
    """The local ``Community`` (``local=False``) standing for a remote Group; the caller
    commits.  Its visibility is the one the Group declares (``remote_visibility``): a private
    community of another Maillage stays members-only here; one approving followers asks to
    join."""
    community = remote_actor.community or db.session.scalar(
        select(Community).where(Community.ap_id == remote_actor.ap_id)
    )
    if community is not None and community.local:
        raise ActorError("a local community has this id")
    if community is None:
        community = Community(
            slug=_free_name(Community, Community.slug, remote_actor),
            ap_id=remote_actor.ap_id,
            local=False,
        )
        db.session.add(community)
    community.visibility = remote_visibility(remote_actor.raw)
    community.name = (remote_actor.name or remote_actor.preferred_username)[:120]
    community.description = plain_text(remote_actor.summary)
    manual = bool((remote_actor.raw or {}).get("manuallyApprovesFollowers"))
    community.join_policy = JoinPolicy.REQUEST if manual else JoinPolicy.OPEN
    db.session.flush()
    remote_actor.community = community
    return community


def _shadow(remote_actor: RemoteActor):
    if remote_actor.is_group:
        return shadow_community(remote_actor)
    return shadow_user(remote_actor)


# -- resolution --------------------------------------------------------------------------------


def _max_age() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config.get("FEDERATION_ACTOR_MAX_AGE", 86400))


def _check_domain_allowed(domain: str) -> None:
    try:
        from maillage.federation.transport.policy import domain_allowed
    except ImportError:  # transport not installed yet: nothing to check against
        return
    if not domain_allowed(domain):
        raise ActorError("instance not allowed")


def _instance_signer() -> tuple[str, str]:
    key = instance_actor_key(commit=True)
    return key.key_id, key.private_key_pem


def fetch_actor_document(url: str, *, budget=None) -> dict:
    """GET an actor document with a request signed by the instance actor."""
    return fetch_actor_document_with_url(url, budget=budget)[0]


def fetch_actor_document_with_url(url: str, *, budget=None) -> tuple[dict, str]:
    """``(document, final_url)``: the actor document and the URL that answered it (redirects
    stay on the host; the document's id is checked against ``final_url``)."""
    from maillage.federation.transport.fetch import FetchError, fetch_object_with_url

    try:
        return fetch_object_with_url(url, signer=_instance_signer(), budget=budget)
    except FetchError as exc:
        raise ActorError(f"fetch failed: {exc}") from exc


def resolve_actor(ap_id: str, *, refresh: bool = False, budget=None, now=None) -> RemoteActor:
    """The RemoteActor of ``ap_id``, fetched when unknown, stale or ``refresh``; its shadow
    row is created or updated.  The caller commits.  A stale actor whose fetch fails is
    returned as it was (a peer down for a while does not make its people unknown)."""
    if not isinstance(ap_id, str) or not domain_of(ap_id):
        raise ActorError("not an http(s) id")
    if is_local_id(ap_id):
        raise ActorError("a local id is not a remote actor")
    now = now or utcnow()
    known = queries.remote_actor_by_ap_id(ap_id)
    if known is not None and not refresh and now - known.fetched_at < _max_age():
        return known
    _check_domain_allowed(hostname_of(ap_id))
    try:
        doc, fields = _fetch_and_parse(ap_id, budget)
    except ActorError:
        if known is not None and not refresh:
            return known
        raise
    return _store_actor(fields, doc, now)


def _fetch_and_parse(url: str, budget) -> tuple[dict, dict]:
    """The document at ``url``; when it names another id on the same host (an alias, or the
    key stub some servers serve at a key id), the document at that canonical id instead.

    The id is compared with the URL that answered (after redirects), never with ``url``."""
    doc, final = fetch_actor_document_with_url(url, budget=budget)
    canonical = doc.get("id") if isinstance(doc, dict) else None
    if (
        isinstance(canonical, str)
        and canonical not in (url, final)
        and domain_of(canonical) == domain_of(final)
    ):
        doc, final = fetch_actor_document_with_url(canonical, budget=budget)
    return doc, parse_actor(doc, final)


def _store_actor(fields: dict, doc: dict, now) -> RemoteActor:
    """Insert or update the RemoteActor and its shadow row, safe against a concurrent writer.

    Two deliveries from a new actor arriving together both find no row and both insert it (and
    its shadow User or Community).  The writes run in a savepoint: the loser's unique violation
    rolls back only the savepoint, and the second attempt reads the winner's rows (committed:
    PostgreSQL made the loser wait for them, SQLite's write lock too) and updates them.
    """
    if is_local_id(fields["ap_id"]):
        raise ActorError("a local id is not a remote actor")
    for attempt in (1, 2):
        # Read before the savepoint: on SQLite a transaction that reads first and writes after
        # another connection committed fails with "database is locked" instead of re-reading.
        known = queries.remote_actor_by_ap_id(fields["ap_id"])
        if known is not None and known.is_group != (fields["type"] == "Group"):
            raise ActorError("actor changed between person and group")
        try:
            with db.session.begin_nested():
                actor = _write_actor(known, fields, doc, now)
                _shadow(actor)
            return actor
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("actor %s stored meanwhile by another worker: updating it", fields["ap_id"])
    raise AssertionError("unreachable")  # pragma: no cover


def _write_actor(actor: RemoteActor | None, fields: dict, doc: dict, now) -> RemoteActor:
    if actor is None:
        actor = RemoteActor(ap_id=fields["ap_id"])
        db.session.add(actor)
    for name, value in fields.items():
        setattr(actor, name, value)
    actor.raw = {k: v for k, v in doc.items() if k != "publicKey"} if isinstance(doc, dict) else {}
    actor.fetched_at = now
    db.session.flush()
    return actor


HANDLE_RE = re.compile(r"^[!@]?(?P<name>[^@\s/]+)@(?P<host>[a-z0-9.\-]+(?::\d+)?)$", re.IGNORECASE)


def parse_handle(handle: str) -> tuple[str, str, str | None]:
    """``(name, host, preferred_type)`` of ``name@host``, ``@name@host`` (a person, as
    Mastodon writes it), ``!name@host`` (a group, as Lemmy writes it) or ``acct:name@host``."""
    handle = (handle or "").strip()
    handle = handle.removeprefix("acct:")
    match = HANDLE_RE.match(handle)
    if match is None:
        raise ActorError("not a handle", message=_bad_handle_message())
    preferred = {"!": "Group", "@": "Person"}.get(handle[0])
    return match["name"], match["host"].lower(), preferred


def _bad_handle_message():
    return _l("Indiquez une adresse de la forme nom@instance.exemple ou une URL.")


def resolve_handle(handle: str, *, budget=None) -> RemoteActor:
    """The RemoteActor of a handle (WebFinger, then the actor document) or of an actor URL."""
    text = (handle or "").strip()
    if text.startswith(("https://", "http://")):
        return resolve_actor(text, budget=budget)
    name, host, preferred = parse_handle(text)
    return resolve_actor(webfinger_actor_url(name, host, preferred, budget=budget), budget=budget)


class UnknownHandle(ActorError):
    """The instance answered WebFinger but knows no such account: 400, 404 or 410, an empty or
    unreadable 200, or no ActivityPub ``self`` link.  An unreachable host, a 5xx or a refusal
    stays a plain :class:`ActorError`: "unknown account" and "instance unreachable" are told
    apart for the person who typed the handle."""

    def __init__(self, reason: str, host: str) -> None:
        message = _l("Identifiant inconnu sur l'instance %(host)s.", host=host)
        super().__init__(reason, message=message)
        self.host = host


#: WebFinger statuses that mean "no such account here" (Mastodon and Lemmy answer 404).
NO_SUCH_ACCOUNT = frozenset({400, 404, 410})


def _webfinger_scheme(host: str) -> str:
    """https; plain http only in the test mode ``FEDERATION_ALLOW_LOOPBACK``, for a host whose
    every address is loopback (``127.0.0.2``, ``localhost``, a name of /etc/hosts…).  That mode
    is refused in production (configuration), so there a handle always means https."""
    if not current_app.config.get("FEDERATION_ALLOW_LOOPBACK", False):
        return "https"
    from maillage.federation.transport.fetch import resolves_to_loopback

    hostname = urlsplit(f"//{host}").hostname or ""
    return "http" if resolves_to_loopback(hostname) else "https"


def webfinger_actor_url(name: str, host: str, preferred: str | None = None, *, budget=None):
    """The ActivityPub id a WebFinger answer gives for ``acct:name@host``.

    Raises :class:`UnknownHandle` when the host answered without such an account, and
    :class:`ActorError` when it could not be asked (unreachable, erring, refused)."""
    from urllib.parse import quote

    from maillage.federation.transport.fetch import FetchError, fetch_object

    url = (
        f"{_webfinger_scheme(host)}://{host}/.well-known/webfinger"
        f"?resource={quote(f'acct:{name}@{host}', safe='@:')}"
    )
    try:
        answer = fetch_object(url, budget=budget)
    except FetchError as exc:
        if exc.answered and (exc.status is None or exc.status in NO_SUCH_ACCOUNT):
            raise UnknownHandle(f"webfinger: {exc}", host) from exc
        raise ActorError(f"webfinger failed: {exc}") from exc
    links = answer.get("links")
    candidates = [
        link
        for link in (links if isinstance(links, list) else [])
        if isinstance(link, dict)
        and link.get("rel") == "self"
        and _is_activity_json(link.get("type"))
        and isinstance(link.get("href"), str)
    ]
    if not candidates:
        raise UnknownHandle("webfinger without an ActivityPub link", host)
    for link in candidates:
        kind = (link.get("properties") or {}).get("https://www.w3.org/ns/activitystreams#type")
        if preferred and kind == preferred:
            return link["href"]
    return candidates[0]["href"]


def _is_activity_json(media_type) -> bool:
    return isinstance(media_type, str) and (
        media_type.startswith("application/activity+json")
        or (
            media_type.startswith("application/ld+json")
            and "https://www.w3.org/ns/activitystreams" in media_type
        )
    )
