"""The LDAP / Active Directory provider: a login form checked against the directory.

Authentication: a service bind, a search for the one entry the user filter finds with the login
(escaped), then a bind as that entry with the password on a separate connection.  The person's
groups are the entry's ``memberOf`` values plus the groups the group filter finds with the
entry's DN as ``member`` (paged).  See docs/auth-ldap.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import ldap
from ldap.filter import escape_filter_chars

from maillage.auth.directory.errors import DirectoryError
from maillage.auth.directory.mappings import parse_mappings
from maillage.auth.identities.info import IdentityInfo
from maillage.auth.ldap import client, entries
from maillage.auth.ldap.settings import DN_IDENTIFIER, parse_settings
from maillage.auth.providers.base import AuthProvider
from maillage.platform.config import ConfigError

#: longest login accepted (a DN-length limit; longer ones are refused before any search)
LOGIN_MAX = 256


class InvalidCredentials(Exception):
    """Unknown login or wrong password; ``reason`` is for the audit log only, the person sees
    the same words in both cases.  ``identifier`` is the entry's key when the login exists."""

    def __init__(self, reason: str, identifier: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.identifier = identifier


def _key_or_none(settings, dn: str, entry: dict) -> str | None:
    """The entry's identity key for the audit of a failed sign-in (None if it has none)."""
    try:
        return entries.identifier_of(settings, dn, entry)
    except DirectoryError:
        return None


class LDAPProvider(AuthProvider):
    type = "ldap"
    login_template = "ldap/_login.html"
    required_settings = ("uri", "user_base", "user_filter")

    def __init__(self, name: str, settings: dict) -> None:
        super().__init__(name, settings)
        self.ldap = parse_settings(name, settings)
        #: read by the directory sync (auth.directory)
        self.directory_mappings = parse_mappings(name, settings)
        if self.ldap.group_filter and not self.ldap.group_base:
            raise ConfigError(f"auth provider {name!r}: group_filter needs group_base")

    @property
    def form_prefix(self) -> str:
        return f"ldap-{self.name}"

    def check(self) -> None:
        """A service bind (for the admin status page); raises DirectoryError."""
        with client.service_connection(self.ldap):
            pass

    # -- sign-in -------------------------------------------------------------------------------

    def authenticate(self, login: str, password: str) -> IdentityInfo:
        """The person ``login`` and ``password`` prove, or :class:`InvalidCredentials`;
        :class:`DirectoryError` when the directory cannot be used."""
        login = (login or "").strip()
        if not login or not password or len(login) > LOGIN_MAX:
            raise InvalidCredentials("empty" if not (login and password) else "too_long")
        search_filter = self.ldap.user_filter_for(escape_filter_chars(login))
        with client.service_connection(self.ldap) as connection:
            found = client.find_one(
                connection,
                self.ldap,
                self.ldap.user_base,
                search_filter,
                entries.requested_attributes(self.ldap),
            )
            if found is None:
                raise InvalidCredentials("unknown_user")
            dn, entry = found
            if not client.password_accepted(self.ldap, dn, password):
                raise InvalidCredentials("bad_password", _key_or_none(self.ldap, dn, entry))
            return self._info(connection, dn, entry)

    def _info(self, connection, dn: str, entry: dict) -> IdentityInfo:
        groups = self._groups(connection, dn, entry)
        return entries.identity_info(
            self.name, self.ldap, self.directory_mappings, dn, entry, groups
        )

    def _groups(self, connection, dn: str, entry: dict) -> list[str]:
        groups = entries.values_of(entry, self.ldap.attributes["groups"])
        if self.ldap.group_filter:
            escaped = escape_filter_chars(dn)
            if "{user_dn}" in self.ldap.group_filter:
                group_filter = self.ldap.group_filter.replace("{user_dn}", escaped)
            else:
                group_filter = f"(&{self.ldap.group_filter}(member={escaped}))"
            found = client.search(
                connection, self.ldap, self.ldap.group_base, group_filter, ["1.1"]
            )
            groups += [group_dn for group_dn, _attributes in found]
        unique: dict[str, str] = {}
        for group in groups:
            unique.setdefault(entries.normalise_dn(group), group)
        return sorted(unique.values(), key=str.lower)

    # -- periodic sync -------------------------------------------------------------------------

    @contextlib.contextmanager
    def directory_reader(self) -> Iterator[DirectoryReader]:
        """A service-bound reader for the periodic sync: ``reader.info_for(identifier)``."""
        with client.service_connection(self.ldap) as connection:
            yield DirectoryReader(self, connection)


class DirectoryReader:
    """Looks up known identities again, on one service-bound connection."""

    def __init__(self, provider: LDAPProvider, connection) -> None:
        self.provider = provider
        self.connection = connection

    def info_for(self, identifier: str) -> IdentityInfo | None:
        """What the directory says now about the entry ``identifier`` names; None when no
        entry the user filter accepts has it (deleted, moved out of ``user_base``, or filtered
        out, like a disabled Active Directory account with the usual filter)."""
        settings = self.provider.ldap
        every_user = settings.user_filter_for("*")
        if settings.identifier_attribute.lower() == DN_IDENTIFIER:
            base, scope, search_filter = identifier, ldap.SCOPE_BASE, every_user
        else:
            base, scope = settings.user_base, ldap.SCOPE_SUBTREE
            search_filter = f"(&{every_user}{entries.identifier_filter(settings, identifier)})"
        found = client.find_one(
            self.connection,
            settings,
            base,
            search_filter,
            entries.requested_attributes(settings),
            scope=scope,
        )
        if found is None:
            return None
        dn, entry = found
        return self.provider._info(self.connection, dn, entry)
