"""The one permission policy: ``can(user, action, obj) -> bool``.

Views, the JSON API, search filtering, notifications, exports and federation all ask this module;
no check is written inline anywhere else.  ``user`` may be ``None`` or Flask-Login's anonymous
user.  Rules are registered per object type with :func:`rule`; an unknown (type, action) pair is
refused, so forgetting a rule fails closed.

Visibility: ``public`` (anyone reads), ``private`` (listed, content for members), ``secret``
(exists only for its members: every other viewer gets a 404).

Platform administrators are not members.  They keep every platform power (admin pages,
organisations and people, federation policy, training, ambassadors) and every right in public
communities, but the content of a secret or private community (posts, comments, each module's
items, the member list beyond its owners, documents, search hits, API, ICS, feeds, notifications)
is theirs to read only while they hold an active access grant (``communities/oversight``): a
reasoned, time-limited access written to the audit log and shown to the community's owners.
Without one, an administrator is treated like anyone else there (like the member they are, if
they are one) and sees of a secret community only that it exists, on the admin listing
(``oversee``).  A grant does not make anything federate.  The running grants of an administrator
are read once per request (:func:`granted_community_ids`), like memberships.

A grant is a READ access and nothing more: it lifts the administrator's reach only for the
reading actions of :data:`GRANT_READ_ACTIONS` (see the community and its member list, read every
item, download documents, see poll results; the platform moderation queue then shows the reported
content).  Every other action there — posting, commenting, reacting, voting, managing, inviting,
managing members, transferring ownership, sanctioning, changing settings, and moderation too
(hiding, locking, deleting content) — goes through the ordinary rules, as for any non-member: a
grant given for a « moderation » reason lets the administrator examine what was reported, the
community's own moderators act on it (the administrator keeps the platform's powers on accounts).
Otherwise a grant could be turned into lasting powers (inviting oneself, making the community
public).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g, has_app_context
from sqlalchemy import select

from maillage.communities.community.models import (
    Community,
    JoinPolicy,
    Membership,
    Role,
    Visibility,
)
from maillage.communities.posts.models import Comment, Post
from maillage.communities.users.models import User
from maillage.platform.db import utcnow
from maillage.platform.extensions import db

RULES: dict[tuple[type | None, str], Callable] = {}

MANAGING_ROLES = frozenset({Role.OWNER, Role.FACILITATOR})
MODERATING_ROLES = MANAGING_ROLES | {Role.MODERATOR}
CONTRIBUTING_ROLES = MODERATING_ROLES | {Role.MEMBER}


def rule(obj_type: type | None, *actions: str):
    def register(func):
        for action in actions:
            RULES[(obj_type, action)] = func
        return func

    return register


def can(user, action: str, obj=None) -> bool:
    """May ``user`` do ``action`` on ``obj`` (``None`` for platform-level actions)?"""
    user = _real_user(user)
    check = RULES.get((type(obj) if obj is not None else None, action))
    if check is None:
        raise LookupError(f"no permission rule for {action!r} on {type(obj).__name__}")
    if (
        user is not None
        and user.is_admin
        and action not in ADMIN_NOT_IMPLIED
        and (action in ADMIN_WITHOUT_GRANT or _admin_reaches(user, action, obj))
    ):
        return True
    return bool(check(user, obj))


# Actions that describe a person's own situation rather than a right; admin does not imply them.
ADMIN_NOT_IMPLIED = frozenset({"join", "request_join", "leave", "request_access"})
# Platform powers on a community that reveal none of its content: admins hold them without grant.
ADMIN_WITHOUT_GRANT = frozenset({"oversee", "end_access"})
#: What an access grant lets an administrator do in a private or secret community: read.  ``view``
#: covers the community, each module's items (posts, comments, topics, replies, polls, events,
#: tasks, wiki pages and revisions, documents and their versions — downloading included —,
#: folders, announcements, sanctions) and the grants themselves.  ``see_voters`` and
#: ``view_audit`` stay with members and managers; every writing action follows the normal rules.
GRANT_READ_ACTIONS = frozenset({"view", "read", "list_members", "see_results"})


def community_of(obj) -> Community | None:
    """The community ``obj`` belongs to (itself for a community), None for platform objects."""
    if isinstance(obj, Community):
        return obj
    for attribute in ("community", "post", "topic", "page", "document"):
        parent = getattr(obj, attribute, None)
        if isinstance(parent, db.Model):
            return community_of(parent)
    return None


def _admin_reaches(user: User, action: str, obj) -> bool:
    """Whether an administrator's platform powers extend to ``action`` on ``obj``: platform-level
    objects and public communities, and in a secret or private community only the reading
    actions (:data:`GRANT_READ_ACTIONS`) under an active grant."""
    if obj is None:
        return True
    community = community_of(obj)
    if community is None or community.visibility == Visibility.PUBLIC:
        return True
    return action in GRANT_READ_ACTIONS and community.id in granted_community_ids(user)


def _real_user(user) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user if user.is_active else None


# -- memberships, read once per request ---------------------------------------------------------


def roles_of(user: User | None) -> dict[int, str]:
    """``{community_id: role}`` for ``user``, loaded with one query and cached for the request.

    The same query tells in which communities the person is muted (see :func:`muted_in`); a
    membership under an active ban (one a directory sync put back, say) counts as none.
    """
    if user is None or user.id is None:
        return {}
    cache = g.setdefault("_maillage_roles", {}) if has_app_context() else {}
    if user.id not in cache:
        _load_roles([user.id], cache)
    return cache[user.id]


def muted_in(user: User | None) -> frozenset[int]:
    """Ids of the communities where ``user`` is a member under an active mute (request cache)."""
    if user is None or user.id is None:
        return frozenset()
    roles_of(user)
    mutes = g.get("_maillage_mutes", {}) if has_app_context() else _load_roles([user.id], {})
    return mutes.get(user.id, frozenset())


def _active_sanction(kind: str):
    """EXISTS: an active sanction of ``kind`` on the membership row of the outer query."""
    from maillage.communities.moderation.models import Sanction

    now = utcnow()
    return (
        select(Sanction.id)
        .where(
            Sanction.user_id == Membership.user_id,
            Sanction.community_id == Membership.community_id,
            Sanction.kind == kind,
            Sanction.lifted_at.is_(None),
            (Sanction.ends_at.is_(None)) | (Sanction.ends_at > now),
        )
        .exists()
    )


def _load_roles(user_ids: list[int], cache: dict) -> dict[int, frozenset[int]]:
    """Fill ``cache`` with the roles of ``user_ids`` (one query) and the mutes cache with where
    they are muted; returns the mutes of these users."""
    loaded: dict[int, dict[int, str]] = {uid: {} for uid in user_ids}
    mutes: dict[int, set[int]] = {uid: set() for uid in user_ids}
    rows = db.session.execute(
        select(
            Membership.user_id,
            Membership.community_id,
            Membership.role,
            _active_sanction("mute"),
            _active_sanction("ban"),
        ).where(Membership.user_id.in_(user_ids))
    )
    for user_id, community_id, role, muted, banned in rows:
        if banned:
            continue
        loaded[user_id][community_id] = role
        if muted:
            mutes[user_id].add(community_id)
    cache.update(loaded)
    frozen = {uid: frozenset(ids) for uid, ids in mutes.items()}
    if has_app_context():
        g.setdefault("_maillage_mutes", {}).update(frozen)
    return frozen


#: Users whose memberships one query of :func:`prime_roles` loads.
PRIME_CHUNK = 500


def prime_roles(user_ids: list[int]) -> None:
    """Load the memberships of many users into the request's cache in a few queries, so that
    ``can()`` runs in memory when one change concerns a whole community (notifications)."""
    if not has_app_context():
        return
    cache = g.setdefault("_maillage_roles", {})
    missing = [uid for uid in dict.fromkeys(user_ids) if uid not in cache]
    for start in range(0, len(missing), PRIME_CHUNK):
        _load_roles(missing[start : start + PRIME_CHUNK], cache)


def forget_roles(user: User | None) -> None:
    """Drop the cached roles (and sanctions) after a membership or sanction change."""
    if user is not None and has_app_context():
        for key in ("_maillage_roles", "_maillage_mutes", "_maillage_bans"):
            g.setdefault(key, {}).pop(user.id, None)


def granted_community_ids(user: User | None) -> frozenset[int]:
    """Communities where administrator ``user`` holds a running access grant (request cache).

    An expired grant stops counting by time: the query compares ``expires_at`` with the clock.
    """
    if user is None or user.id is None or not user.is_admin:
        return frozenset()
    cache = g.setdefault("_maillage_grants", {}) if has_app_context() else {}
    if user.id not in cache:
        from maillage.communities.oversight.queries import active_community_ids

        cache[user.id] = active_community_ids(user)
    return cache[user.id]


def forget_grants(user: User | None) -> None:
    """Drop the cached grants of ``user`` after a grant was given or ended."""
    if user is not None and has_app_context():
        g.setdefault("_maillage_grants", {}).pop(user.id, None)


def content_community_ids(user: User | None) -> set[int]:
    """Communities whose content ``user`` reads beyond public ones: memberships and grants."""
    return set(roles_of(user)) | granted_community_ids(user)


def role_in(user: User | None, community: Community) -> str | None:
    return roles_of(user).get(community.id)


def visible_community_ids_clause(user: User | None):
    """A SQL condition on ``Community`` selecting what ``user`` may see (for listings)."""
    public_or_private = Community.visibility.in_([Visibility.PUBLIC, Visibility.PRIVATE])
    if user is None:
        return public_or_private
    return public_or_private | Community.id.in_(list(content_community_ids(user)))


def readable_community_ids_clause(user: User | None):
    """A SQL condition on ``Community`` selecting communities whose content ``user`` may read."""
    public = Community.visibility == Visibility.PUBLIC
    if user is None:
        return public
    return public | Community.id.in_(list(content_community_ids(user)))


# -- platform ----------------------------------------------------------------------------------


@rule(None, "admin", "announce")
def _platform_admin(user, _obj):
    return False  # admins pass in can()


@rule(None, "create_community")
def _create_community(user, _obj):
    return user is not None


# -- communities -------------------------------------------------------------------------------


@rule(Community, "view")
def _view_community(user, community):
    return community.visibility != Visibility.SECRET or role_in(user, community) is not None


@rule(Community, "read")
def _read_community(user, community):
    return community.visibility == Visibility.PUBLIC or role_in(user, community) is not None


@rule(Community, "oversee")
def _oversee(_user, _community):
    """See that a community exists (name, owners, size) on the admin pages: admins only."""
    return False  # admins pass in can(), secret communities included


@rule(Community, "administer")
def _administer(_user, _community):
    """Act with platform powers inside a community (outrank its owners when sanctioning): admins
    in public communities only; an access grant to a secret or private one is read-only."""
    return False  # admins pass in can() where they reach the community


def _banned(user, community) -> bool:
    """Under an active ban in ``community`` (asked last in rules: it may cost a query)."""
    from maillage.communities.moderation.queries import is_banned

    return user is not None and is_banned(user, community)


@rule(Community, "join")
def _join(user, community):
    return (
        user is not None
        and community.local
        and role_in(user, community) is None
        and community.join_policy == JoinPolicy.OPEN
        and community.visibility != Visibility.SECRET
        and not _banned(user, community)
    )


@rule(Community, "request_join")
def _request_join(user, community):
    return (
        user is not None
        and community.local
        and role_in(user, community) is None
        and community.join_policy == JoinPolicy.REQUEST
        and community.visibility != Visibility.SECRET
        and not _banned(user, community)
    )


@rule(Community, "accept_invitation")
def _accept_invitation(user, community):
    """Whether an invitation to ``community`` may make ``user`` a member (not while banned)."""
    return user is not None and not _banned(user, community)


@rule(Community, "leave")
def _leave(user, community):
    role = role_in(user, community)
    if role is None:
        return False
    if role != Role.OWNER:
        return True
    owners = db.session.scalar(
        select(db.func.count()).where(
            Membership.community_id == community.id, Membership.role == Role.OWNER
        )
    )
    return owners > 1


@rule(Community, "post", "comment", "react")
def _contribute(user, community):
    return role_in(user, community) in CONTRIBUTING_ROLES and community.id not in muted_in(user)


@rule(Community, "manage", "invite", "approve_requests", "manage_members")
def _manage(user, community):
    return role_in(user, community) in MANAGING_ROLES


@rule(Community, "transfer_ownership")
def _transfer_ownership(user, community):
    return role_in(user, community) == Role.OWNER


@rule(Community, "moderate", "mute")
def _moderate(user, community):
    return role_in(user, community) in MODERATING_ROLES


@rule(Community, "ban", "view_audit")
def _ban(user, community):
    """Banning takes a membership away: member management, so facilitators and owners."""
    return role_in(user, community) in MANAGING_ROLES


@rule(Community, "report")
def _report_in(user, community):
    return user is not None and can(user, "read", community)


@rule(Community, "list_members")
def _list_members(user, community):
    return role_in(user, community) is not None or (
        user is not None and community.visibility == Visibility.PUBLIC
    )


# -- content -----------------------------------------------------------------------------------


def _is_author(user, item) -> bool:
    return user is not None and item.author_id == user.id


def _sees_hidden(user, item, community) -> bool:
    """A hidden item stays visible to its author (with the reason) and to moderators."""
    return not item.hidden or _is_author(user, item) or can(user, "moderate", community)


@rule(Post, "view")
def _view_post(user, post):
    return can(user, "read", post.community) and _sees_hidden(user, post, post.community)


@rule(Post, "comment")
def _comment_post(user, post):
    community = post.community
    return can(user, "comment", community) and (not post.locked or can(user, "moderate", community))


@rule(Post, "react")
def _react_post(user, post):
    return can(user, "react", post.community)


@rule(Post, "report")
def _report_post(user, post):
    return not _is_author(user, post) and can(user, "report", post.community) and not post.hidden


@rule(Post, "moderate", "hide", "lock")
def _moderate_post(user, post):
    return can(user, "moderate", post.community)


@rule(Comment, "view")
def _view_comment(user, comment):
    post = comment.post
    return can(user, "view", post) and _sees_hidden(user, comment, post.community)


@rule(Comment, "report")
def _report_comment(user, comment):
    return (
        not _is_author(user, comment)
        and not comment.hidden
        and can(user, "report", comment.post.community)
        and can(user, "view", comment.post)
    )


@rule(Comment, "moderate", "hide")
def _moderate_comment(user, comment):
    return can(user, "moderate", comment.post.community)


@rule(Post, "edit")
def _edit_post(user, post):
    return user is not None and post.author_id == user.id and can(user, "post", post.community)


@rule(Post, "delete")
def _delete_post(user, post):
    return user is not None and (post.author_id == user.id or can(user, "moderate", post.community))


@rule(Comment, "delete")
def _delete_comment(user, comment):
    return user is not None and (
        comment.author_id == user.id or can(user, "moderate", comment.post.community)
    )


# -- people ------------------------------------------------------------------------------------


@rule(User, "view")
def _view_user(user, person):
    return person.is_active or (user is not None and user.id == person.id)


@rule(User, "edit")
def _edit_user(user, person):
    return user is not None and user.id == person.id
