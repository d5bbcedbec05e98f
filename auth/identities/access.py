"""Who may sign in on this instance: access rules checked on every sign-in by a provider.

Rules come from ``AUTH_ACCESS_RULES`` (the instance) and a provider's own ``access_rules``; each
is a list, and a person must satisfy every rule given (any value of a list will do):

- ``email_domains``: ``["interieur.gouv.fr", "*.gouv.fr"]`` (``*.`` matches sub-domains), met
  only by an address the provider vouches for (``email_verified``): anyone can type any address
  into a profile at an identity provider that does not check it;
- ``idp_ids``: ProConnect identity provider ids;
- ``siret_prefixes``: SIRET or SIREN prefixes (``"130"`` or a full 9-digit SIREN);
- ``organisation_kinds``: OrganisationKind values of the organisation the sign-in names.

A refusal says which rule failed, with the organisation and SIRET the provider gave, so the person
and their helpdesk know what to ask for.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from maillage.auth.identities.info import IdentityInfo

RULE_NAMES = ("email_domains", "idp_ids", "siret_prefixes", "organisation_kinds")


@dataclass(frozen=True)
class AccessRefused(Exception):
    rule: str
    allowed: tuple[str, ...]
    info: IdentityInfo

    @property
    def unverified_email(self) -> bool:
        """The domain would do, but the provider does not vouch for the address."""
        return (
            self.rule == "email_domains"
            and not self.info.email_verified
            and _domain_allowed(self.info.email_domain, list(self.allowed))
        )

    def __str__(self) -> str:
        return f"access rule {self.rule} not met"


def _domain_allowed(domain: str | None, patterns: list[str]) -> bool:
    if not domain:
        return False
    for raw in patterns:
        pattern = raw.lower().strip()
        if pattern.startswith("*."):
            if domain.endswith(pattern[1:]) or domain == pattern[2:]:
                return True
        elif domain == pattern:
            return True
    return False


def _rule_met(rule: str, allowed: list[str], info: IdentityInfo, organisation_kind) -> bool:
    if rule == "email_domains":
        return info.email_verified and _domain_allowed(info.email_domain, allowed)
    if rule == "idp_ids":
        return info.idp_id in allowed
    if rule == "siret_prefixes":
        siret = (info.organisation_siret or "").replace(" ", "")
        return bool(siret) and any(siret.startswith(str(prefix)) for prefix in allowed)
    if rule == "organisation_kinds":
        return organisation_kind in allowed
    raise ValueError(f"unknown access rule {rule!r}")


def check_access(info: IdentityInfo, provider_rules: dict, organisation_kind=None) -> None:
    """Raise :class:`AccessRefused` for the first rule ``info`` does not satisfy.

    ``organisation_kind`` is the kind of the organisation the sign-in resolves to (known only
    once the SIRET has been looked up), falling back to what the provider said.
    """
    kind = organisation_kind or info.organisation_kind
    for rules in (current_app.config.get("AUTH_ACCESS_RULES") or {}, provider_rules):
        for rule in RULE_NAMES:
            allowed = rules.get(rule)
            if allowed and not _rule_met(rule, list(allowed), info, kind):
                raise AccessRefused(rule, tuple(str(value) for value in allowed), info)


def validate_rules(rules: dict, where: str) -> None:
    """Start-up check of a rules mapping (unknown names are configuration mistakes)."""
    from maillage.platform.config import ConfigError

    unknown = set(rules) - set(RULE_NAMES)
    if unknown:
        raise ConfigError(f"{where}: unknown access rules {', '.join(sorted(unknown))}")
