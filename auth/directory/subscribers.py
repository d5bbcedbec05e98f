"""Groups applied at sign-in: an LDAP directory's groups or an OIDC provider's ``groups`` claim,
through the same operations as the periodic directory sync (:func:`apply_directory`).

Runs inside the sign-in's transaction (``identity_established``), so the memberships and roles
the groups give are stored with the sign-in or not at all.  Providers without ``group_mappings``
(``directory_mappings`` None) apply nothing.
"""

from __future__ import annotations

from maillage.auth.directory.operations import apply_directory
from maillage.auth.providers.registry import providers
from maillage.auth.signals import identity_established


@identity_established.connect
def sync_at_sign_in(user, info, **_extra) -> None:
    """Apply the groups of a sign-in through a provider that has group mappings."""
    provider = providers().get(info.provider)
    mappings = getattr(provider, "directory_mappings", None)
    if mappings is None:
        return
    apply_directory(user, provider.name, mappings, info)
