"""Entry point for Celery: ``celery -A maillage.platform.worker:celery worker`` (and ``beat``).

How the worker lives through broker outages is configured in celery_app.BROKER_RESILIENCE; what
restarts it when it exits anyway is its supervisor (``flask maillage serve``, or systemd with the
units in deploy/).
"""

import warnings

from celery.exceptions import CPendingDeprecationWarning
from celery.signals import worker_process_init

from maillage.platform.app import create_app
from maillage.platform.extensions import db

# worker_cancel_long_running_tasks_on_connection_loss is set on purpose (see
# celery_app.BROKER_RESILIENCE); Celery still warns about it at every lost connection.
warnings.filterwarnings(
    "ignore",
    message=r"(?s).*worker_cancel_long_running_tasks_on_connection_loss",
    category=CPendingDeprecationWarning,
)

app = create_app()
celery = app.extensions["celery"]


@worker_process_init.connect
def _forget_parent_connections(**_kwargs) -> None:
    """A forked pool process must not share the parent's database connections."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
