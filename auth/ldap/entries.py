"""From a directory entry to an IdentityInfo, and from an identity key back to a search filter.

The identity key is the attribute ``attributes.identifier`` names: ``entryUUID`` by default
(OpenLDAP, 389-DS and others keep it for the entry's life, through renames and moves),
``objectGUID`` for Active Directory (a binary value, written as its usual GUID string), or ``dn``
for the entry's DN (lowercased — it changes when the entry is renamed or moved, then the person
gets a new account: use it only for directories without a stable id).
"""

from __future__ import annotations

import uuid

import ldap.dn
from ldap.filter import escape_filter_chars

from maillage.auth.directory.errors import DirectoryError
from maillage.auth.directory.mappings import DirectoryMappings, normalise_group
from maillage.auth.identities.info import IdentityInfo
from maillage.auth.ldap.settings import DN_IDENTIFIER, LDAPSettings

#: attributes holding a binary GUID (16 bytes, Microsoft's mixed-endian layout)
BINARY_GUIDS = frozenset({"objectguid"})


def requested_attributes(settings: LDAPSettings) -> list[str]:
    """What a user search asks for (entryUUID is operational: it must be named)."""
    names = [value for value in settings.attributes.values() if value]
    return sorted({name for name in names if name.lower() != DN_IDENTIFIER})


def first(entry: dict[str, list[bytes]], name: str | None) -> str | None:
    """The first value of attribute ``name`` (any case), as text."""
    values = values_of(entry, name)
    return values[0] if values else None


def values_of(entry: dict[str, list[bytes]], name: str | None) -> list[str]:
    if not name:
        return []
    for key, values in entry.items():
        if key.lower() == name.lower():
            return [value.decode("utf-8", "replace").strip() for value in values]
    return []


def normalise_dn(dn: str) -> str:
    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(dn)).lower()
    except ldap.DECODING_ERROR:
        return dn.strip().lower()


def identifier_of(settings: LDAPSettings, dn: str, entry: dict[str, list[bytes]]) -> str:
    name = settings.identifier_attribute
    if name.lower() == DN_IDENTIFIER:
        return normalise_dn(dn)
    raw = next((values for key, values in entry.items() if key.lower() == name.lower()), None)
    if not raw or not raw[0]:
        # Never fall back on another key: the same person would get a second account.
        raise DirectoryError(f"entry {dn} has no {name} (attributes.identifier)")
    if name.lower() in BINARY_GUIDS and len(raw[0]) == 16:
        return str(uuid.UUID(bytes_le=raw[0]))
    return raw[0].decode("utf-8", "replace").strip()


def identifier_filter(settings: LDAPSettings, identifier: str) -> str:
    """A filter matching the entry with identity key ``identifier`` (not for ``dn`` keys)."""
    name = settings.identifier_attribute
    if name.lower() in BINARY_GUIDS:
        try:
            raw = uuid.UUID(identifier).bytes_le
        except ValueError:
            raw = identifier.encode()
        escaped = "".join(f"\\{byte:02x}" for byte in raw)
        return f"({name}={escaped})"
    return f"({name}={escape_filter_chars(identifier)})"


def identity_info(
    provider: str,
    settings: LDAPSettings,
    mappings: DirectoryMappings,
    dn: str,
    entry: dict[str, list[bytes]],
    groups: list[str],
) -> IdentityInfo:
    attributes = settings.attributes
    siret = (first(entry, attributes["siret"]) or "").replace(" ", "") or None
    email = first(entry, attributes["email"])
    info = {
        "dn": dn,
        "username": first(entry, attributes["username"]) or "",
        "email": email,
        "given_name": first(entry, attributes["given_name"]) or "",
        "family_name": first(entry, attributes["family_name"]) or "",
        "siret": siret,
        "organisation_name": first(entry, attributes["organisation_name"]),
    }
    mapped = sorted(set(mappings.groups) & {normalise_group(group) for group in groups})
    return IdentityInfo(
        provider=provider,
        identifier=identifier_of(settings, dn, entry),
        email=email,
        email_verified=bool(email) and settings.trust_email,
        given_name=info["given_name"],
        family_name=info["family_name"],
        username_hint=info["username"],
        organisation_siret=siret or mappings.organisation_siret(groups),
        organisation_name=info["organisation_name"],
        organisation_kind=settings.organisation_kind,
        groups=tuple(groups),
        data={key: value for key, value in info.items() if value} | {"mapped_groups": mapped},
    )
