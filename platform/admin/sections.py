"""The administration home: the admin pages of every package, in one list.

Packages register their pages here instead of the home page importing them; a section whose
endpoint is not served by this app (a package switched off) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class AdminSection:
    key: str
    label: object
    description: object
    endpoint: str
    order: int = 100


ADMIN_SECTIONS: dict[str, AdminSection] = {}


def register_admin_section(key: str, label, description, endpoint: str, order: int = 100) -> None:
    ADMIN_SECTIONS[key] = AdminSection(key, label, description, endpoint, order)


def admin_sections() -> list[tuple[AdminSection, str]]:
    """The registered sections this app serves, with their URLs, in order."""
    served = current_app.view_functions
    sections = sorted(ADMIN_SECTIONS.values(), key=lambda section: (section.order, section.key))
    return [
        (section, url_for(section.endpoint)) for section in sections if section.endpoint in served
    ]


register_admin_section(
    "providers",
    _l("Fournisseurs d'identité"),
    _l("État des connexions OIDC et LDAP, synchronisation des annuaires."),
    "identities.admin_providers",
    order=10,
)
