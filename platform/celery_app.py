"""The Celery application.

Tasks run inside a Flask app context and receive ids, never ORM objects.  Durability does not live
in the broker (the embedded SQLite transport and Redis both lose or redeliver work): tasks are
idempotent and process rows of the outbox table, which a periodic sweeper re-queues.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import has_app_context

celery = Celery("maillage", include=["maillage.platform.outbox.tasks"])


class AppContextTask(Task):
    """Run the task inside the Flask application's context (the worker creates the app once)."""

    abstract = True
    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, *args, **kwargs):
        # Eagerly run tasks (tests) execute inside the caller's app context: keep it.
        if has_app_context():
            return super().__call__(*args, **kwargs)
        with self.app.flask_app.app_context():
            return super().__call__(*args, **kwargs)


def _forget_connections() -> None:
    """Drop pooled broker connections and producers (Celery's close() keeps an idle pool)."""
    celery.close()
    celery._pool = None
    amqp = celery.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def init_celery(app) -> Celery:
    """Configure the shared Celery app from the Flask configuration."""
    broker = app.config["CELERY_BROKER_URL"]
    # One Celery app serves the process; a new Flask app (tests, CLI) must not publish through
    # connections pooled for the previous broker URL.
    _forget_connections()
    celery.conf.update(
        broker_url=broker,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_always_eager=app.config["CELERY_ALWAYS_EAGER"],
        task_eager_propagates=True,
        broker_connection_retry_on_startup=True,
        task_default_queue="maillage",
        timezone="UTC",
    )
    if broker.startswith("redis"):
        celery.conf.broker_transport_options = {"visibility_timeout": 3600}
    celery.Task = AppContextTask
    celery.flask_app = app
    app.extensions["celery"] = celery
    return celery


#: Periodic tasks registered by :func:`periodic_task`, given to beat by apply_beat_schedule.
BEAT_SCHEDULE: dict[str, dict] = {
    "outbox-sweeper": {"task": "maillage.outbox.sweep", "schedule": 60.0},
}


def periodic_task(schedule, name: str, **options):
    """Declare a Celery task that beat runs on ``schedule`` (seconds or a ``crontab``)."""

    def register(function):
        task = celery.task(name=name, **options)(function)
        BEAT_SCHEDULE[name] = {"task": name, "schedule": schedule}
        return task

    return register


def apply_beat_schedule() -> None:
    celery.conf.beat_schedule = dict(BEAT_SCHEDULE)
