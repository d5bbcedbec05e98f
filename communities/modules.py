"""The modules a community can switch on or off, and how pages ask whether one is on.

Facilitators choose a community's modules in its settings; ``Community.disabled_modules`` keeps
what they switched off, so a module added to the platform later is on by default.  A module's
pages answer 404 while it is off (:func:`require_module`), and the community menu shows only the
modules that are on and whose pages are installed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Module:
    key: str
    label: object
    #: the endpoint of the module's page in a community (called with ``slug``)
    endpoint: str


MODULES: tuple[Module, ...] = (
    Module("posts", _l("Publications"), "community.show"),
    Module("discussions", _l("Discussions"), "discussions.index"),
    Module("events", _l("Événements"), "events.index"),
    Module("documents", _l("Documents"), "documents.index"),
    Module("wiki", _l("Wiki"), "wiki.index"),
    Module("polls", _l("Sondages"), "polls.index"),
    Module("tasks", _l("Tâches"), "kanban.board"),
)
MODULE_KEYS = frozenset(module.key for module in MODULES)


def is_enabled(community, key: str) -> bool:
    if key not in MODULE_KEYS:
        raise LookupError(f"unknown module {key!r}")
    return key not in (community.disabled_modules or ())


def require_module(community, key: str) -> None:
    """404 when ``key`` is switched off in ``community`` (its pages do not exist there)."""
    if not is_enabled(community, key):
        abort(404)


def enabled_modules(community) -> list[Module]:
    """The modules to show in ``community``'s menu: switched on and installed."""
    views = current_app.view_functions
    return [
        module
        for module in MODULES
        if is_enabled(community, module.key) and module.endpoint in views
    ]


def community_with_module(slug: str, key: str):
    """The community a module's page names, for the current viewer: 404 when it does not exist,
    is secret to the viewer, or has the module switched off.  Every module's views start here."""
    from maillage.communities.community.queries import community_by_slug
    from maillage.communities.permissions import can
    from maillage.platform.views_util import current_viewer

    community = community_by_slug(slug)
    if community is None or not can(current_viewer(), "view", community):
        abort(404)
    require_module(community, key)
    return community
