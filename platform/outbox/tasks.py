from maillage.platform.celery_app import celery
from maillage.platform.outbox.operations import process_pending


@celery.task(name="maillage.outbox.process")
def process_outbox() -> int:
    """Process pending outbox items; safe to run any number of times."""
    return process_pending()


@celery.task(name="maillage.outbox.sweep")
def sweep_outbox() -> int:
    """Periodic safety net: items whose wake-up message was lost or whose worker died."""
    return process_pending()
