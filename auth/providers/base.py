"""The provider interface: every way of signing in is a configured provider of a type.

Built from configuration by :mod:`maillage.auth.providers.registry`; a provider authenticates a
person and returns an :class:`~maillage.auth.identities.info.IdentityInfo`.  What the web flow
looks like is the type's business (a redirect for OIDC, a form for LDAP): the sign-in page
includes each provider's ``login_template``.

Settings every type reads (see the README):

- ``access_rules``: who may sign in through this provider, on top of ``AUTH_ACCESS_RULES``;
- ``link_by_email`` (default false): a first sign-in whose address the provider vouches for
  (``email_verified``) joins the existing account that verified the same address, without asking
  the person to prove they hold it — never a platform administrator's account;
- ``group_mappings`` and ``managed_platform_roles``: what the person's groups (LDAP groups, an
  OIDC ``groups`` claim) give on the platform, applied at each sign-in by
  :mod:`maillage.auth.directory` with the same rules for every provider.
"""

from __future__ import annotations

from typing import ClassVar

from flask import url_for

from maillage.auth.directory.mappings import DirectoryMappings, parse_mappings
from maillage.platform.config import ConfigError

#: settings that configure group mappings (a provider without them applies no groups)
GROUP_SETTINGS = ("group_mappings", "managed_platform_roles")


class AuthProvider:
    #: the ``type`` value in configuration
    type: ClassVar[str]
    #: the partial the sign-in page includes for this provider (gets ``provider``)
    login_template: ClassVar[str]
    #: settings a configuration must give for this type
    required_settings: ClassVar[tuple[str, ...]] = ()
    #: the endpoint (taking the provider's ``name``) a signed-in person POSTs to, with the form's
    #: CSRF token, to add this provider to their account (``auth_oidc.link``); see :meth:`link_url`
    link_endpoint: ClassVar[str | None] = None

    def __init__(self, name: str, settings: dict) -> None:
        missing = [key for key in self.required_settings if not settings.get(key)]
        if missing:
            raise ConfigError(f"auth provider {name!r}: missing {', '.join(missing)}")
        self.name = name
        self.settings = settings
        self.title: str = settings.get("title") or name
        #: access rules of this provider, on top of the instance's (AUTH_ACCESS_RULES)
        self.access_rules: dict = settings.get("access_rules") or {}
        link_by_email = settings.get("link_by_email", False)
        if not isinstance(link_by_email, bool):
            raise ConfigError(f"auth provider {name!r}: link_by_email must be true or false")
        #: a vouched-for address may join the existing account that verified it (see above)
        self.link_by_email: bool = link_by_email
        #: what groups give, applied at each sign-in (None: this provider applies no groups)
        self.directory_mappings: DirectoryMappings | None = (
            parse_mappings(name, settings)
            if any(key in settings for key in GROUP_SETTINGS)
            else None
        )

    def check(self) -> None:
        """Contact the provider (discovery document, service bind…); raise on a problem.

        Used by the admin providers page; the message of the exception is shown there, so it
        must not carry a secret.
        """
        raise NotImplementedError

    def sign_in_url(self, next_url: str | None = None) -> str:
        """Where a person signs in with this provider: its part of the sign-in page."""
        return url_for("auth.login", next=next_url or None, _anchor=f"sign-in-{self.name}")

    def link_url(self) -> str:
        """Where the account's identities page POSTs to link this provider to the signed-in account.

        The view there calls :func:`maillage.auth.identities.flow.start_linking` then runs the
        provider's own sign-in, which :func:`~maillage.auth.identities.flow.finish_sign_in` ends
        by linking.  A type that cannot link raises NotImplementedError (no button is shown).
        """
        if self.link_endpoint is None:
            raise NotImplementedError(f"{type(self).__name__} cannot link accounts")
        return url_for(self.link_endpoint, name=self.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
