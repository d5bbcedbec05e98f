"""The settings of one LDAP / Active Directory provider, read and checked at start-up.

See docs/auth-ldap.md for every key.  A mistake stops the start-up with a message naming the
provider (never the bind password).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from maillage.communities.organisations.models import OrganisationKind
from maillage.platform.config import ConfigError

#: attribute map: what each IdentityInfo field is read from (None: not read)
DEFAULT_ATTRIBUTES = {
    "identifier": "entryUUID",
    "username": "uid",
    "email": "mail",
    "given_name": "givenName",
    "family_name": "sn",
    "siret": None,
    "organisation_name": None,
    "groups": "memberOf",
}
#: identifier value meaning "the entry's DN" (stable only while nobody renames or moves it)
DN_IDENTIFIER = "dn"
SCHEMES = ("ldap", "ldaps", "ldapi")
DEFAULT_TIMEOUT = 10.0
DEFAULT_PAGE_SIZE = 500


@dataclass(frozen=True)
class LDAPSettings:
    uri: str
    user_base: str
    user_filter: str
    start_tls: bool = False
    ca_cert_file: str | None = None
    verify_cert: bool = True
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    attributes: dict = field(default_factory=lambda: dict(DEFAULT_ATTRIBUTES))
    group_base: str | None = None
    group_filter: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    page_size: int = DEFAULT_PAGE_SIZE
    trust_email: bool = False
    organisation_kind: str | None = None
    login_label: str | None = None

    @property
    def uses_tls(self) -> bool:
        return self.start_tls or self.uri.lower().startswith("ldaps://")

    @property
    def identifier_attribute(self) -> str:
        return self.attributes["identifier"]

    def user_filter_for(self, escaped_login: str) -> str:
        """The user filter with an (already escaped) login in it."""
        return self.user_filter.replace("{login}", escaped_login)


def parse_settings(name: str, raw: dict) -> LDAPSettings:
    where = f"auth provider {name!r}"
    uri = str(raw.get("uri") or "").strip()
    _check_uri(where, uri, raw)
    user_filter = str(raw.get("user_filter") or "").strip()
    if "{login}" not in user_filter or not _balanced(user_filter):
        raise ConfigError(f"{where}: user_filter must be an LDAP filter containing {{login}}")
    group_filter = str(raw.get("group_filter") or "").strip() or None
    if group_filter is not None and not _balanced(group_filter):
        raise ConfigError(f"{where}: group_filter is not a valid LDAP filter")
    bind_dn, bind_password = str(raw.get("bind_dn") or ""), str(raw.get("bind_password") or "")
    if bind_dn and not bind_password:
        raise ConfigError(f"{where}: bind_dn needs bind_password")
    return LDAPSettings(
        uri=uri,
        user_base=str(raw["user_base"]).strip(),
        user_filter=user_filter,
        start_tls=bool(raw.get("start_tls", False)),
        ca_cert_file=_ca_cert_file(where, raw.get("ca_cert_file")),
        verify_cert=bool(raw.get("verify_cert", True)),
        bind_dn=bind_dn,
        bind_password=bind_password,
        attributes=_attributes(where, raw.get("attributes") or {}),
        group_base=str(raw.get("group_base") or "").strip() or None,
        group_filter=group_filter,
        timeout=_number(where, "timeout", raw.get("timeout", DEFAULT_TIMEOUT), float, 0.1),
        page_size=_number(where, "page_size", raw.get("page_size", DEFAULT_PAGE_SIZE), int, 0),
        trust_email=bool(raw.get("trust_email", False)),
        organisation_kind=_organisation_kind(where, raw.get("organisation_kind")),
        login_label=str(raw.get("login_label") or "").strip() or None,
    )


def _check_uri(where: str, uri: str, raw: dict) -> None:
    uris = uri.split()
    if not uris or any(urlsplit(one).scheme.lower() not in SCHEMES for one in uris):
        raise ConfigError(f"{where}: uri must be ldap://, ldaps:// or ldapi:// URLs")
    schemes = {urlsplit(one).scheme.lower() for one in uris}
    if raw.get("start_tls") and "ldaps" in schemes:
        raise ConfigError(f"{where}: start_tls goes with ldap://, not ldaps://")
    cleartext = "ldap" in schemes and not raw.get("start_tls")
    if cleartext and not raw.get("allow_cleartext"):
        raise ConfigError(
            f"{where}: passwords would travel in clear over ldap:// — use ldaps://, set "
            "start_tls, or set allow_cleartext for a directory on a trusted network"
        )


def _balanced(text: str) -> bool:
    depth = 0
    for char in text.replace("\\(", "").replace("\\)", ""):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0 and text.startswith("(")


def _ca_cert_file(where: str, value) -> str | None:
    if not value:
        return None
    path = str(value)
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise ConfigError(f"{where}: ca_cert_file {path!r} is not a readable file")
    return path


def _attributes(where: str, given) -> dict:
    if not isinstance(given, dict):
        raise ConfigError(f"{where}: attributes must be a mapping")
    unknown = set(given) - set(DEFAULT_ATTRIBUTES)
    if unknown:
        raise ConfigError(f"{where}: unknown attributes {', '.join(sorted(unknown))}")
    attributes = {**DEFAULT_ATTRIBUTES, **{key: value or None for key, value in given.items()}}
    if not attributes["identifier"]:
        raise ConfigError(f"{where}: attributes.identifier cannot be empty")
    return attributes


def _number(where: str, key: str, value, kind, minimum):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum:
        raise ConfigError(f"{where}: {key} must be a number of at least {minimum}")
    return number


def _organisation_kind(where: str, value) -> str | None:
    if value and value not in set(OrganisationKind):
        known = ", ".join(kind.value for kind in OrganisationKind)
        raise ConfigError(f"{where}: organisation_kind must be one of {known}")
    return value or None
