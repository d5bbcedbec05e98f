"""The instance trust policy: with which servers this instance federates.

Modes (``FEDERATION_MODE``, overridden by the admins' choice stored in the database):

- ``open``: every instance except those on the deny-list;
- ``allowlist`` (default, for inter-administration deployments): only allow-listed instances;
- ``denylist``: same as open — every instance except denied ones — named for what admins manage.

A denied instance is always refused.  Private communities federate only with instances on the
allow-list (``domain_allow_listed``), whatever the mode.  Our own host is always allowed.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import or_, select

from maillage.federation.transport.models import FederationSetting, Instance
from maillage.platform.extensions import db

MODES = ("open", "allowlist", "denylist")
DEFAULT_MODE = "allowlist"
POLICIES = ("allowed", "denied")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*$"
)
_IPV6 = re.compile(r"^\[?[0-9a-f:.]+\]?$")


def normalize_domain(value: str) -> str:
    """The host name of a URL, ``host:port`` or host, lowercased, without port or final dot."""
    value = (value or "").strip().lower()
    if "://" in value:
        try:
            value = urlsplit(value).hostname or ""
        except ValueError:
            return ""
    elif value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def valid_domain(domain: str) -> bool:
    return bool(_DOMAIN.match(domain) or (":" in domain and _IPV6.match(domain)))


def own_domain() -> str:
    return normalize_domain(current_app.config["BASE_URL"])


def federation_mode() -> str:
    """``open``, ``allowlist`` or ``denylist``: the admins' choice, else the configuration."""
    stored = db.session.get(FederationSetting, "mode")
    if stored is not None and stored.value in MODES:
        return stored.value
    configured = current_app.config.get("FEDERATION_MODE", DEFAULT_MODE)
    return configured if configured in MODES else DEFAULT_MODE


def instance_for(domain: str) -> Instance | None:
    return db.session.scalar(select(Instance).where(Instance.domain == normalize_domain(domain)))


def _policy_of(domain: str) -> str | None:
    return db.session.scalar(select(Instance.policy).where(Instance.domain == domain))


def domain_allowed(domain: str) -> bool:
    """May we exchange activities with this instance (host name, ``host:port`` or URL)?"""
    domain = normalize_domain(domain)
    if not domain:
        return False
    if domain == own_domain():
        return True
    policy = _policy_of(domain)
    if policy == "denied":
        return False
    if federation_mode() == "allowlist":
        return policy == "allowed"
    return True


def domain_allow_listed(domain: str) -> bool:
    """Is this instance explicitly on the allow-list?  (Private communities federate only then.)"""
    domain = normalize_domain(domain)
    if not domain:
        return False
    return domain == own_domain() or _policy_of(domain) == "allowed"


def policy_entries(policy: str) -> list[Instance]:
    """The allow-list (``"allowed"``) or deny-list (``"denied"``), by domain."""
    return list(
        db.session.scalars(
            select(Instance).where(Instance.policy == policy).order_by(Instance.domain)
        )
    )


def instance_health(limit: int = 200) -> list[Instance]:
    """Instances we deliver to, the troubled ones first (dead, circuit open, failing)."""
    rows = db.session.scalars(
        select(Instance)
        .where(
            or_(
                Instance.last_success_at.is_not(None),
                Instance.last_failure_at.is_not(None),
            )
        )
        .order_by(
            Instance.dead_since.is_(None),
            Instance.circuit_open_until.is_(None),
            Instance.failures.desc(),
            Instance.domain,
        )
        .limit(limit)
    )
    return list(rows)
