"""What a provider tells us about the person who just proved who they are.

Providers authenticate; they return an :class:`IdentityInfo` and never touch accounts.  The
identities operations decide which account that is (identifying), as in flask-multipass.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IdentityInfo:
    #: the configured provider's name (``proconnect``, ``annuaire-dgfip``…)
    provider: str
    #: the stable key the provider gives the person (OIDC ``sub``, with ProConnect
    #: ``sub`` + ``idp_id``; an LDAP entry's uid)
    identifier: str
    email: str | None = None
    #: the provider vouches that the person receives mail at ``email`` (an OIDC
    #: ``email_verified`` claim, or a provider configured as trusted for e-mail)
    email_verified: bool = False
    given_name: str = ""
    family_name: str = ""
    username_hint: str = ""
    organisation_siret: str | None = None
    organisation_name: str | None = None
    #: an OrganisationKind value, when the provider knows it (configuration says it)
    organisation_kind: str | None = None
    #: ProConnect's identity provider id (the employer's own sign-in)
    idp_id: str | None = None
    #: directory groups (DNs or names), for the group mappings of the directory sync
    groups: tuple[str, ...] = ()
    #: the profile to keep on the identity: claims or attributes, never a token or a secret
    data: dict = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        name = f"{self.given_name} {self.family_name}".strip()
        return name or self.username_hint or (self.email or "").split("@")[0]

    @property
    def email_domain(self) -> str | None:
        if not self.email or "@" not in self.email:
            return None
        return self.email.rsplit("@", 1)[1].lower()
