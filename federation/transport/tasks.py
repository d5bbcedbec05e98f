"""Celery tasks of the delivery outbox (thin wrappers around :mod:`.delivery`).

Each task pushes a fresh application context, hence a database session of its own: in eager mode
(tests) ``deliver_host`` runs from the ``after_commit`` hook of the caller's session, which can
emit no more SQL at that point.
"""

from __future__ import annotations

from flask import current_app

from maillage.federation.transport import delivery
from maillage.platform.celery_app import celery, periodic_task


@celery.task(name="maillage.federation.deliver_host")
def deliver_host(host: str) -> int:
    """Send the due deliveries of one destination host; safe to run any number of times."""
    with current_app.app_context():
        return delivery.deliver_due(host)


@periodic_task(60.0, "maillage.federation.sweep_deliveries")
def sweep_deliveries() -> int:
    """Fail expired rows, probe dead hosts, wake the hosts that have due deliveries."""
    with current_app.app_context():
        delivery.expire_old()
        delivery.probe_dead_hosts()
        hosts = delivery.due_hosts()
    for host in hosts:
        deliver_host.delay(host)
    return len(hosts)
