"""The heartbeat task: beat sends it, any worker runs it (see models.WorkerHeartbeat)."""

from __future__ import annotations

import logging
import socket

from celery import current_task
from celery.signals import worker_ready

from maillage.platform.celery_app import periodic_task
from maillage.platform.health.operations import record_heartbeat

log = logging.getLogger(__name__)

#: Seconds between heartbeats; HEALTH_WORKER_MAX_SILENCE (180 by default) allows several misses.
HEARTBEAT_SECONDS = 30.0


@periodic_task(HEARTBEAT_SECONDS, name="maillage.worker.heartbeat")
def heartbeat() -> None:
    request = current_task.request if current_task else None
    record_heartbeat(getattr(request, "hostname", None) or socket.gethostname())


@worker_ready.connect
def _beat_at_start(**_kwargs) -> None:
    """A worker that starts says so at once, rather than at beat's next tick."""
    try:
        heartbeat.delay()
    except Exception:  # the broker is down: beat's next tick will do
        log.warning("could not queue the first heartbeat", exc_info=True)
