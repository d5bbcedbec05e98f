"""Admin decisions about federation: the mode, the allow/deny lists, instance health resets.

Each change writes an audit entry in the same transaction; callers commit.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from maillage.federation.transport.models import FederationSetting, Instance
from maillage.federation.transport.policy import (
    MODES,
    POLICIES,
    instance_for,
    normalize_domain,
    own_domain,
    valid_domain,
)
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db

REASON_MAX = 500


def get_or_create_instance(domain: str) -> Instance:
    """The row of this host name, created (without policy) if we never met it."""
    domain = normalize_domain(domain)
    instance = instance_for(domain)
    if instance is None:
        instance = Instance(domain=domain, policy_reason="", software="", last_error="", failures=0)
        db.session.add(instance)
        db.session.flush()
    return instance


def set_federation_mode(actor, mode: str) -> FederationSetting:
    if mode not in MODES:
        raise OperationError(_l("Mode de fédération inconnu."))
    setting = db.session.get(FederationSetting, "mode")
    previous = setting.value if setting else None
    if setting is None:
        setting = FederationSetting(key="mode", value=mode)
        db.session.add(setting)
    setting.value = mode
    setting.updated_by_id = getattr(actor, "id", None)
    setting.updated_at = utcnow()
    record(actor, "federation.mode_changed", None, mode=mode, previous=previous)
    return setting


def _clean_domain(domain: str) -> str:
    cleaned = normalize_domain(domain)
    if not cleaned or not valid_domain(cleaned):
        raise OperationError(
            _l("Nom d'instance invalide : indiquez un nom de domaine (ex. lemmy.exemple.fr).")
        )
    if cleaned == own_domain():
        raise OperationError(_l("C'est le nom de cette instance."))
    return cleaned


def set_instance_policy(actor, domain: str, policy: str, reason: str = "") -> Instance:
    """Put an instance on the allow-list (``"allowed"``) or the deny-list (``"denied"``)."""
    if policy not in POLICIES:
        raise OperationError(_l("Liste inconnue."))
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise OperationError(
            _l("Le motif est trop long (%(max)d caractères au plus)."), max=REASON_MAX
        )
    instance = get_or_create_instance(_clean_domain(domain))
    previous = instance.policy
    instance.policy, instance.policy_reason = policy, reason
    record(
        actor,
        "federation.instance_policy_set",
        instance,
        domain=instance.domain,
        policy=policy,
        previous=previous,
        reason=reason,
    )
    return instance


def clear_instance_policy(actor, instance: Instance) -> Instance:
    """Take an instance off the allow-list or deny-list."""
    previous = instance.policy
    instance.policy, instance.policy_reason = None, ""
    record(
        actor,
        "federation.instance_policy_cleared",
        instance,
        domain=instance.domain,
        previous=previous,
    )
    return instance


def reset_instance_health(actor, instance: Instance) -> Instance:
    """Close the circuit and revive a dead instance: deliveries are tried again at once."""
    instance.failures = 0
    instance.failing_since = instance.dead_since = instance.circuit_open_until = None
    record(actor, "federation.instance_reset", instance, domain=instance.domain)
    from maillage.federation.transport.delivery import retry_host_now

    retry_host_now(instance.domain)
    return instance
