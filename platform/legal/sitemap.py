"""The generated site map: the main sections the viewer can reach, then the legal pages.

Each entry names an endpoint and whether it needs a signed-in person (or an admin); an endpoint
this app does not serve (a package switched off) is left out.  Communities are listed under
theirs, secret ones never, whoever looks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from maillage.communities.permissions import can
from maillage.platform.legal import queries


@dataclass
class Entry:
    label: object
    url: str | None
    children: list[Entry] = field(default_factory=list)
    more_url: str | None = None


#: (label, endpoint, who: ``anyone``, ``visitor`` (not signed in), ``signed_in`` or ``admin``,
#: children)
SECTIONS = (
    (_l("Accueil"), "portal.home", "anyone", ()),
    (_l("Se connecter"), "auth.login", "visitor", ()),
    (_l("Créer un compte"), "auth.signup", "signup", ()),
    (_l("Communautés"), "community.directory", "anyone", ()),
    (_l("Membres"), "users.directory", "anyone", ()),
    (_l("Formation des animateurs"), "training.home", "signed_in", ()),
    (_l("Recherche"), "search.search", "anyone", ()),
    (
        _l("Mon compte"),
        "auth.account",
        "signed_in",
        (
            (_l("Mon profil"), "users.edit_profile"),
            (_l("Identités de connexion"), "identities.index"),
            (_l("Double authentification"), "twofactor.manage"),
        ),
    ),
    (_l("Mon agenda"), "events.agenda", "signed_in", ()),
    (_l("Qui peut m'aider ? Les ambassadeurs"), "training.ambassadors", "anyone", ()),
    (_l("Administration"), "admin.index", "admin", ()),
    (_l("API (documentation OpenAPI)"), "api.openapi", "anyone", ()),
    (_l("État du service"), "health.health", "anyone", ()),
)


def _reachable(viewer, who: str) -> bool:
    if who == "visitor":
        return viewer is None
    if who == "signup":
        return viewer is None and bool(current_app.config.get("SIGNUP_ENABLED"))
    if who == "signed_in":
        return viewer is not None
    if who == "admin":
        return viewer is not None and can(viewer, "admin")
    return True


def site_map(viewer) -> list[Entry]:
    served = current_app.view_functions
    entries = []
    for label, endpoint, who, children in SECTIONS:
        if endpoint not in served or not _reachable(viewer, who):
            continue
        entry = Entry(label, url_for(endpoint))
        entry.children = [
            Entry(child_label, url_for(child)) for child_label, child in children if child in served
        ]
        if endpoint == "community.directory":
            _add_communities(entry, viewer)
        entries.append(entry)
    legal = Entry(_l("Informations légales"), None)
    legal.children = [
        Entry(title, url_for("legal.page", slug=slug)) for slug, title in queries.PAGES.items()
    ]
    entries.append(legal)
    return entries


def _add_communities(entry: Entry, viewer) -> None:
    communities, more = queries.sitemap_communities(viewer)
    entry.children = [
        Entry(community.name, url_for("community.show", slug=community.slug))
        for community in communities
    ]
    if more:
        entry.more_url = entry.url
