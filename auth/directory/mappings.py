"""Group mappings: what membership of a directory group gives a person on the platform.

A provider's ``group_mappings`` configuration is a list; each entry names a ``group`` (a DN, as
the directory writes it in ``memberOf`` or finds it by the group search) and exactly one effect:

- ``{"group": ..., "community": "<slug>", "role": "member"}``: a community membership with that
  role (``role`` defaults to ``member``);
- ``{"group": ..., "platform_role": "admin" | "trainer"}``: a platform role;
- ``{"group": ..., "organisation_siret": "<14 digits>"}``: the person's organisation, when the
  directory entry itself carries no SIRET.

``managed_platform_roles`` (provider setting) lists the platform roles the directory also takes
away from the people of that provider who are in none of the groups granting them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import ldap.dn

from maillage.communities.community.models import Role
from maillage.platform.config import ConfigError

PLATFORM_ROLES = ("admin", "trainer")
MAPPING_KEYS = frozenset({"group", "community", "role", "platform_role", "organisation_siret"})
EFFECTS = ("community", "platform_role", "organisation_siret")


def normalise_group(value: str) -> str:
    """A group's DN in one spelling (case and spaces around separators do not matter in DNs);
    a value that is not a DN (a plain group name) is only stripped and lowercased."""
    value = value.strip()
    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(value)).lower()
    except ldap.DECODING_ERROR:
        return value.lower()


@dataclass(frozen=True)
class GroupMapping:
    group: str
    community: str | None = None
    role: str = Role.MEMBER
    platform_role: str | None = None
    organisation_siret: str | None = None


@dataclass(frozen=True)
class DirectoryMappings:
    mappings: tuple[GroupMapping, ...] = ()
    managed_platform_roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def groups(self) -> frozenset[str]:
        return frozenset(mapping.group for mapping in self.mappings)

    def matching(self, groups: Iterable[str]) -> list[GroupMapping]:
        """The mappings that apply to a person in ``groups`` (any spelling), in configuration
        order."""
        present = {normalise_group(group) for group in groups}
        return [mapping for mapping in self.mappings if mapping.group in present]

    def organisation_siret(self, groups: Iterable[str]) -> str | None:
        """The SIRET the first matching organisation mapping gives."""
        for mapping in self.matching(groups):
            if mapping.organisation_siret:
                return mapping.organisation_siret
        return None


def parse_mappings(provider: str, settings: dict) -> DirectoryMappings:
    """Read and check ``group_mappings`` and ``managed_platform_roles`` (start-up)."""
    where = f"auth provider {provider!r}"
    raw = settings.get("group_mappings") or []
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: group_mappings must be a list")
    mappings = tuple(_mapping(where, index, entry) for index, entry in enumerate(raw))
    managed = settings.get("managed_platform_roles") or []
    if not isinstance(managed, list) or set(managed) - set(PLATFORM_ROLES):
        raise ConfigError(
            f"{where}: managed_platform_roles must be a list of {', '.join(PLATFORM_ROLES)}"
        )
    return DirectoryMappings(mappings, frozenset(managed))


def _mapping(where: str, index: int, entry) -> GroupMapping:
    where = f"{where}: group_mappings[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping")
    unknown = set(entry) - MAPPING_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    group = str(entry.get("group") or "").strip()
    if not group:
        raise ConfigError(f"{where}: missing group")
    effects = [key for key in EFFECTS if entry.get(key)]
    if len(effects) != 1:
        raise ConfigError(f"{where}: give exactly one of {', '.join(EFFECTS)}")
    if "role" in entry and effects != ["community"]:
        raise ConfigError(f"{where}: role goes with community")
    role = str(entry.get("role") or Role.MEMBER)
    if role not in set(Role):
        raise ConfigError(f"{where}: unknown role {role!r}")
    platform_role = entry.get("platform_role")
    if platform_role is not None and platform_role not in PLATFORM_ROLES:
        raise ConfigError(f"{where}: platform_role must be one of {', '.join(PLATFORM_ROLES)}")
    siret = str(entry.get("organisation_siret") or "").replace(" ", "") or None
    if siret is not None and not (len(siret) == 14 and siret.isdigit()):
        raise ConfigError(f"{where}: organisation_siret must have 14 digits")
    community = str(entry["community"]).strip().lower() if entry.get("community") else None
    return GroupMapping(normalise_group(group), community, role, platform_role, siret)
