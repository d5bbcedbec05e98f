"""Providers built from configuration, once per application, by type.

``AUTH_PROVIDERS`` is a list of mappings, each with a unique ``name`` and a ``type``; the rest
are that type's settings (see the README).  A wrong configuration stops the start-up with a
message naming the provider, never a half-working sign-in page.
"""

from __future__ import annotations

import importlib
import re

from flask import Flask, abort, current_app

from maillage.auth.providers.base import AuthProvider
from maillage.platform.config import ConfigError

#: provider type -> "module:class", imported only when configured
PROVIDER_TYPES = {
    "oidc": "maillage.auth.oidc.provider:OIDCProvider",
    "proconnect": "maillage.auth.oidc.proconnect:ProConnectProvider",
    "ldap": "maillage.auth.ldap.provider:LDAPProvider",
}
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
RESERVED_NAMES = frozenset({"local"})
EXTENSION_KEY = "maillage.auth.providers"


def provider_class(type_name: str) -> type[AuthProvider]:
    try:
        module_name, class_name = PROVIDER_TYPES[type_name].split(":")
    except KeyError:
        known = ", ".join(sorted(PROVIDER_TYPES))
        raise ConfigError(f"unknown auth provider type {type_name!r} (known: {known})") from None
    return getattr(importlib.import_module(module_name), class_name)


def build_providers(configured: list[dict]) -> dict[str, AuthProvider]:
    built: dict[str, AuthProvider] = {}
    for settings in configured:
        name = str(settings.get("name", ""))
        if not NAME_RE.match(name) or name in RESERVED_NAMES:
            raise ConfigError(
                f"auth provider name {name!r}: lowercase letters, digits, - and _ (and not 'local')"
            )
        if name in built:
            raise ConfigError(f"auth provider {name!r} is configured twice")
        built[name] = provider_class(str(settings.get("type", "")))(name, dict(settings))
        _check_group_claim(built[name])
    return built


def _check_group_claim(provider: AuthProvider) -> None:
    """Group mappings on a provider that reads no groups claim would take back, at each sign-in,
    everything the groups gave: a configuration mistake, not a policy."""
    claims_mapping = getattr(provider, "claims_mapping", None)
    mappings = provider.directory_mappings
    if claims_mapping is None or mappings is None or not mappings.mappings:
        return
    if not claims_mapping.get("groups"):
        raise ConfigError(
            f"auth provider {provider.name!r}: group_mappings need the groups claim "
            '(claims_mapping: {"groups": "<claim name>"})'
        )


def init_providers(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = build_providers(app.config.get("AUTH_PROVIDERS") or [])


def providers() -> dict[str, AuthProvider]:
    """The configured providers, in configuration order."""
    return current_app.extensions[EXTENSION_KEY]


def get_provider(name: str, type_: type[AuthProvider] | None = None) -> AuthProvider:
    """The provider ``name`` (of class ``type_`` when given), or a 404."""
    provider = providers().get(name)
    if provider is None or (type_ is not None and not isinstance(provider, type_)):
        abort(404)
    return provider
