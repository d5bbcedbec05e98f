"""The facilitator console's sections, registered by the packages that serve them.

The console page of a community lists the sections the viewer may open; each feature package
registers its own (moderation queue, analytics, announcements, training…) from its
``blueprint`` module, so the console never imports them and parallel work never edits one list.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from maillage.communities.permissions import can


@dataclass(frozen=True)
class ConsoleSection:
    key: str
    label: object  # a lazy_gettext string
    endpoint: str  # takes ``slug``
    action: str = "manage"  # permission on the Community needed to see the section
    order: int = 100


CONSOLE_SECTIONS: dict[str, ConsoleSection] = {}


def register_console_section(
    key: str, label, endpoint: str, action: str = "manage", order: int = 100
) -> None:
    CONSOLE_SECTIONS[key] = ConsoleSection(key, label, endpoint, action, order)


def console_sections_for(user, community) -> list[tuple[ConsoleSection, str]]:
    """The sections ``user`` may open in ``community``'s console, with their URLs, in order."""
    sections = sorted(CONSOLE_SECTIONS.values(), key=lambda section: (section.order, section.key))
    return [
        (section, url_for(section.endpoint, slug=community.slug))
        for section in sections
        if can(user, section.action, community)
    ]
